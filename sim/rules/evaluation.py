"""M8 Evaluation: disconfirmation moves satisfaction, trust, attraction and commitment."""

from __future__ import annotations

import numpy as np


def satisfaction_target(quality: np.ndarray, disconfirmation: np.ndarray, weight: float):
    """``S* = clip(q + w·δ, 0, 1)``: satisfaction follows level and disconfirmation (M8)."""
    return np.clip(quality + weight * disconfirmation, 0.0, 1.0)


def update_satisfaction(
    satisfaction: np.ndarray,
    quality: np.ndarray,
    disconfirmation: np.ndarray,
    weight: float,
    rate: float,
) -> np.ndarray:
    """``S ← S + r·(S* − S)``: satisfaction moves toward :func:`satisfaction_target` (M8)."""
    target = satisfaction_target(quality, disconfirmation, weight)
    return satisfaction + rate * (target - satisfaction)


def update_trust(
    trust: np.ndarray,
    disconfirmation: np.ndarray,
    gain: float,
    loss: float,
    tolerance: float,
) -> np.ndarray:
    """Asymmetric trust update with a dead band (M8, F4).

    ``T' = T + a⁺·max(δ, 0)·(1 − T) − a⁻·max(−δ − ν, 0)·T``

    The brief's form (``ν = 0``) with noise and ``a⁻ > a⁺`` erodes trust in
    every honest firm: ``δ`` is noise around 0 and its losses weigh more, so
    trust has a ceiling set by the noise, not by conduct. The zone of
    tolerance (Parasuraman, Berry & Zeithaml 1991) is a *dead band*: a
    shortfall up to ``ν`` counts as a promise kept and moves trust neither
    way; an over-delivery still builds it. Shifting ``δ`` by ``ν`` instead
    would let small broken promises *raise* trust. Promises broken by more
    than ``ν`` (inflated ``ψ``, uncoordinated departments, F4) destroy trust
    at ``a⁻``.
    """
    gained = gain * np.maximum(disconfirmation, 0.0) * (1.0 - trust)
    lost = loss * np.maximum(-disconfirmation - tolerance, 0.0) * trust
    return np.clip(trust + gained - lost, 0.0, 1.0)


def haggling_erodes(trust: np.ndarray, adversarial: np.ndarray, erosion: float) -> np.ndarray:
    """An adversarial buyer's haggling wears trust away: ``T ← T − e·T·[adversarial]`` (F8).

    Buyers who pit suppliers against each other are, to the supplier, a party
    that will exploit its vulnerabilities (Dyer & Chu's definition of trust,
    ``001_…``): every squeezed purchase costs a share ``e`` of the trust.
    """
    return trust * (1.0 - erosion * adversarial)


def payoff(
    quality: np.ndarray,
    price_paid: np.ndarray,
    value_per_quality: float,
    constant: float | None,
) -> np.ndarray:
    """Realised surplus ``π`` of a purchase (M8): ``v·q − price`` or a constant (WKH, §4)."""
    if constant is not None:
        return np.full_like(quality, constant)
    return value_per_quality * quality - price_paid


def update_attraction(
    loyalty_person: np.ndarray,
    loyalty_firm: np.ndarray,
    gain: np.ndarray,
    memory: np.ndarray | float,
    person_share: np.ndarray,
) -> None:
    """WKH attraction split into person- and firm-bound loyalty, in place (M8, F2, L1).

    ``Lp ← (1−γ)·Lp + ρ·π·[bought]``, ``Lf ← (1−γ)·Lf + (1−ρ)·π·[bought]``;
    their sum is exactly ``J ← (1−γ)·J + π·[bought]`` of Weisbuch, Kirman &
    Herreiner (2000). ``gain`` is ``π`` on the ties bought from and 0 elsewhere.
    """
    keep = 1.0 - memory
    loyalty_person *= keep
    loyalty_person += person_share * gain
    loyalty_firm *= keep
    loyalty_firm += (1.0 - person_share) * gain


def update_wallet(wallet: np.ndarray, orders: np.ndarray, memory: float) -> None:
    """Share of wallet, in place, for the buyers who bought this step (M4, F11).

    ``W[i,j] ← W[i,j] + m·(o[i,j] / Σ_k o[i,k] − W[i,j])``: an exponential
    moving average of the shares of this step's orders ``o``.
    """
    total = orders.sum(axis=1, keepdims=True)
    bought = np.flatnonzero(total[:, 0] > 0)
    held = wallet[bought]
    held += memory * (orders[bought] / total[bought] - held)
    wallet[bought] = held


def update_commitment(commitment, trust, satisfaction, rate: float) -> np.ndarray:
    """``C ← C + r·(T·S − C)``: commitment grows from trust and satisfaction (M8, F9)."""
    return commitment + rate * (trust * satisfaction - commitment)


def serious_failure(quality: np.ndarray, tolerance: np.ndarray | float) -> np.ndarray:
    """A delivery below the buyer's tolerance is a serious failure (M8, F9)."""
    return quality < tolerance
