"""Outcomes per supplier and per step: the books (M14) and the state of its ties.

:func:`close_books` runs at the end of every step; it fills each supplier's
``metrics`` dict, which the DataCollector reads. Every key in
:data:`SUPPLIER_METRICS` becomes a column of ``steps.parquet``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.rules import choice, economics
from sim.ties import Stage

if TYPE_CHECKING:
    from sim.model import RelationshipModel

SUPPLIER_METRICS: tuple[str, ...] = (
    "market_share",
    "share_of_wallet",
    "profit",
    "revenue",
    "cost",
    "retention",
    "accounts",
    "clv",
    "mean_trust",
    "mean_satisfaction",
    "mean_commitment",
    "mean_dependency",
    "mean_knowledge",
    "loyalty_person",
    "loyalty_firm",
    "person_bound_share",
    "transaction_cost",
    "buyer_cost",
    "strategic_partners",
    "silent_churn",
    "voiced_churn",
    "other_churn",
    "silent_episodes",
    "voiced_episodes",
    "active_ties",
    "price",
    "coordination",
    "salespeople",
    "health",
)


def _mean_over(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Column means of ``values`` over ``mask``; NaN for an empty column."""
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0, dtype=np.float64)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def _ratio_of_sums(part: np.ndarray, whole: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Column-wise ``Σ part / Σ whole`` over ``mask``; NaN where the whole is not positive."""
    num = np.where(mask, part, 0.0).sum(axis=0, dtype=np.float64)
    den = np.where(mask, whole, 0.0).sum(axis=0, dtype=np.float64)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def main_supplier(wallet: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Each buyer's main supplier (largest share of wallet among active ties), -1 if none."""
    held = np.where(active, wallet, 0.0)
    main = held.argmax(axis=1)
    main[held.max(axis=1) <= 0.0] = -1
    return main


def loyalty_order(model: RelationshipModel) -> float:
    """Mean over buyers of ``Σ_j p_ij²``: 1/n when buyers search, 1 when loyal (L1, §4)."""
    t = model.ties
    u = choice.utility(
        t.attraction(), model.firm.list_price, t.dependency, model.firm.health,
        model.buyer_price_sensitivity[:, None], model.cfg.buyers.switching_weight,
        model.cfg.market.financial_weight,
    )
    p = choice.choice_probabilities(u, model.buyer_beta[:, None], t.active)
    return float(np.mean((p * p).sum(axis=1)))


def close_books(model: RelationshipModel) -> None:
    """Revenue, cost, profit, retention, CLV and tie averages of every supplier (M14, F11)."""
    t, cfg, firm, ledger = model.ties, model.cfg, model.firm, model.ledger
    n_sup = t.trust.shape[1]
    active = t.active
    engaged = active & (t.stage >= Stage.EXPLORATION)

    main = main_supplier(t.wallet, active)
    prev = model.main_supplier
    had = np.bincount(prev[prev >= 0], minlength=n_sup)
    kept = np.bincount(prev[(prev >= 0) & (main == prev)], minlength=n_sup)
    retention = np.divide(kept, had, out=np.full(n_sup, np.nan), where=had > 0)
    accounts = np.bincount(main[main >= 0], minlength=n_sup)
    model.main_supplier = main

    headcount = model.salesforce.headcount(n_sup)
    n_active = active.sum(axis=0)
    cost = economics.supplier_costs(
        ledger.volume, cfg.market.unit_cost, headcount, cfg.sales.salary, firm.coordination,
        firm.overhead_per_account, n_active, ledger.contacts, cfg.relationship.contact_cost,
        ledger.investments, cfg.relationship.dependency_cost,
    )
    profit = ledger.revenue - cost
    margin = np.divide(profit, ledger.revenue, out=np.zeros(n_sup), where=ledger.revenue > 0)
    health = economics.financial_health(firm.health, margin, cfg.market.health_rate)
    per_account = np.divide(profit, accounts, out=np.zeros(n_sup), where=accounts > 0)
    clv = economics.lifetime_value(
        per_account, np.nan_to_num(retention), cfg.market.discount_rate
    )
    total_volume = ledger.volume.sum()

    columns = {
        "market_share": ledger.volume / total_volume if total_volume > 0 else np.zeros(n_sup),
        "share_of_wallet": _mean_over(t.wallet, engaged),
        "profit": profit,
        "revenue": ledger.revenue,
        "cost": cost,
        "retention": retention,
        "accounts": accounts,
        "clv": clv,
        "mean_trust": _mean_over(t.trust, active),
        "mean_satisfaction": _mean_over(t.satisfaction, engaged),
        "mean_commitment": _mean_over(t.commitment, active),
        "mean_dependency": _mean_over(t.dependency, active),
        "mean_knowledge": _mean_over(t.knowledge, active),
        "loyalty_person": _mean_over(t.loyalty_person, active),
        "loyalty_firm": _mean_over(t.loyalty_firm, active),
        "person_bound_share": _ratio_of_sums(t.loyalty_person, t.attraction(), active),
        "transaction_cost": np.divide(
            ledger.nonproductive_time, ledger.trade_volume, out=np.full(n_sup, np.nan),
            where=ledger.trade_volume > 0,
        ),
        "buyer_cost": ledger.buyer_cost,
        "strategic_partners": t.partner.sum(axis=0),
        "silent_churn": ledger.silent_churn,
        "voiced_churn": ledger.voiced_churn,
        "other_churn": ledger.other_churn,
        "silent_episodes": ledger.silent_episodes,
        "voiced_episodes": ledger.voiced_episodes,
        "active_ties": n_active,
        "price": firm.list_price,
        "coordination": firm.coordination,
        "salespeople": headcount,
        "health": health,
    }
    for supplier in model.supplier_list:
        j = supplier.index
        supplier.health = float(health[j])
        supplier.cash += float(profit[j])
        supplier.metrics = {k: float(v[j]) for k, v in columns.items()}
