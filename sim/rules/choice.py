"""M6 Choice: which suppliers get a buyer's order this step."""

from __future__ import annotations

import numpy as np

from sim.ties import nonzero


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
    u = attraction - price_sensitivity * price
    if u.shape != np.shape(dependency) or u.dtype != np.result_type(u, dependency):
        return u + switching_weight * dependency + financial_weight * health
    u += switching_weight * dependency  # in place, same order of operations
    u += financial_weight * health
    return u


def bonded_attraction(
    loyalty_person: np.ndarray, loyalty_firm: np.ndarray, person_weight: float
) -> np.ndarray:
    """Attraction as the buyer weighs it in choice: ``J* = Lf + (1 + ω)·Lp`` (M6, L3).

    Loyalty vested in the salesperson drives sales growth more than loyalty to
    the firm (Palmatier, Scheer & Steenkamp 2007): while the salesperson
    stays, each unit of ``Lp`` weighs ``1 + ω``. It leaves with them
    (:func:`sim.salesforce.leave`). ``ω = 0`` gives the WKH ``J = Lp + Lf``.
    """
    if person_weight == 0.0:
        return loyalty_person + loyalty_firm
    return loyalty_firm + (1.0 + person_weight) * loyalty_person


def price_weight(
    price_sensitivity: np.ndarray | float, loyalty_person: np.ndarray, premium: float
) -> np.ndarray | float:
    """Price sensitivity of each tie: ``λ·exp(−η·Lp)`` (M6, L3).

    Salesperson-owned loyalty raises the willingness to pay a price premium
    (Palmatier et al. 2007): the more the buyer is bound to the person, the
    less a higher price deters it. ``η = 0`` gives the brief's ``λ``. A
    negative bond (purchases at a loss) brings no premium: ``Lp`` counts from 0.
    """
    if premium == 0.0:
        return price_sensitivity
    return price_sensitivity * np.exp(-premium * np.maximum(loyalty_person, 0.0))


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
    scores = beta * utility
    if scores.dtype != np.result_type(scores, gumbel) or scores.shape != gumbel.shape:
        return np.where(active, scores + gumbel, -np.inf)
    scores += gumbel  # in place: one full-matrix temporary less
    return np.where(active, scores, -np.inf)


def choice_probabilities(
    utility: np.ndarray, beta: np.ndarray | float, active: np.ndarray
) -> np.ndarray:
    """Logit probabilities ``P(j) ∝ exp(β·U[i,j])`` over the active ties (M6)."""
    w = np.where(active, beta * utility, -np.inf)
    if w.ndim == 2 and w.shape[1] <= 8:  # few columns: a column-wise maximum is much faster
        top = w[:, :1].copy()
        for j in range(1, w.shape[1]):
            np.maximum(top, w[:, j : j + 1], out=top)
    else:
        top = np.max(w, axis=-1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    w -= top  # from here on in place
    np.exp(w, out=w)  # exp(−∞) = 0 on inactive ties
    total = w.sum(axis=-1, keepdims=True)
    np.divide(w, total, out=w, where=total > 0)
    return w


def price_paid(list_price: np.ndarray, haggle_discount: float, adversarial: np.ndarray):
    """Unit price paid: adversarial buyers haggle ``d`` off the list price (M6, F8).

    ``p_paid = p_list·(1 − d·[adversarial])``.
    """
    return list_price * (1.0 - haggle_discount * adversarial)


def serving_order(partner: np.ndarray, attraction: np.ndarray, tiebreak: np.ndarray):
    """Who is served first when stock is short (L2, Kirman & Vriend 2001).

    Strategic partners first, then by attraction ``J`` (loyal buyers), ties
    broken at random. Returns the positions in serving order.
    """
    return np.lexsort((tiebreak, -attraction, ~partner))


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
    shape, n_sup = scores.shape, scores.shape[-1]
    k = min(quotes, n_sup)
    flat = scores.reshape(-1, n_sup)
    rows = flat.shape[0]

    def per_buyer(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a)
        return a.reshape(rows) if a.size == rows else np.broadcast_to(a, (*shape[:-1], 1)).ravel()

    amount = per_buyer(need * volume)  # the volume a buyer orders this step (0 without need)
    adversarial = per_buyer(adversarial).astype(bool)
    finite = np.isfinite(flat)
    out = np.zeros(flat.shape, dtype=scores.dtype)

    def put(b: np.ndarray, s: np.ndarray, share: np.ndarray) -> None:
        if b.size:
            out[b, s] = (share * amount[b]).astype(scores.dtype, copy=False)

    loyal = np.flatnonzero(~adversarial)
    if loyal.size:
        _loyal_orders(put, flat[loyal], finite[loyal], partner.reshape(-1, n_sup)[loyal], loyal,
                      partner_share)
    adv = np.flatnonzero(adversarial)
    if adv.size:
        _split_orders(put, flat[adv], finite[adv], adv, k)
    return out.reshape(shape)


def _loyal_orders(put, scores, finite, partner, buyers, partner_share: float) -> None:
    """Partnership buyers: the partner's share first, the rest to the best score (M6, F9).

    The best score is the arg-max (the first of a stable descending sort).
    """
    held = partner & finite
    partner_part = np.where(held.any(axis=-1), partner_share, 0.0)
    best = np.argmax(scores, axis=-1)
    best_ok = finite[np.arange(buyers.size), best]
    hb, hs = nonzero(held)
    also_best = best_ok[hb] & (best[hb] == hs)
    put(buyers[hb], hs, partner_part[hb] + np.where(also_best, 1.0 - partner_part[hb], 0.0))
    only_best = best_ok & ~held[np.arange(buyers.size), best]
    put(buyers[only_best], best[only_best], 1.0 - partner_part[only_best])


def _split_orders(put, scores, finite, buyers, k: int) -> None:
    """Adversarial buyers: an equal split over the ``k`` best quotes (M6, F8)."""
    top = np.argsort(-scores, axis=-1, kind="stable")[:, :k]
    top_ok = np.take_along_axis(finite, top, axis=-1)
    n_split = np.maximum(top_ok.sum(axis=-1), 1)
    ab, ak = nonzero(top_ok)
    put(buyers[ab], top[ab, ak], 1.0 / n_split[ab])
