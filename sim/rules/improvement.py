"""M12 Joint improvement: trusted partners share information and improve together (F8)."""

from __future__ import annotations

import numpy as np


def qualifies(trust: np.ndarray, bought: np.ndarray, partnership, threshold: float):
    """Ties that share information this step: bought, trusted, not adversarial (M12, F8)."""
    return bought & (trust > threshold) & partnership


def capability_gain(
    capability: np.ndarray, improving_needs: np.ndarray, mean_volume: float, rate: float
) -> np.ndarray:
    """Supplier capability gained from joint work, ``(M, D)`` (M12).

    ``Δc[j,d] = rate·(1 − c[j,d])·Σ_i v_i·w[i,d]·[qualifies] / V̄``, where
    ``improving_needs[j,d] = Σ_i v_i·w[i,d]`` over the qualifying ties and
    ``V̄`` (``mean_volume``) is the mean volume shipped per supplier, so the gain does not depend
    on market size.
    """
    if mean_volume <= 0:
        return np.zeros_like(capability)
    return rate * (1.0 - capability) * improving_needs / mean_volume


def openness(
    trust: np.ndarray, adversarial: np.ndarray, trust_weight: float, withholding: float
) -> np.ndarray:
    """How much of what a seller could learn from an interaction the buyer shares (M12, F8, F10).

    ``o = (1 − w + w·T)·(1 − h·[adversarial])``: a share ``w`` of the
    learning needs trust, and a buyer who pits suppliers against each other
    withholds a share ``h`` of its information (supplier information and
    design ideas are what adversarial buyers lose, ``001_…``). The knowledge
    gained is ``K += r·o·(1 − K)``.
    """
    return (1.0 - trust_weight + trust_weight * trust) * (1.0 - withholding * adversarial)
