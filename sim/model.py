"""RelationshipModel: buyers, salespeople and suppliers on a market network (M1–M15).

The model builds the market state (:mod:`sim.market`) from a validated
config, puts the agents on it as live views (:mod:`sim.agents`), steps the
declared schedule :data:`STEP` and collects data (:mod:`sim.collect`).

Two engines run the same phases (:mod:`sim.phases`): ``vector`` (one call
per phase for all buyers, the default) and ``agent`` (each agent acts on its
own row or column, in random order — the readable reference).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network

from sim import metrics, phases, summary
from sim.agents import Buyer, Salesperson, Supplier
from sim.api import KEEP, model_config
from sim.build import build_market
from sim.collect import MarketCollector
from sim.config import Config
from sim.market import FirmTable, Market
from sim.shocks import Schedule
from sim.ties import nonzero


@dataclass(frozen=True)
class Activity:
    """One entry of the step: who acts, the agents' method, the vector form, brief ids."""

    agents: type[mesa.Agent]
    action: str  # the agents' method: engine=agent runs it agent by agent, shuffled
    vector: Callable[[RelationshipModel], None] | None  # engine=vector: one call for all
    mechanisms: str


def _run(model: RelationshipModel, sequence: Sequence[phases.Phase], block) -> None:
    for phase in sequence:
        phase(model.market, model.cfg, model.rng, block)


def _visits(model: RelationshipModel) -> None:
    t = model.market.ties
    phases.sales_visits(model.market, model.cfg, model.rng, *nonzero(t.active & (t.owner >= 0)))


#: The step after shocks (M15), turnover (M2) and the firms' policy table (M1), in order.
STEP: tuple[Activity, ...] = (
    Activity(Salesperson, "visit_accounts", _visits, "M5"),
    Activity(Supplier, "serve_accounts",
             lambda m: _run(m, (phases.department_contacts,), slice(None)), "M5 M9"),
    Activity(Buyer, "place_order",
             lambda m: _run(m, (phases.place_orders,), slice(0, m.market.n_buyers)), "M6"),
    Activity(Supplier, "fill_orders", None, "L2"),
    Activity(Buyer, "evaluate",
             lambda m: _run(m, phases.AFTER_PURCHASE, slice(0, m.market.n_buyers)),
             "M7 M8 M9 M11 M12 M13 M14"),
    Activity(Supplier, "invest", lambda m: _run(m, phases.INVESTMENTS, slice(None)), "M10 M12"),
)


class RelationshipModel(mesa.Model):
    """Buyer–seller relationships under the lone-seller and company-wide strategies.

    Args:
        cfg: a :class:`~sim.config.Config`, an OmegaConf node of the same shape
            (e.g. from :func:`sim.make_config`), or None for the defaults.
        overrides: Hydra-style overrides, e.g. ``["relationship.decay=0.05"]``.
        seed, rng: the run's seed (an int; ``rng`` is Mesa's name for it; None
            draws one). Without either, the config's ``seed`` stands.
        agents_every: record buyers and suppliers with the DataCollector's
            agent reporters every k collections (0: never).
        build: draws the market state from the config and the run's random
            stream (default :func:`~sim.market.build_market`; the what-if
            builds it from a book of accounts).
        **params: shortcuts of :data:`sim.api.PARAMETERS`, e.g. ``n_buyers=500,
            strategy="company_wide", needs_breadth=0.7, steps=50``.

    Example:
        >>> model = RelationshipModel(n_buyers=200, strategy="company_wide", steps=20, seed=1)
        >>> model.run_model()
        >>> model.summary()["strategies"]["company_wide"]["mean_trust"]  # doctest: +SKIP
    """

    def __init__(self, cfg: Any = None, /, *, overrides: Sequence[str] = (), seed: Any = KEEP,
                 rng: Any = KEEP, agents_every: int = 0,
                 build: Callable[[Config, np.random.Generator], Market] = build_market,
                 **params: Any) -> None:
        cfg = model_config(cfg, overrides, seed if seed is not KEEP else rng, params)
        super().__init__(rng=cfg.seed)
        self.cfg: Config = cfg
        self.market: Market = build(cfg, self.rng)
        self.grid = Network(self.market.graph, capacity=1, random=self.random, layout=None)
        self.supplier_list = [Supplier(self, j) for j in range(len(self.market.firms))]
        for i in range(cfg.market.n_buyers):
            Buyer(self, i).cell = self.grid[i]
        self._people: dict[int, Salesperson] = {}
        self._hired = 0  # sales-force entries that already have an agent or never will
        self.sync_agents()  # the salespeople
        self.schedule = Schedule(cfg.scenario.events)
        self.datacollector = MarketCollector(agents_every)
        self._measure(metrics.opening_books(self.market))
        self.datacollector.collect(self)  # step 0: the market as built

    @property
    def ties(self):
        """The tie arrays (M4) of the market."""
        return self.market.ties

    @property
    def buyers(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[Buyer]

    @property
    def suppliers(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[Supplier]

    def step(self) -> None:
        """One purchase period: shocks, turnover, the firms' policies, :data:`STEP`, the books.

        Adapting firms (``adaptation``, L2) choose their policy before the
        policy table is drawn up and learn from the step's profit (M14) after.
        """
        market, cfg = self.market, self.cfg
        market.now = self.steps
        market.clear_buffers()
        self.schedule.apply(market, cfg, self.rng)
        self.sync_agents()
        self._each(Salesperson, "consider_leaving")
        self.sync_agents()
        phases.adapt_policies(market, cfg, self.rng, slice(None))  # L2: learned policies
        market.policy = FirmTable.of(market, cfg.strategy)
        for activity in STEP:
            if cfg.engine == "agent" or activity.vector is None:
                self._each(activity.agents, activity.action)
            else:
                activity.vector(self)
        self._close_books()
        phases.learn_from_profit(market, cfg, self.rng, slice(None))
        if self.steps >= cfg.steps:
            self.running = False

    def _each(self, kind: type[mesa.Agent], action: str) -> None:
        if kind in self.agents_by_type:
            self.agents_by_type[kind].shuffle_do(action)

    def _close_books(self) -> None:
        """Keep the books every step; measure the outcomes when collected or summarised."""
        cfg, market = self.cfg, self.market
        collect = self.steps % cfg.collect_every == 0
        # the summary window needs every step's outcomes, however often data are collected
        in_window = cfg.warmup_share * cfg.steps < self.steps <= cfg.steps
        live = metrics.Columns(market.ties.active) if collect or in_window else None
        books = metrics.keep_books(market, cfg, live)
        if live is not None:
            self._measure(books, live)
        if collect:
            self.datacollector.collect(self)
        elif in_window:
            self.datacollector.keep_for_summary(self)

    def _measure(self, books: metrics.Books, live: metrics.Columns | None = None) -> None:
        market = self.market
        live = live if live is not None else metrics.Columns(market.ties.active)
        metrics.measure(market, self.cfg, books, live)

    def sync_agents(self) -> None:
        """Give new firms and new salespeople their agents; let go of people who left."""
        firms, force = self.market.firms, self.market.salesforce
        while len(self.supplier_list) < len(firms):
            self.supplier_list.append(Supplier(self, len(self.supplier_list)))
        for index in range(self._hired, len(force)):
            if force.employer[index] >= 0:
                self._people[index] = Salesperson(self, index)
        self._hired = len(force)
        gone = force.employer[list(self._people)] < 0 if self._people else []
        for index in [i for i, left in zip(self._people, gone, strict=True) if left]:
            self._people.pop(index).remove()

    def salesperson(self, index: int) -> Salesperson:
        """The agent of salesperson ``index`` (a global sales-force index)."""
        return self._people[index]

    # ------------------------------------------------------------ results

    def supplier_frame(self) -> pd.DataFrame:
        """Tidy table: one row per collected step × supplier."""
        return summary.supplier_frame(self.datacollector)

    def summary(self) -> dict[str, Any]:
        """Outcomes averaged over the last ``1 − warmup_share`` of the steps, as in summary.json."""
        return summary.summarise(self)
