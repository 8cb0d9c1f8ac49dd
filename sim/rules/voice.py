"""M9 Voice, silence and entropy (F5)."""

from __future__ import annotations

import numpy as np


def voice_or_silence(
    dissatisfied: np.ndarray, voice_propensity: np.ndarray | float, uniform: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split dissatisfied ties into complaints and silence (M9, F5).

    Returns ``(complains, silent)``: a dissatisfied buyer complains with its
    voice propensity, otherwise it stays silent.
    """
    complains = dissatisfied & (uniform < voice_propensity)
    return complains, dissatisfied & ~complains


def churn_hazard(
    silent: np.ndarray,
    complaint: np.ndarray,
    commitment: np.ndarray,
    dependency: np.ndarray,
    silent_hazard: float,
    voiced_hazard: float,
    binding: float,
) -> np.ndarray:
    """Per-step probability that a tie is dissolved by the buyer (M9, F5, M10, F6).

    ``h = (h_silent·[silent] + h_voiced·[complaint pending])·(1 − C)·(1 − b·D)``:
    commitment and dependency hold the buyer back (a buyer with the
    supplier's terminals in its offices cannot walk away, ``001_…``). With
    equal hazards, silence is deadlier only because a complaint can be
    answered and a silent grievance cannot.
    """
    base = silent * silent_hazard + complaint * voiced_hazard
    return base * (1.0 - commitment) * (1.0 - binding * dependency)


def failure_exit(probability: float, dependency: np.ndarray, binding: float) -> np.ndarray:
    """Probability that a serious failure ends the tie: ``p·(1 − b·D)`` (M13, M10, F6)."""
    return probability * (1.0 - binding * dependency)


def recover_trust(trust: np.ndarray, grievance: np.ndarray, recovery: float) -> np.ndarray:
    """An answered complaint restores a share of the trust lost: ``T + r·g`` (M9)."""
    return np.minimum(1.0, trust + recovery * grievance)


def decay_toward(value: np.ndarray, rest: float, rate: float, mask: np.ndarray) -> None:
    """Entropy without contact, in place: ``x ← x − ε·(x − x₀)`` where ``mask`` (M9, F5).

    ``mask`` is a boolean array shaped like ``value`` or, for a C-contiguous
    ``value``, the flat indices of its set entries (``np.flatnonzero(mask)``),
    so that one mask can serve several arrays (a gather and a
    scatter are ~10× cheaper than boolean-mask indexing or ``where=``).
    """
    if mask.dtype == bool and not value.flags.c_contiguous:
        value[mask] -= rate * (value[mask] - rest)
        return
    at = np.flatnonzero(mask) if mask.dtype == bool else mask
    flat = value.reshape(-1)
    x = flat[at]
    flat[at] = x - rate * (x - rest)
