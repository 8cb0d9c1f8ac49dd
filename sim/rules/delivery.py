"""M7 Promise and delivery: sales promise, the other departments deliver (F4, F10)."""

from __future__ import annotations

import numpy as np


def department_performance(
    capability: np.ndarray,
    coordination: np.ndarray,
    skill: np.ndarray,
    coverage: float,
    knowledge: np.ndarray,
    fit_gain: float,
    is_product: np.ndarray,
) -> np.ndarray:
    """Performance of each department on each tie, shape ``(..., D)`` (M7, F1, F10, F12).

    ``perf[d] = min(1, base[d]·(1 + φ·K))`` with

    - ``base[product] = c[j, product]``: the product is what every firm makes;
    - ``base[d] = κ_j·c[j,d] + (1 − κ_j)·θ·skill_s`` for every other
      department: a coordinated firm brings its departments, an uncoordinated
      one leaves the account's salesperson ``s`` to stand in for them.

    Args:
        capability: ``c`` of each tie's supplier, shape ``(..., D)``.
        coordination: ``κ`` of each tie's supplier, shape ``(...)``.
        skill: skill of the salesperson owning each tie (0 if none), shape ``(...)``.
        coverage: ``θ``.
        knowledge: ``K`` per tie, shape ``(...)``.
        fit_gain: ``φ``.
        is_product: boolean mask over departments, shape ``(D,)``.
    """
    kappa = coordination[..., None]
    stand_in = (1.0 - kappa) * coverage * skill[..., None]
    base = np.where(is_product, capability, kappa * capability + stand_in)
    return np.minimum(1.0, base * (1.0 + fit_gain * knowledge[..., None]))


def expected_performance(needs: np.ndarray, performance: np.ndarray) -> np.ndarray:
    """``q̂[i,j] = Σ_d w[i,d]·perf[i,j,d]`` (M7); both arguments have shape ``(..., D)``."""
    return np.einsum("...d,...d->...", needs, performance)


def capability_performance(
    capability: np.ndarray, knowledge: np.ndarray, fit_gain: float
) -> np.ndarray:
    """What the departments could deliver if fully coordinated: ``min(1, c·(1 + φ·K))`` (M7).

    This is what sales sells. The brief's ``q̂`` is "the firm's true expected
    performance"; here the salesperson's ``q̂`` assumes each department
    delivers its capability, and :func:`department_performance` lets only the
    share ``κ`` of it arrive. So ``κ`` is literally "how well the departments
    keep the promises sales make" (M1), and an uncoordinated firm breaks
    promises it never meant to inflate (F4). With ``κ = 1`` both forms agree.
    """
    return np.minimum(1.0, capability * (1.0 + fit_gain * knowledge[..., None]))


def promise(expected: np.ndarray, inflation: np.ndarray) -> np.ndarray:
    """The salesperson's promise ``E = min(1, q̂·(1 + ψ))`` (M7, F4)."""
    return np.minimum(1.0, expected * (1.0 + inflation))


def delivered(
    expected: np.ndarray,
    noise: float,
    uncertainty: float,
    trust: np.ndarray,
    partnership: np.ndarray,
    flexibility: float,
    standard_normal: np.ndarray,
) -> np.ndarray:
    """Delivered performance ``q`` (M7, M12).

    ``q = clip(q̂ + (noise + u·(1 − f·T·[partnership]))·ε, 0, 1)``:
    environmental uncertainty ``u`` adds variance, and a trusted partnership
    absorbs a share ``f·T`` of it (the value of flexibility, F8). A scheduled
    quality failure (M15) enters through a lower ``q̂``.
    """
    absorbed = flexibility * trust * partnership
    sd = noise + uncertainty * (1.0 - absorbed)
    return np.clip(expected + sd * standard_normal, 0.0, 1.0)
