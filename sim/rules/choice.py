"""M6 Choice: which suppliers get a buyer's order this step."""

from __future__ import annotations

import numpy as np


def utility(
    attraction: np.ndarray,
    price: np.ndarray,
    dependency: np.ndarray,
    health: np.ndarray,
    price_sensitivity: np.ndarray | float,
    switching_weight: float,
    financial_weight: float,
) -> np.ndarray:
    """Deterministic part of the logit utility (M6, F6).

    ``U[i,j] = J[i,j] − λ_i·price[j] + σ·D[i,j] + χ·health[j]``; the last term
    is the buyer's regard for the supplier's financial health (F6), 0 in WKH.
    """
    return attraction - price_sensitivity * price + switching_weight * dependency + (
        financial_weight * health
    )


def gumbel_scores(
    utility: np.ndarray, beta: np.ndarray | float, active: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Perturbed scores ``β·U + Gumbel`` with inactive ties at −∞ (M6).

    The arg-max of these scores is a draw from ``P(j) ∝ exp(β·U[i,j])``
    over the active ties; the top ``k`` are a draw of ``k`` suppliers without
    replacement from the same logit (the Gumbel-top-k trick).
    """
    dtype = np.result_type(utility, np.float32)  # integer utilities must not truncate the noise
    gumbel = rng.gumbel(size=utility.shape).astype(dtype, copy=False)
    return np.where(active, beta * utility + gumbel, -np.inf)


def choice_probabilities(
    utility: np.ndarray, beta: np.ndarray | float, active: np.ndarray
) -> np.ndarray:
    """Logit probabilities ``P(j) ∝ exp(β·U[i,j])`` over the active ties (M6)."""
    z = np.where(active, beta * utility, -np.inf)
    top = np.max(z, axis=-1, keepdims=True)
    w = np.where(active, np.exp(z - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = w.sum(axis=-1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def allocate_orders(
    scores: np.ndarray,
    need: np.ndarray,
    volume: np.ndarray,
    adversarial: np.ndarray,
    quotes: int,
    partner: np.ndarray,
    partner_share: float,
) -> np.ndarray:
    """Order volume per tie this step (M6, F8, F9).

    - A partnership buyer gives its strategic partner ``partner_share`` of the
      volume first (priority, F9) and the rest, or all of it when it has no
      partner, to the supplier with the highest score (a logit draw).
    - An adversarial buyer solicits quotes and splits its volume equally over
      the ``quotes`` best-scoring suppliers (F8).

    Args:
        scores: output of :func:`gumbel_scores`, shape ``(..., M)``.
        need, volume, adversarial: per buyer, with a trailing axis of size 1.
        partner: strategic-partner flags of the ties.

    Returns:
        Volume ordered from each supplier, same shape as ``scores``.
    """
    n_sup = scores.shape[-1]
    k = min(quotes, n_sup)
    finite = np.isfinite(scores)
    # the k best suppliers of each buyer, best first
    top = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    top_ok = np.take_along_axis(finite, top, axis=-1)
    best = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(best, top[..., :1], top_ok[..., :1], axis=-1)
    split = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(split, top, top_ok, axis=-1)
    n_split = np.maximum(split.sum(axis=-1, keepdims=True), 1)

    has_partner = (partner & finite).any(axis=-1, keepdims=True)
    partner_part = np.where(has_partner, partner_share, 0.0)
    loyal_orders = (partner & finite) * partner_part + best * (1.0 - partner_part)
    adversarial_orders = split / n_split
    share = np.where(adversarial, adversarial_orders, loyal_orders)
    return (share * (need * volume)).astype(scores.dtype, copy=False)
