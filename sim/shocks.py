"""M15 Scheduled what-if events: a salesperson leaves, a quality failure, a price war, …

Each event kind is one function ``start_<kind>(market, cfg, rng, event)``
(:data:`STARTS`); events with a duration also have an ``end_<kind>``
(:data:`ENDS`). They change the market state only. :class:`Schedule` calls them at the
right step, before anything else happens in that step, and books the event's
one-off ``cost`` (if any) to its supplier in that step's ledger (M14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.build import add_supplier
from sim.config import EventConfig
from sim.rules import contact, dependency
from sim.salesforce import hire, leave

if TYPE_CHECKING:
    from sim.config import Config
    from sim.market import Market

Rng = np.random.Generator
#: an event's start or end; a start may return follow-up events to schedule
Handler = Callable[["Market", "Config", Rng, EventConfig], "list[EventConfig] | None"]


def pick_salesperson(market: Market, supplier: int, which: int) -> int | None:
    """Index of the supplier's salesperson number ``which`` (-1: the one with most accounts)."""
    people = market.salesforce.of(supplier)
    if people.size == 0:
        return None
    if which >= 0:
        return int(people[min(which, people.size - 1)])
    owners = market.ties.owner[:, supplier]
    counts = np.array([(owners == p).sum() for p in people])
    return int(people[int(np.argmax(counts))])


def start_salesperson_leaves(
    market: Market, cfg: Config, rng: Rng, e: EventConfig
) -> list[EventConfig] | None:
    """A salesperson leaves for a competitor (``target``, -1 = a random rival) (M2, F2, L3).

    With ``duration`` d > 1 the accounts follow the person over d steps
    instead of at once: of the person-bound loyalty ``Lp`` each account had
    with the old firm, a share 1/d moves now and another 1/d at each of the
    next d − 1 steps (:func:`start_accounts_follow`, returned as follow-up
    events), so the old firm loses the bond, and the new one gains
    ``portability`` of it, gradually. The default d = 1 is
    :func:`sim.salesforce.leave` unchanged: everything moves in the step of
    the departure.
    """
    person = pick_salesperson(market, e.supplier, e.salesperson)
    if person is None:
        return None
    rivals = [k for k in range(len(market.firms)) if k != e.supplier]
    random_rival = rivals[int(rng.integers(len(rivals)))] if e.target < 0 and rivals else None
    to = e.target if e.target >= 0 else random_rival
    gradual = e.duration > 1 and to is not None
    if gradual:
        accounts = np.flatnonzero(market.ties.owner[:, e.supplier] == person)
        bond = market.ties.loyalty_person[accounts, e.supplier].copy()
    leave(market, cfg, rng, person, to)
    if not gradual:
        return None
    return _follow_over_time(market, cfg, e, accounts, bond, to)


@dataclass
class AccountsFollow(EventConfig):
    """One step of accounts following a departed salesperson: ``bond`` moves to ``to``."""

    accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    bond: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    to: int = -1


def _follow_over_time(market: Market, cfg: Config, e: EventConfig, accounts: np.ndarray,
                      bond: np.ndarray, to: int) -> list[EventConfig]:
    """Undo all but 1/``duration`` of the move just made; the rest follows, 1/d per step."""
    t, part = market.ties, bond / e.duration
    later = bond - part
    t.loyalty_person[accounts, e.supplier] += later
    t.loyalty_person[accounts, to] -= cfg.sales.portability * later
    return [AccountsFollow(kind="accounts_follow", t=step, supplier=e.supplier,
                           accounts=accounts, bond=part, to=to)
            for step in range(e.t + 1, e.t + e.duration)]


def start_accounts_follow(market: Market, cfg: Config, rng: Rng, e: AccountsFollow) -> None:
    """Move the next part of the departed salesperson's bond (see :func:`start_salesperson_leaves`).

    At most the bond still held moves: ``m = min(Lp[old], bond)``,
    ``Lp[old] −= m``, ``Lp[new] += portability·m`` (L3).
    """
    t = market.ties
    moved = np.minimum(t.loyalty_person[e.accounts, e.supplier], e.bond)
    t.loyalty_person[e.accounts, e.supplier] -= moved
    t.loyalty_person[e.accounts, e.to] += cfg.sales.portability * moved


def start_quality_failure(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """A department's performance drops by ``severity`` for ``duration`` steps (F4, F9)."""
    market.firms.quality_shock[e.supplier, market.departments.index(e.department)] = e.severity


def end_quality_failure(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    market.firms.quality_shock[e.supplier, market.departments.index(e.department)] = 0.0


def start_price_war(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """The supplier cuts its price by ``severity`` (a share) for ``duration`` steps."""
    market.firms.price_cut[e.supplier] = e.severity


def end_price_war(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    market.firms.price_cut[e.supplier] = 0.0


def start_uncertainty_shock(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """Environmental uncertainty rises by ``severity`` for ``duration`` steps (M12, F8)."""
    market.uncertainty += e.severity


def end_uncertainty_shock(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    market.uncertainty -= e.severity


def start_demand_shock(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """Purchase needs fall by a share ``severity`` for ``duration`` steps."""
    market.demand_cut += e.severity


def end_demand_shock(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    market.demand_cut -= e.severity


def start_switch_strategy(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """The supplier adopts another strategy for good (F1, F12).

    Its one-off ``cost`` (reorganisation, training) is booked by :class:`Schedule`.
    """
    market.firms.strategy[e.supplier] = e.strategy


def start_new_entrant(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """A new supplier with strategy ``strategy`` enters; buyers start to consider it."""
    add_supplier(market, cfg, rng, e.strategy)


def start_hire_salespeople(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """The supplier hires ``count`` salespeople who take over the least-served accounts (M2, M5).

    Each new hire takes half of the largest book (the colleague with most
    active accounts): the half that has gone longest without contact (F5).
    A handover within the firm keeps the tie (its loyalty and knowledge);
    the new people raise the planned sales force and cost a salary each.
    """
    j, t = e.supplier, market.ties
    market.firms.planned_salespeople[j] += e.count
    for _ in range(e.count):
        colleagues = market.salesforce.of(j)
        person = hire(market, cfg.sales, rng, j)
        if colleagues.size == 0:
            t.owner[np.flatnonzero(t.considers[:, j]), j] = person
            continue
        books = [np.flatnonzero((t.owner[:, j] == c) & t.active[:, j]) for c in colleagues]
        largest = books[int(np.argmax([b.size for b in books]))]
        silence = market.now - t.last_contact[largest, j]
        handed = largest[np.argsort(-silence, kind="stable")[: largest.size // 2]]
        t.owner[handed, j] = person


def start_invest_integration(market: Market, cfg: Config, rng: Rng, e: EventConfig) -> None:
    """Dependency investments in the supplier's ``count`` top accounts (M10, F6).

    The top accounts are the active ties with the largest volume bought from
    the supplier (``volume·share of wallet``, then volume). Each investment
    raises dependency ``D += s·(1 − D)`` (``s = relationship.dependency_step``),
    teaches the supplier about the buyer ``K += r·(1 − K)``, and costs
    ``relationship.dependency_cost``, booked as an investment in the ledger (M14).
    """
    j, t, rel = e.supplier, market.ties, cfg.relationship
    accounts = np.flatnonzero(t.active[:, j])
    volume = market.buyers.volume[accounts]
    top = accounts[np.lexsort((-volume, -volume * t.wallet[accounts, j]))[: e.count]]
    t.dependency[top, j] = dependency.invested(t.dependency[top, j], rel.dependency_step)
    t.knowledge[top, j] = contact.learn(t.knowledge[top, j], rel.learning_rate)
    market.ledger.investments[j] += top.size


STARTS: dict[str, Handler] = {
    "salesperson_leaves": start_salesperson_leaves,
    "accounts_follow": start_accounts_follow,
    "quality_failure": start_quality_failure,
    "price_war": start_price_war,
    "uncertainty_shock": start_uncertainty_shock,
    "demand_shock": start_demand_shock,
    "switch_strategy": start_switch_strategy,
    "new_entrant": start_new_entrant,
    "hire_salespeople": start_hire_salespeople,
    "invest_integration": start_invest_integration,
}
#: events that last ``duration`` steps, and what ends them
ENDS: dict[str, Handler] = {
    "quality_failure": end_quality_failure,
    "price_war": end_price_war,
    "uncertainty_shock": end_uncertainty_shock,
    "demand_shock": end_demand_shock,
}


class Schedule:
    """The run's events by step; :meth:`apply` runs the starts and ends due now."""

    def __init__(self, events: list[EventConfig]) -> None:
        self.starts: dict[int, list[EventConfig]] = {}
        self.ends: dict[int, list[EventConfig]] = {}
        for e in events:
            self.add(e)

    def add(self, e: EventConfig) -> None:
        """Schedule an event: it starts at step ``e.t`` and, if it lasts, ends ``duration`` later.

        Events added while the model runs (a dashboard button) must have ``e.t`` after
        the current step.
        """
        self.starts.setdefault(e.t, []).append(e)
        if e.kind in ENDS:
            self.ends.setdefault(e.t + e.duration, []).append(e)

    def apply(self, market: Market, cfg: Config, rng: np.random.Generator) -> None:
        """Start and end the events due at ``market.now``; book their one-off costs."""
        for e in self.ends.get(market.now, []):
            ENDS[e.kind](market, cfg, rng, e)
        for e in self.starts.get(market.now, []):
            for later in STARTS[e.kind](market, cfg, rng, e) or ():
                self.add(later)
            market.ledger.one_off_cost[e.supplier] += e.cost
