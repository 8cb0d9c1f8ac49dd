"""M11 Transaction cost: trust saves non-productive face-to-face time (F7, L4)."""

from __future__ import annotations

import numpy as np


def nonproductive_share(trust: np.ndarray, at_zero_trust: float, slope: float) -> np.ndarray:
    """``τ(T) = τ₀ − slope·T``; with 0.5 and 0.375: 0.5 at no trust, 0.125 at full (F7)."""
    return at_zero_trust - slope * trust


def transaction_cost(
    volume: np.ndarray,
    trust: np.ndarray,
    share: np.ndarray,
    cost_per_share: float,
    inspection_threshold: float,
    inspection_cost: float,
) -> np.ndarray:
    """A buyer's procurement cost of a purchase (M11).

    ``cost = volume·(c_τ·τ + c_insp·[T < threshold])``: inspection is skipped
    once trust is above the threshold.
    """
    return volume * (cost_per_share * share + inspection_cost * (trust < inspection_threshold))
