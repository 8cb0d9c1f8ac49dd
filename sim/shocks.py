"""M15 Scheduled what-if events: a salesperson leaves, a quality failure, a price war, …

Each event kind is one function ``start_<kind>(model, event)``; events with
a duration also have an ``end_<kind>``. :class:`Schedule` calls them at the
right step, before anything else happens in that step, and books the event's
one-off ``cost`` (if any) to its supplier in that step's ledger (M14).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.config import EventConfig
from sim.rules import contact, dependency

if TYPE_CHECKING:
    from sim.agents import Salesperson
    from sim.model import RelationshipModel

Handler = Callable[["RelationshipModel", EventConfig], None]


def pick_salesperson(model: RelationshipModel, supplier: int, which: int) -> Salesperson | None:
    """The supplier's salesperson number ``which`` (-1: the one with most accounts)."""
    people = model.salesforce.of(supplier)
    if people.size == 0:
        return None
    if which >= 0:
        return model.salesforce.people[people[min(which, people.size - 1)]]
    owners = model.ties.owner[:, supplier]
    counts = np.array([(owners == p).sum() for p in people])
    return model.salesforce.people[people[int(np.argmax(counts))]]


def start_salesperson_leaves(model: RelationshipModel, e: EventConfig) -> None:
    """A salesperson leaves for a competitor (``target``, -1 = a random rival) (M2, F2, L3).

    With ``duration`` d > 1 the accounts follow the person over d steps
    instead of at once: of the person-bound loyalty ``Lp`` each account had
    with the old firm, a share 1/d moves now and another 1/d at each of the
    next d − 1 steps (:func:`start_accounts_follow`), so the old firm loses
    the bond, and the new one gains ``portability`` of it, gradually. The
    default d = 1 is the model's :meth:`~sim.model.RelationshipModel.salesperson_leaves`
    unchanged: everything moves in the step of the departure.
    """
    person = pick_salesperson(model, e.supplier, e.salesperson)
    if person is None:
        return
    rivals = [s for s in model.supplier_list if s.index != e.supplier]
    if e.target >= 0:
        to = model.supplier_list[e.target]
    else:
        to = rivals[int(model.rng.integers(len(rivals)))] if rivals else None
    gradual = e.duration > 1 and to is not None
    if gradual:
        accounts = np.flatnonzero(model.ties.owner[:, e.supplier] == person.index)
        bond = model.ties.loyalty_person[accounts, e.supplier].copy()
    model.salesperson_leaves(person, to)
    if gradual:
        _follow_over_time(model, e, accounts, bond, to.index)


@dataclass
class AccountsFollow(EventConfig):
    """One step of accounts following a departed salesperson: ``bond`` moves to ``to``."""

    accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    bond: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    to: int = -1


def _follow_over_time(model: RelationshipModel, e: EventConfig, accounts: np.ndarray,
                      bond: np.ndarray, to: int) -> None:
    """Undo all but 1/``duration`` of the move just made; schedule the rest, 1/d per step."""
    t, part = model.ties, bond / e.duration
    later = bond - part
    t.loyalty_person[accounts, e.supplier] += later
    t.loyalty_person[accounts, to] -= model.cfg.sales.portability * later
    for step in range(e.t + 1, e.t + e.duration):
        model.schedule.add(AccountsFollow(kind="accounts_follow", t=step, supplier=e.supplier,
                                          accounts=accounts, bond=part, to=to))


def start_accounts_follow(model: RelationshipModel, e: AccountsFollow) -> None:
    """Move the next part of the departed salesperson's bond (see :func:`start_salesperson_leaves`).

    At most the bond still held moves: ``m = min(Lp[old], bond)``,
    ``Lp[old] −= m``, ``Lp[new] += portability·m`` (L3).
    """
    t = model.ties
    moved = np.minimum(t.loyalty_person[e.accounts, e.supplier], e.bond)
    t.loyalty_person[e.accounts, e.supplier] -= moved
    t.loyalty_person[e.accounts, e.to] += model.cfg.sales.portability * moved


def start_quality_failure(model: RelationshipModel, e: EventConfig) -> None:
    """A department's performance drops by ``severity`` for ``duration`` steps (F4, F9)."""
    model.quality_shock[e.supplier, model.departments.index(e.department)] = e.severity


def end_quality_failure(model: RelationshipModel, e: EventConfig) -> None:
    model.quality_shock[e.supplier, model.departments.index(e.department)] = 0.0


def start_price_war(model: RelationshipModel, e: EventConfig) -> None:
    """The supplier cuts its price by ``severity`` (a share) for ``duration`` steps."""
    model.price_cut[e.supplier] = e.severity


def end_price_war(model: RelationshipModel, e: EventConfig) -> None:
    model.price_cut[e.supplier] = 0.0


def start_uncertainty_shock(model: RelationshipModel, e: EventConfig) -> None:
    """Environmental uncertainty rises by ``severity`` for ``duration`` steps (M12, F8)."""
    model.uncertainty += e.severity


def end_uncertainty_shock(model: RelationshipModel, e: EventConfig) -> None:
    model.uncertainty -= e.severity


def start_demand_shock(model: RelationshipModel, e: EventConfig) -> None:
    """Purchase needs fall by a share ``severity`` for ``duration`` steps."""
    model.demand_cut += e.severity


def end_demand_shock(model: RelationshipModel, e: EventConfig) -> None:
    model.demand_cut -= e.severity


def start_switch_strategy(model: RelationshipModel, e: EventConfig) -> None:
    """The supplier adopts another strategy for good (F1, F12).

    Its one-off ``cost`` (reorganisation, training) is booked by :class:`Schedule`.
    """
    model.supplier_list[e.supplier].switch_strategy(e.strategy)


def start_new_entrant(model: RelationshipModel, e: EventConfig) -> None:
    """A new supplier with strategy ``strategy`` enters; buyers start to consider it."""
    model.add_supplier(e.strategy)


def start_hire_salespeople(model: RelationshipModel, e: EventConfig) -> None:
    """The supplier hires ``count`` salespeople who take over the least-served accounts (M2, M5).

    Each new hire takes half of the largest book (the colleague with most
    active accounts): the half that has gone longest without contact (F5).
    A handover within the firm keeps the tie (its loyalty and knowledge);
    the new people raise the planned sales force and cost a salary each.
    """
    supplier = model.supplier_list[e.supplier]
    j, t = e.supplier, model.ties
    supplier.planned_salespeople += e.count
    for _ in range(e.count):
        colleagues = model.salesforce.of(j)
        person = model.hire(supplier)
        if colleagues.size == 0:
            t.owner[np.flatnonzero(t.considers[:, j]), j] = person.index
            continue
        books = [np.flatnonzero((t.owner[:, j] == c) & t.active[:, j]) for c in colleagues]
        largest = books[int(np.argmax([b.size for b in books]))]
        silence = model.steps - t.last_contact[largest, j]
        handed = largest[np.argsort(-silence, kind="stable")[: largest.size // 2]]
        t.owner[handed, j] = person.index


def start_invest_integration(model: RelationshipModel, e: EventConfig) -> None:
    """Dependency investments in the supplier's ``count`` top accounts (M10, F6).

    The top accounts are the active ties with the largest volume bought from
    the supplier (``volume·share of wallet``, then volume). Each investment
    raises dependency ``D += s·(1 − D)`` (``s = relationship.dependency_step``),
    teaches the supplier about the buyer ``K += r·(1 − K)``, and costs
    ``relationship.dependency_cost``, booked as an investment in the ledger (M14).
    """
    j, t, rel = e.supplier, model.ties, model.cfg.relationship
    accounts = np.flatnonzero(t.active[:, j])
    volume = model.buyer_volume[accounts]
    top = accounts[np.lexsort((-volume, -volume * t.wallet[accounts, j]))[: e.count]]
    t.dependency[top, j] = dependency.invested(t.dependency[top, j], rel.dependency_step)
    t.knowledge[top, j] = contact.learn(t.knowledge[top, j], rel.learning_rate)
    model.ledger.investments[j] += top.size


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
        if f"end_{e.kind}" in globals():
            self.ends.setdefault(e.t + e.duration, []).append(e)

    def apply(self, model: RelationshipModel) -> None:
        """Start and end the events due at ``model.steps``; book their one-off costs."""
        for e in self.ends.get(model.steps, []):
            _handler("end", e.kind)(model, e)
        for e in self.starts.get(model.steps, []):
            _handler("start", e.kind)(model, e)
            model.ledger.one_off_cost[e.supplier] += e.cost


def _handler(when: str, kind: str) -> Handler:
    return globals()[f"{when}_{kind}"]
