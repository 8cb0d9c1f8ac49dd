"""Suppliers that learn (L2, M1): reinforcement of their own choices, imitation of rivals.

Two well-known rules from the learning-in-games literature, as Kirman &
Vriend (2001) use for the sellers of the Marseille fish market:

* **Roth–Erev reinforcement** (Roth & Erev 1995, GEB 8:164–212; Erev & Roth
  1998, AER 88(4):848–881, with a reference point): a supplier holds a
  propensity ``q[k]`` for each option ``k`` of a choice (a price on a menu, a
  serving rule, a strategy), picks ``k`` with probability ``q[k]/Σq``, and
  after the step reinforces the option it played with its profit relative to
  an aspiration.
* **Proportional imitation** (Schlag 1998, JET 78:130–156): a supplier looks at
  one random rival and adopts its strategy with a probability proportional to
  how much more the rival earned; in a large population the strategy shares
  then follow the replicator dynamics.

Every function works on one supplier's row or on all suppliers at once (the
last axis runs over options); none draws random numbers itself.
"""

from __future__ import annotations

import numpy as np

from sim.rules.choice import serving_order


def probabilities(propensity: np.ndarray) -> np.ndarray:
    """Roth–Erev choice probabilities ``p[k] = q[k] / Σ_l q[l]`` along the last axis."""
    return propensity / propensity.sum(axis=-1, keepdims=True)


def pick(propensity: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """The option each row plays: ``k`` with probability ``q[k]/Σq``, by inverse CDF.

    ``uniform`` holds one U(0,1) draw per row (shape of ``propensity`` without
    its last axis).
    """
    cumulative = np.cumsum(propensity, axis=-1)
    threshold = uniform[..., None] * cumulative[..., -1:]
    chosen = (cumulative <= threshold).sum(axis=-1)
    return np.minimum(chosen, propensity.shape[-1] - 1)


def reward(profit: np.ndarray, aspiration: np.ndarray, deviation: np.ndarray,
           sensitivity: float) -> np.ndarray:
    """Reinforcement of this step's choices: ``R = s·(π − ρ)/σ`` (Erev & Roth 1998).

    ``π`` is the step's profit, ``ρ`` the supplier's aspiration (its recent
    profit, :func:`follow`) and ``σ`` its typical deviation from it, so that
    ``R`` is scale free: the same learning speed in a market of 400 buyers or
    of 10,000. A profit above the aspiration reinforces the options played, a
    profit below weakens them. ``R = 0`` where ``σ`` is 0 (nothing learned yet).
    """
    gap = profit - aspiration
    return np.divide(sensitivity * gap, deviation, out=np.zeros_like(gap), where=deviation > 0)


def follow(level: np.ndarray, value: np.ndarray, rate: float) -> np.ndarray:
    """An exponential moving average, ``x ← (1 − w)·x + w·v`` (aspiration, deviation)."""
    return (1.0 - rate) * level + rate * value


def reinforce(propensity: np.ndarray, chosen: np.ndarray, reinforcement: np.ndarray,
              forgetting: float, experimentation: float, floor: float) -> np.ndarray:
    """Roth–Erev update of the propensities (Erev & Roth 1998, eq. 1–2).

    ``q[k] ← max(ν, (1 − φ)·q[k] + E[k])`` with ``E[k] = (1 − ε)·R`` for the
    option played and ``ε·R/(K − 1)`` for each of the ``K − 1`` others
    (experimentation, or generalisation to neighbouring options); ``φ`` is
    forgetting (recency) and ``ν`` the floor that keeps every option possible.

    Args:
        propensity: ``(..., K)`` propensities.
        chosen: index of the option played, shape ``(...)``.
        reinforcement: ``R``, shape ``(...)``.
    """
    k = propensity.shape[-1]
    played = np.arange(k) == chosen[..., None]
    share = np.where(played, 1.0 - experimentation,
                     experimentation / (k - 1) if k > 1 else 0.0)
    updated = (1.0 - forgetting) * propensity + share * reinforcement[..., None]
    return np.maximum(updated, floor)


def imitation_probability(own: np.ndarray, rival: np.ndarray, spread: float) -> np.ndarray:
    """Schlag's proportional imitation: ``P(copy) = max(0, Π_r − Π_j)/(Π_max − Π_min)``.

    ``Π`` is profit over the last ``k`` steps and the denominator the range of
    it across the market (0 when every supplier earned the same: nobody copies).
    """
    gain = np.maximum(rival - own, 0.0)
    return gain / spread if spread > 0 else np.zeros_like(gain)


def loyal(wallet: np.ndarray, threshold: float) -> np.ndarray:
    """Loyal buyers of a seller: share of wallet above ``threshold`` (L2).

    A searcher spreads its purchases; a loyal buyer gives most of them to one
    seller (Kirman & Vriend's measure of loyalty is the same concentration).
    """
    return wallet > threshold


def class_price(searcher_price: np.ndarray, loyal_price: np.ndarray,
                is_loyal: np.ndarray) -> np.ndarray:
    """Unit list price each buyer faces: the seller's loyal-buyer price or its searcher price."""
    return np.where(is_loyal, loyal_price, searcher_price)


def serving_order_by(rule: str, partner: np.ndarray, attraction: np.ndarray,
                     volume: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Positions of the waiting orders in serving order under a seller's rule (L2).

    ``loyalty``: strategic partners, then by attraction ``J`` (the rule of
    :func:`sim.rules.choice.serving_order`); ``volume``: largest order first;
    ``first_come``: in arrival order, which is random. Ties broken at random.
    """
    if rule == "loyalty":
        return serving_order(partner, attraction, tiebreak)
    if rule == "volume":
        return np.lexsort((tiebreak, -volume))
    if rule == "first_come":
        return np.argsort(tiebreak, kind="stable")
    raise ValueError(f"unknown serving rule {rule!r}")
