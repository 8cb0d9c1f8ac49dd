"""M5 Contact and the contact side of M9 (monitoring silent accounts)."""

from __future__ import annotations

import numpy as np


def contact_priority(
    volume: np.ndarray,
    trust: np.ndarray,
    silence: np.ndarray,
    dependency: np.ndarray,
    risk_weight: float,
    silence_steps: int,
    dependency_weight: float,
) -> np.ndarray:
    """Salespeople serve the largest, most at-risk and most invested accounts first (M5, F6).

    ``priority = volume · (1 + w_r·(1 − T) + min(silence / s, 1) + w_D·D)``, where
    ``silence`` is the number of steps since the last contact and ``D`` the
    dependency the firm has invested in (mutual dependency: the seller, too,
    is bound to the accounts it invested in, ``001_…``).
    """
    return volume * (1.0 + risk_weight * (1.0 - trust)
                     + np.minimum(silence / silence_steps, 1.0) + dependency_weight * dependency)


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
    order = _order_by_owner_and_priority(owner, priority)
    if order is None:
        order = np.lexsort((tiebreak, -priority, owner))
    sorted_owner = owner[order]
    first = np.searchsorted(sorted_owner, sorted_owner, side="left")
    rank = np.arange(order.size) - first
    return order[rank < capacity[sorted_owner]]


def _order_by_owner_and_priority(owner: np.ndarray, priority: np.ndarray) -> np.ndarray | None:
    """The order of ``lexsort((tiebreak, -priority, owner))`` without the slow three-key sort.

    Sort by priority (descending), then stably by owner with 16-bit radix
    passes (low half, then high half of the owner index). Where an owner has
    two equal priorities the tiebreak would be needed: then this returns
    None and the caller uses ``lexsort``. A speed path only: when it
    returns an order, it is exactly the ``lexsort`` order.
    """
    if owner.min() < 0 or owner.max() >= 2**32 or not np.all(np.isfinite(priority)):
        return None
    order = np.argsort(-priority)
    shifts = (0, 16) if owner.max() >= 2**16 else (0,)
    owner = owner.astype(np.int64)
    for shift in shifts:
        half = ((owner[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(half, kind="stable")]
    ranked_owner, ranked_priority = owner[order], priority[order]
    same = (ranked_owner[1:] == ranked_owner[:-1]) & (ranked_priority[1:] == ranked_priority[:-1])
    return None if same.any() else order


def silent_too_long(last_contact: np.ndarray, now: int, after: np.ndarray) -> np.ndarray:
    """Accounts a monitoring firm must call: no contact for more than ``m`` steps (M9, F5).

    ``after`` is the firm's ``m`` (0 means the firm has no monitoring policy).
    """
    return (after > 0) & (now - last_contact > after)


def learn(knowledge: np.ndarray, rate: float) -> np.ndarray:
    """Each interaction teaches the seller about the buyer: ``K + r·(1 − K)`` (M5, F10)."""
    return knowledge + rate * (1.0 - knowledge)
