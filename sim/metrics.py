"""Outcomes per supplier and per step: the books (M14) and the state of the ties.

:func:`keep_books` runs at the end of every step (profit, cash, financial
health, each buyer's main supplier); :func:`measure` fills the outcomes the
DataCollector reads: ``market.firms.metrics`` (one array per key of
:data:`SUPPLIER_METRICS`, a column of ``steps.parquet`` each) and
``market.outcomes`` (:data:`MARKET_METRICS`). Both read and write the market
state only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.rules import choice, economics
from sim.ties import Stage

if TYPE_CHECKING:
    from sim.config import Config
    from sim.market import Market

SUPPLIER_METRICS: tuple[str, ...] = (
    "market_share",
    "share_of_wallet",
    "profit",
    "revenue",
    "service_revenue",
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
    "buyer_value",
    "unit_price",
    "departures",
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


#: Market-wide outcomes (model reporters): ``summary.json``'s ``market`` block.
MARKET_METRICS: tuple[str, ...] = ("mean_trust", "loyalty_order")


class Columns:
    """Column sums over a fixed mask, gathered once.

    The set entries of ``mask`` are found once; each :meth:`mean` then
    gathers them and sums per column with ``np.bincount``, in row order, in
    float64: the same sums as ``np.where(mask, x, 0).sum(axis=0, dtype=float64)``
    at a fraction of the cost (no full-matrix temporaries).
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.n = mask.shape[1]
        self.at = np.flatnonzero(mask)
        self.col = self.at % self.n
        self.count = np.bincount(self.col, minlength=self.n)

    def subset(self, keep: np.ndarray) -> Columns:
        """The same sums over the entries ``keep`` (a boolean over :attr:`at`) of this mask."""
        sub = object.__new__(Columns)
        sub.n, sub.at, sub.col = self.n, self.at[keep], self.col[keep]
        sub.count = np.bincount(sub.col, minlength=self.n)
        return sub

    def take(self, values: np.ndarray) -> np.ndarray:
        """The masked entries of ``values``, in row-major order."""
        return values.reshape(-1)[self.at]

    def sum(self, values: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
        """Column sums over the mask (float64) of ``values`` or of the sum of a tuple of arrays."""
        if isinstance(values, tuple):
            taken = self.take(values[0])
            for more in values[1:]:
                taken = taken + self.take(more)
        else:
            taken = self.take(values)
        return np.bincount(self.col, weights=taken, minlength=self.n)  # summed in float64

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Column means of ``values`` over the mask; NaN for an empty column."""
        total = self.sum(values)
        return np.divide(total, self.count, out=np.full(total.shape, np.nan),
                         where=self.count > 0)

    def ratio(self, part: np.ndarray, whole: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
        """Column-wise ``Σ part / Σ whole``; NaN where the whole is not positive."""
        num, den = self.sum(part), self.sum(whole)
        return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def main_supplier(wallet: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Each buyer's main supplier (largest share of wallet among active ties), -1 if none."""
    held = np.where(active, wallet, 0.0)
    main = held.argmax(axis=1)
    main[np.take_along_axis(held, main[:, None], axis=1)[:, 0] <= 0.0] = -1  # max = value at argmax
    return main


def mean_trust(market: Market, live: Columns) -> float:
    """Mean trust over all active ties (NaN without any)."""
    return float(live.take(market.ties.trust).mean()) if live.at.size else float("nan")


def loyalty_order(market: Market, cfg: Config, live: Columns) -> float:
    """Mean over buyers of ``Σ_j p_ij²``: 1/n when buyers search, 1 when loyal (L1, §4).

    ``p_ij`` is the logit choice probability (:func:`sim.rules.choice.choice_probabilities`).
    Inactive ties have ``p = 0``, so it is computed on each buyer's active ties
    only, packed to the left of a ``(buyers, k)`` block (``k`` = most active ties
    of any buyer, a few instead of all suppliers). Float32 row sums then add
    the same terms in another order: the result can differ from the
    full-matrix form in the last bits (relative 1e-6).
    """
    t, buyers, policy = market.ties, market.buyers, market.policy
    n, m = t.active.shape
    at, cols = live.at, live.col
    if at.size == 0:
        return 0.0
    rows = at // m
    count = np.bincount(rows, minlength=n)
    k = int(count.max())
    slot = np.arange(at.size) - np.repeat(np.cumsum(count) - count, count)
    packed = np.zeros((n, k), dtype=bool)
    packed[rows, slot] = True

    u = np.zeros((n, k), dtype=t.loyalty_person.dtype)
    person = t.loyalty_person.reshape(-1)[at]
    u[rows, slot] = choice.utility(  # elementwise, so computed on the active ties and packed
        choice.bonded_attraction(person, t.loyalty_firm.reshape(-1)[at], cfg.sales.person_weight),
        policy.list_price[cols], t.dependency.reshape(-1)[at], policy.health[cols],
        choice.price_weight(buyers.price_sensitivity[rows], person, cfg.sales.person_premium),
        cfg.buyers.switching_weight, cfg.market.financial_weight,
    )
    p = choice.choice_probabilities(u, buyers.beta[:, None], packed)
    p *= p
    return float(np.mean(p.sum(axis=1)))


@dataclass
class Books:
    """One step's books per supplier (M14), from :func:`keep_books`."""

    cost: np.ndarray
    profit: np.ndarray
    retention: np.ndarray
    accounts: np.ndarray
    clv: np.ndarray
    headcount: np.ndarray
    active_accounts: np.ndarray
    health: np.ndarray


def keep_books(market: Market, cfg: Config, live: Columns | None = None) -> Books:
    """M14 (F11): revenue, cost, profit, retention and CLV; cash, health and main suppliers.

    ``cost`` is :func:`sim.rules.economics.supplier_costs` plus the one-off
    costs booked by this step's events (M15); health follows the margin
    (:func:`~sim.rules.economics.financial_health`); retention is the share
    of last step's main accounts still main accounts; CLV per account is
    :func:`~sim.rules.economics.lifetime_value`. ``live`` (this step's active
    ties, when already found) saves a scan of the tie matrix.
    """
    t, firm, ledger, firms = market.ties, market.policy, market.ledger, market.firms
    n_sup = t.trust.shape[1]
    main = main_supplier(t.wallet, t.active)
    prev = market.buyers.main_supplier
    had = np.bincount(prev[prev >= 0], minlength=n_sup)
    kept = np.bincount(prev[(prev >= 0) & (main == prev)], minlength=n_sup)
    retention = np.divide(kept, had, out=np.full(n_sup, np.nan), where=had > 0)
    accounts = np.bincount(main[main >= 0], minlength=n_sup)
    market.buyers.main_supplier = main

    headcount = market.salesforce.headcount(n_sup)
    n_active = live.count if live is not None else t.active.sum(axis=0)
    cost = economics.supplier_costs(
        ledger.volume, cfg.market.unit_cost, headcount, cfg.sales.salary, firm.coordination,
        firm.overhead_per_account, n_active, ledger.contacts, cfg.relationship.contact_cost,
        ledger.investments, cfg.relationship.dependency_cost,
    ) + ledger.one_off_cost + ledger.cost_to_serve + ledger.service_cost
    revenue = ledger.revenue + ledger.service_revenue
    profit = revenue - cost
    margin = np.divide(profit, revenue, out=np.zeros(n_sup), where=revenue > 0)
    health = economics.financial_health(firm.health, margin, cfg.market.health_rate)
    per_account = np.divide(profit, accounts, out=np.zeros(n_sup), where=accounts > 0)
    clv = economics.lifetime_value(
        per_account, np.nan_to_num(retention), cfg.market.discount_rate
    )
    firms.health = np.asarray(health, dtype=np.float64)
    firms.cash = firms.cash + profit
    return Books(cost=cost, profit=profit, retention=retention, accounts=accounts, clv=clv,
                 headcount=headcount, active_accounts=n_active, health=health)


def opening_books(market: Market) -> Books:
    """The books before the first step (step 0's data): nothing sold or spent yet.

    Accounts are the buyers whose main supplier the firm already is (none in
    a drawn market; a book of accounts brings its own).
    """
    n_sup = market.n_suppliers
    zero = np.zeros(n_sup)
    main = market.buyers.main_supplier
    return Books(cost=zero, profit=zero, retention=np.full(n_sup, np.nan),
                 accounts=np.bincount(main[main >= 0], minlength=n_sup), clv=zero,
                 headcount=market.salesforce.headcount(n_sup),
                 active_accounts=market.ties.active.sum(axis=0), health=market.firms.health)


def measure(market: Market, cfg: Config, books: Books, live: Columns) -> None:
    """The outcomes of this step: ``market.firms.metrics`` and ``market.outcomes``.

    Tie averages are over the active ties (``live``); share of wallet and
    satisfaction over the ties past awareness; flows (revenue, churn, …) are
    this step's ledger.
    """
    t, firm, ledger = market.ties, market.policy, market.ledger
    n_sup = t.trust.shape[1]
    over_engaged = live.subset(live.take(t.stage) >= Stage.EXPLORATION)
    total_volume = ledger.volume.sum()
    columns = {
        "market_share": ledger.volume / total_volume if total_volume > 0 else np.zeros(n_sup),
        "share_of_wallet": over_engaged.mean(t.wallet),
        "profit": books.profit,
        "revenue": ledger.revenue + ledger.service_revenue,  # core product and service lines
        "service_revenue": ledger.service_revenue,
        "cost": books.cost,
        "retention": books.retention,
        "accounts": books.accounts,
        "clv": books.clv,
        "mean_trust": live.mean(t.trust),
        "mean_satisfaction": over_engaged.mean(t.satisfaction),
        "mean_commitment": live.mean(t.commitment),
        "mean_dependency": live.mean(t.dependency),
        "mean_knowledge": live.mean(t.knowledge),
        "loyalty_person": live.mean(t.loyalty_person),
        "loyalty_firm": live.mean(t.loyalty_firm),
        "person_bound_share": live.ratio(t.loyalty_person, (t.loyalty_person, t.loyalty_firm)),
        "transaction_cost": np.divide(
            ledger.nonproductive_time, ledger.trade_volume, out=np.full(n_sup, np.nan),
            where=ledger.trade_volume > 0,
        ),
        "buyer_cost": ledger.buyer_cost,
        "buyer_value": ledger.buyer_value,
        "unit_price": np.divide(ledger.revenue, ledger.volume, out=np.full(n_sup, np.nan),
                                where=ledger.volume > 0),
        "departures": ledger.departures,
        "strategic_partners": np.bincount(  # a partner tie is always active
            live.col[live.take(t.partner)], minlength=n_sup),
        "silent_churn": ledger.silent_churn,
        "voiced_churn": ledger.voiced_churn,
        "other_churn": ledger.other_churn,
        "silent_episodes": ledger.silent_episodes,
        "voiced_episodes": ledger.voiced_episodes,
        "active_ties": books.active_accounts,
        "price": firm.list_price,
        "coordination": firm.coordination,
        "salespeople": books.headcount,
        "health": books.health,
    }
    market.firms.metrics = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    market.outcomes = {"mean_trust": mean_trust(market, live),
                       "loyalty_order": loyalty_order(market, cfg, live)}
