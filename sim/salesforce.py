"""M2 The sales force: how salespeople are hired, leave and take their accounts along.

Also who owns an account when a tie starts again (:func:`reopen`, M13). The
arrays are :class:`sim.market.SalesForce`; the
:class:`~sim.agents.Salesperson` agents are live views of them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.ties import Stage

if TYPE_CHECKING:
    from sim.config import Config, RelationshipConfig, SalesConfig
    from sim.market import Market


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


def reopen(
    market: Market, rel: RelationshipConfig, rng: np.random.Generator, b: np.ndarray,
    s: np.ndarray,
) -> None:
    """(Re)start ties (b, s) at awareness, as new relationships (M13).

    Trust restarts at ``T₀``, satisfaction at ``S₀``, commitment and
    dependency at 0; the firm keeps the share ``reopen_knowledge_kept`` of
    what it knew of the buyer. An account
    whose owner no longer works for the firm goes to one of its salespeople
    at random.
    """
    if b.size == 0:
        return
    t = market.ties
    t.active[b, s] = True
    t.stage[b, s] = Stage.AWARENESS
    t.trust[b, s] = rel.initial_trust
    t.satisfaction[b, s] = rel.initial_satisfaction
    t.commitment[b, s] = 0.0
    t.dependency[b, s] = 0.0
    t.knowledge[b, s] *= rel.reopen_knowledge_kept
    t.last_contact[b, s] = market.now
    employed = market.salesforce.employer[np.maximum(t.owner[b, s], 0)] == s
    orphan = (t.owner[b, s] < 0) | ~employed
    for j in np.unique(s[orphan]):
        people = market.salesforce.of(int(j))
        sel = orphan & (s == j)
        if people.size:
            t.owner[b[sel], j] = people[rng.integers(people.size, size=int(sel.sum()))]
