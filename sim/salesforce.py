"""M2 The sales force: arrays over every salesperson ever hired, and how people come and go.

Salespeople are few and change rarely (hired, poached, quit), so the arrays
are appended to and edited in place; a salesperson's index is the global id
that the ties' ``owner`` field names, and it survives a move to a competitor.
The :class:`~sim.agents.Salesperson` agents are live views of these arrays.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.config import Config, SalesConfig
    from sim.market import Market


class SalesForce:
    """Skill, promise inflation, capacity, employer and hiring step per salesperson.

    A salesperson who left the market has employer −1; the index stays
    reserved, since tie arrays may still name it as a former owner.
    """

    def __init__(self) -> None:
        self.skill = np.zeros(0, dtype=np.float32)  # stands in for other departments (M7)
        self.inflation = np.zeros(0, dtype=np.float32)  # ψ: over-promising (M7, F4)
        self.capacity = np.zeros(0, dtype=np.int64)  # contacts per step (M5)
        self.employer = np.zeros(0, dtype=np.int64)  # supplier index, −1: left the market
        self.hired_at = np.zeros(0, dtype=np.int64)  # step of joining the current employer

    def __len__(self) -> int:
        return self.employer.size

    def add(self, skill: float, inflation: float, capacity: int, employer: int, now: int) -> int:
        """Append a new hire; returns the global index."""
        self.skill = np.append(self.skill, np.float32(skill))
        self.inflation = np.append(self.inflation, np.float32(inflation))
        self.capacity = np.append(self.capacity, capacity)
        self.employer = np.append(self.employer, employer)
        self.hired_at = np.append(self.hired_at, now)
        return len(self) - 1

    def release(self, index: int) -> None:
        """A person left the market: no employer any more."""
        self.employer[index] = -1

    def headcount(self, n_suppliers: int) -> np.ndarray:
        """Salespeople employed per supplier."""
        employed = self.employer[self.employer >= 0]
        return np.bincount(employed, minlength=n_suppliers)

    def of(self, supplier: int) -> np.ndarray:
        """Global indices of a supplier's current salespeople."""
        return np.flatnonzero(self.employer == supplier)


def hire(market: Market, sales: SalesConfig, rng: np.random.Generator, firm: int) -> int:
    """A new salesperson at ``firm``: skill and promise inflation drawn from the config (M2).

    ``skill ~ clip(N(μ_skill, σ_skill), 0, 1)``, ``ψ ~ max(0, N(μ_ψ, σ_ψ))``.
    Returns the new person's index.
    """
    skill = float(np.clip(rng.normal(sales.skill_mean, sales.skill_sd), 0.0, 1.0))
    inflation = max(0.0, float(rng.normal(sales.promise_inflation, sales.promise_inflation_sd)))
    return market.salesforce.add(skill, inflation, sales.capacity, firm, market.now)


def staff(market: Market, sales: SalesConfig, rng: np.random.Generator, firm: int) -> None:
    """Hire a sales force sized to the firm's accounts and share the accounts out at random (M2).

    Size ``⌈accounts / accounts_per_salesperson⌉`` (at least one), which becomes
    the firm's planned size.
    """
    ties = market.ties
    accounts = np.flatnonzero(ties.considers[:, firm])
    size = max(1, math.ceil(accounts.size / sales.accounts_per_salesperson))
    market.firms.planned_salespeople[firm] = size
    people = np.array([hire(market, sales, rng, firm) for _ in range(size)])
    ties.owner[accounts, firm] = people[rng.integers(size, size=accounts.size)]


def consider_leaving(market: Market, cfg: Config, rng: np.random.Generator, person: int) -> None:
    """Leave with the departure hazard; most leavers are poached by a rival (M2).

    Only a rival with an opening (sales force below its plan + 1) poaches;
    if none has one, the person leaves the market.
    """
    sales = cfg.sales
    if rng.random() >= sales.departure_hazard:
        return
    employer = int(market.salesforce.employer[person])
    headcount = market.salesforce.headcount(len(market.firms))
    planned = market.firms.planned_salespeople
    rivals = [k for k in range(len(market.firms)) if k != employer and headcount[k] <= planned[k]]
    to = None
    if rivals and rng.random() < sales.poach_share:
        to = rivals[int(rng.integers(len(rivals)))]
    leave(market, cfg, rng, person, to)


def leave(
    market: Market, cfg: Config, rng: np.random.Generator, person: int, to: int | None
) -> None:
    """A salesperson leaves; the person-bound loyalty goes with them (M2, F2, L3).

    At the old employer the accounts lose their person-bound loyalty ``Lp``
    and the person-held share ``ρ`` of customer knowledge; a new hire takes
    them over if the sales force is below its planned size, else the
    colleague with fewest accounts. If poached by ``to``, the buyers start
    to consider ``to``, which gains ``portability·Lp`` and the person's
    knowledge, and the person owns those accounts there.
    """
    from sim.market import reopen

    t, force = market.ties, market.salesforce
    j = int(force.employer[person])
    accounts = np.flatnonzero(t.owner[:, j] == person)
    rho = cfg.strategy.profile(market.firms.strategy[j]).person_share
    bond = t.loyalty_person[accounts, j].copy()
    known = t.knowledge[accounts, j].copy()
    t.loyalty_person[accounts, j] = 0.0
    t.knowledge[accounts, j] = known * (1.0 - rho)
    colleagues = force.of(j)
    colleagues = colleagues[colleagues != person]
    if colleagues.size + 1 > market.firms.planned_salespeople[j]:
        load = [(t.owner[:, j] == c).sum() for c in colleagues]
        t.owner[accounts, j] = colleagues[int(np.argmin(load))]
    else:
        t.owner[accounts, j] = hire(market, cfg.sales, rng, j)
    market.ledger.departures[j] += 1
    market.departures.append(
        {"step": market.now, "salesperson": person, "from": j, "to": to, "accounts": accounts,
         "main_accounts": accounts[market.buyers.main_supplier[accounts] == j]}
    )
    if to is None:
        force.release(person)
        return
    closed = accounts[~t.active[accounts, to]]
    t.considers[accounts, to] = True
    reopen(market, cfg.relationship, rng, closed, np.full(closed.size, to))
    t.loyalty_person[accounts, to] += cfg.sales.portability * bond
    t.knowledge[accounts, to] = np.maximum(t.knowledge[accounts, to], rho * known)
    t.owner[accounts, to] = person
    force.employer[person] = to
    force.hired_at[person] = market.now
