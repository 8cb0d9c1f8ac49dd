"""M5 Contact and the contact side of M9 (monitoring silent accounts)."""

from __future__ import annotations

import numpy as np


def contact_priority(volume: np.ndarray, trust: np.ndarray, silence: np.ndarray) -> np.ndarray:
    """Salespeople serve the largest, most at-risk accounts first (M5).

    ``priority = volume · (1 + (1 − T) + min(silence / 10, 1))``, where
    ``silence`` is the number of steps since the last contact.
    """
    return volume * (1.0 + (1.0 - trust) + np.minimum(silence / 10.0, 1.0))


def top_per_owner(
    owner: np.ndarray, priority: np.ndarray, capacity: np.ndarray, tiebreak: np.ndarray
) -> np.ndarray:
    """Indices of the ``capacity[o]`` highest-priority entries of each owner ``o`` (M5).

    Args:
        owner: owner index of each candidate (1-D, ≥ 0).
        priority: priority of each candidate.
        capacity: contacts each owner can make this step, indexed by owner.
        tiebreak: uniform random numbers that order equal priorities at random.

    Returns:
        Positions (into the 1-D inputs) of the candidates contacted.
    """
    if owner.size == 0:
        return np.empty(0, dtype=np.intp)
    order = np.lexsort((tiebreak, -priority, owner))
    sorted_owner = owner[order]
    first = np.searchsorted(sorted_owner, sorted_owner, side="left")
    rank = np.arange(order.size) - first
    return order[rank < capacity[sorted_owner]]


def silent_too_long(last_contact: np.ndarray, now: int, after: np.ndarray) -> np.ndarray:
    """Accounts a monitoring firm must call: no contact for more than ``m`` steps (M9, F5).

    ``after`` is the firm's ``m`` (0 means the firm has no monitoring policy).
    """
    return (after > 0) & (now - last_contact > after)


def learn(knowledge: np.ndarray, rate: float) -> np.ndarray:
    """Each interaction teaches the seller about the buyer: ``K + r·(1 − K)`` (M5, F10)."""
    return knowledge + rate * (1.0 - knowledge)
