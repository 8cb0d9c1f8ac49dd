"""Outcomes per supplier and per step: the books (M14) and the state of the ties.

:func:`keep_books` runs at the end of every step (profit, cash, financial
health, each buyer's main supplier); :func:`measure` fills the outcomes the
DataCollector reads: ``market.firms.metrics`` (one array per key of
:data:`SUPPLIER_METRICS`, a column of ``steps.parquet`` each) and
``market.outcomes`` (:data:`MARKET_METRICS`). Both read and write the market
state only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.market import NEVER
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


#: Outcomes of ``summary.json`` computed from the window means of :data:`SUPPLIER_METRICS`
#: rather than averaged per step (:func:`window_clv`).
WINDOW_METRICS: tuple[str, ...] = ("clv",)

#: Market-wide outcomes (model reporters): ``summary.json``'s ``market`` block.
MARKET_METRICS: tuple[str, ...] = ("mean_trust", "loyalty_order")

#: The range of each kind of outcome: intervals over runs (:func:`sim.report.mean_ci`) of
#: a bounded kind stay inside it.
RANGES: dict[str, tuple[float, float]] = {
    "share": (0.0, 1.0),  # shares, probabilities, levels of trust and the like
    "count": (0.0, math.inf),  # buyers, ties, people, events (integers per step)
    "amount": (0.0, math.inf),  # money or volume that cannot be negative (revenue, cost, …)
    "real": (-math.inf, math.inf),  # profit, CLV, attraction: either sign
}

#: Each outcome's kind (a key of :data:`RANGES`): every supplier, window and market outcome.
OUTCOME_KIND: dict[str, str] = {
    "market_share": "share", "share_of_wallet": "share", "profit": "real", "revenue": "amount",
    "service_revenue": "amount",
    "cost": "amount", "retention": "share", "accounts": "count", "clv": "real",
    "mean_trust": "share", "mean_satisfaction": "share", "mean_commitment": "share",
    "mean_dependency": "share", "mean_knowledge": "share", "loyalty_person": "real",
    "loyalty_firm": "real", "person_bound_share": "real", "transaction_cost": "share",
    "buyer_cost": "amount", "buyer_value": "real", "unit_price": "amount",
    "departures": "count", "strategic_partners": "count", "silent_churn": "count",
    "voiced_churn": "count", "other_churn": "count", "silent_episodes": "count",
    "voiced_episodes": "count", "active_ties": "count", "price": "amount",
    "coordination": "share", "salespeople": "count", "health": "share",
    "loyalty_order": "share",
}

#: Outcomes that count buyers, ties, people or events: int64 per step (``steps.parquet``).
COUNTS: tuple[str, ...] = tuple(k for k in SUPPLIER_METRICS if OUTCOME_KIND[k] == "count")


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


def record_purchases(market: Market, main: np.ndarray, now: int, window: int) -> None:
    """Add this step's purchases from each buyer's main supplier to its account history.

    A buyer *buys from its main supplier* at step ``t`` when it orders from
    ``main[i]`` (the supplier with its largest share of wallet after this
    step's purchases, :func:`main_supplier`); an order cut by a stock-out
    counts, since it is the buyer's choice. The buyer's record of that
    supplier moves to slot 0 (a supplier without a record gets a fresh one,
    which pushes out the record in the last slot); it gets ``last = t``, and a
    gap of more than ``W = window`` steps since its last purchase starts a new
    spell (``before ← last``, ``start ← t``). O(buyers).
    """
    h = market.accounts
    rows = np.flatnonzero(main >= 0)
    rows = rows[market.orders[rows, main[rows]] > 0]
    if rows.size == 0:
        return
    seller = main[rows]
    slots = h.supplier.shape[1]
    match = h.supplier[rows] == seller[:, None]
    found = match.any(axis=1)
    at = np.where(found, match.argmax(axis=1), slots - 1)  # the record to bring to slot 0
    col = np.arange(slots)[None, :]
    order = np.where(col == 0, at[:, None], np.where(col <= at[:, None], col - 1, col))
    for a in h.records():
        a[rows] = np.take_along_axis(a[rows], order, axis=1)
    fresh = rows[~found]
    h.supplier[fresh, 0] = main[fresh]
    h.start[fresh, 0] = h.last[fresh, 0] = h.before[fresh, 0] = NEVER
    last = h.last[rows, 0]
    spell = now - last.astype(np.int64) > window
    h.before[rows[spell], 0] = last[spell]
    h.start[rows[spell], 0] = now
    h.last[rows, 0] = now


def windowed_retention(market: Market, now: int, window: int) -> np.ndarray:
    """M14: each supplier's retention over a window of ``W = window`` steps (NaN: no cohort).

    ``r_j(t) = |A_j(t−W) ∩ A_j(t)| / |A_j(t−W)|``, where ``A_j(t)`` is the set
    of buyers that bought from ``j`` as their main supplier
    (:func:`record_purchases`) at least once in the last ``W`` steps
    ``(t−W, t]``. So a buyer that stops buying stops counting as retained
    ``W`` steps after its last purchase, whether or not its ties are still
    active; a buyer that does not buy in a step is not lost for it. From a
    record's spells: it bought in ``(t−2W, t−W]`` iff ``(start ≤ t−W and
    last > t−2W) or before > t−2W`` (purchases within a spell are at most
    ``W`` apart), and in ``(t−W, t]`` iff ``last > t−W``.

    Exact while a buyer buys as main supplier from at most
    :data:`~sim.market.ACCOUNT_SLOTS` suppliers in ``2W`` steps: a further one
    pushes out the oldest record, which then no longer counts for its
    supplier. Undefined (NaN) in the first ``W`` steps and for a supplier
    without a cohort.
    """
    h = market.accounts
    supplier = h.supplier.reshape(-1)
    start, last, before = (a.reshape(-1).astype(np.int64) for a in (h.start, h.last, h.before))
    then, earlier = now - window, now - 2 * window
    cohort = (supplier >= 0) & (((start <= then) & (last > earlier)) | (before > earlier))
    kept = cohort & (last > then)
    n_sup = market.n_suppliers
    had = np.bincount(supplier[cohort], minlength=n_sup)
    held = np.bincount(supplier[kept], minlength=n_sup)
    return np.divide(held, had, out=np.full(n_sup, np.nan), where=had > 0)


def step_retention(retention: np.ndarray | float, window: int) -> np.ndarray | float:
    """The per-step retention ``r₁ = r_W^(1/W)`` implied by retention over ``W`` steps (M14).

    It assumes a constant per-step hazard of losing an account, the
    assumption of the lifetime formula (:func:`~sim.rules.economics.lifetime_value`).
    """
    return np.power(retention, 1.0 / window)


def window_clv(profit: float, accounts: float, retention: float, cfg: Config) -> float:
    """M14 (F11): CLV per account from window means, ``m·r₁/(1 + d − r₁)``.

    ``m = profit / accounts`` (mean profit per step over mean accounts: the
    margin per account and step), ``r₁`` the per-step retention implied by
    the mean retention over ``W`` steps (:func:`step_retention`), ``d`` the
    per-step discount rate: :func:`sim.rules.economics.lifetime_value`
    applied once to the window's means. (Averaging a per-step CLV instead
    amplifies each step's noise in ``r`` by ``1/(1+d−r)`` and is biased.)
    NaN without accounts or retention.
    """
    if not (accounts > 0 and math.isfinite(retention) and math.isfinite(profit)):
        return math.nan
    r = step_retention(retention, cfg.market.retention_window)
    return float(economics.lifetime_value(np.float64(profit / accounts), r,
                                          cfg.market.discount_rate))


@dataclass
class Books:
    """One step's books per supplier (M14), from :func:`keep_books`."""

    cost: np.ndarray
    profit: np.ndarray
    retention: np.ndarray
    accounts: np.ndarray
    headcount: np.ndarray
    active_accounts: np.ndarray
    health: np.ndarray


def keep_books(market: Market, cfg: Config, live: Columns | None = None) -> Books:
    """M14 (F11): revenue, cost, profit and retention; cash, health and main suppliers.

    ``cost`` is :func:`sim.rules.economics.supplier_costs` plus the one-off
    costs booked by this step's events (M15); health follows the margin
    (:func:`~sim.rules.economics.financial_health`); retention is the share
    of the accounts that bought in the previous window that buy again in this
    one (:func:`windowed_retention`, window ``market.retention_window``).
    CLV is not a per-step outcome: the summary computes it from the window
    means (:func:`window_clv`). ``live`` (this step's active ties, when
    already found) saves a scan of the tie matrix.
    """
    t, firm, ledger, firms = market.ties, market.policy, market.ledger, market.firms
    n_sup = t.trust.shape[1]
    main = main_supplier(t.wallet, t.active)
    window = cfg.market.retention_window
    record_purchases(market, main, market.now, window)
    retention = windowed_retention(market, market.now, window)
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
    firms.health = np.asarray(health, dtype=np.float64)
    firms.cash = firms.cash + profit
    return Books(cost=cost, profit=profit, retention=retention, accounts=accounts,
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
                 accounts=np.bincount(main[main >= 0], minlength=n_sup),
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
    market.firms.metrics = {
        k: np.rint(v).astype(np.int64) if OUTCOME_KIND[k] == "count"
        else np.asarray(v, dtype=np.float64) for k, v in columns.items()
    }
    market.outcomes = {"mean_trust": mean_trust(market, live),
                       "loyalty_order": loyalty_order(market, cfg, live)}
