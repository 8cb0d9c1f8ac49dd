"""RelationshipModel: buyers, salespeople and suppliers on a market network (M1–M15).

The model builds the market from a validated :class:`~sim.config.Config`,
owns the tie arrays (:class:`~sim.ties.Ties`), and steps the phases of
:mod:`sim.phases` with one of two engines: ``vector`` (one call per phase for
all buyers, the default) or ``agent`` (each :class:`~sim.agents.Buyer` acts on
its own row, in random order — the readable reference).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network
from omegaconf import DictConfig

from sim import phases
from sim.agents import Buyer, Salesperson, Supplier
from sim.config import Config, to_config
from sim.ledger import Ledger
from sim.metrics import (
    MARKET_METRICS,
    SUPPLIER_METRICS,
    close_books,
    loyalty_order,
    mean_trust,
)
from sim.network import consideration_sets, neighbour_average, word_of_mouth_graph
from sim.salesforce import SalesForce
from sim.shocks import Schedule
from sim.strategies import FirmTable
from sim.ties import Stage, Ties

F32 = np.float32
DEPARTURE_LOG = 1000


class RelationshipModel(mesa.Model):
    """Buyer–seller relationships under the lone-seller and company-wide strategies.

    Args:
        cfg: a :class:`~sim.config.Config`, an OmegaConf node of the same
            shape (e.g. from :func:`sim.make_config`), or None for defaults.

    Example:
        >>> from sim import RelationshipModel, make_config
        >>> model = RelationshipModel(make_config(["strategy=company_wide", "steps=20"]))
        >>> model.run_for(20)
        >>> model.summary()["strategies"]["company_wide"]["mean_trust"]  # doctest: +SKIP
    """

    def __init__(self, cfg: Config | DictConfig | None = None) -> None:
        cfg = to_config(cfg if cfg is not None else Config())
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        market, buyers = cfg.market, cfg.buyers
        n, m = market.n_buyers, market.n_suppliers
        self.departments: list[str] = list(market.departments)
        self.is_product = np.array([d == "product" for d in self.departments])

        self._init_buyer_parameters(n)
        shape = (m, len(self.departments))
        self.capability = np.clip(
            self.rng.normal(market.capability_mean, market.capability_sd, shape), 0.0, 1.0
        ).astype(F32)
        self.quality_shock = np.zeros_like(self.capability)
        self.price_cut = np.zeros(m, dtype=F32)
        self.uncertainty = market.uncertainty
        self.demand_cut = 0.0
        fair_share = n * buyers.purchase_prob * float(self.buyer_volume.mean()) / m
        self.supply_capacity = (
            None if market.supply_capacity is None else market.supply_capacity * fair_share
        )

        prices = market.price * (1.0 + market.price_dispersion * self.rng.standard_normal(m))
        assignment = cfg.strategy.assignment
        self.supplier_list: list[Supplier] = [
            Supplier(self, j, assignment[j % len(assignment)], float(prices[j])) for j in range(m)
        ]

        graph = word_of_mouth_graph(n, cfg.network, seed=int(self.rng.integers(2**31)))
        self.grid = Network(graph, capacity=1, random=self.random, layout=None)
        self.neighbours = neighbour_average(graph)
        for i in range(n):
            Buyer(self, i).cell = self.grid[i]

        self.ties = Ties.empty(n, m, cfg.relationship.initial_trust)
        self.ties.considers[:] = consideration_sets(n, m, cfg.network.consideration, self.rng)
        self.ties.active[:] = self.ties.considers

        self.salesforce = SalesForce()
        for supplier in self.supplier_list:
            self._staff(supplier)

        self.orders = np.zeros((n, m), dtype=F32)
        self.stockout = np.zeros((n, m), dtype=bool)
        self.failures = np.zeros((n, m), dtype=bool)
        self.main_supplier = np.full(n, -1, dtype=np.int64)
        self.ledger = Ledger(m, len(self.departments))
        self.schedule = Schedule(cfg.scenario.events)
        #: the last DEPARTURE_LOG departures (step, salesperson, from, to, accounts): bounded,
        #: so that long runs with turnover keep a constant memory (issue 7)
        self.departures: deque[dict[str, Any]] = deque(maxlen=DEPARTURE_LOG)
        self.firm = FirmTable.of(self)
        self.active_columns = None  # see sim.metrics.active_ties
        self.window_rows: list[dict[str, Any]] = []  # summary rows of uncollected steps
        self.window_market: list[dict[str, Any]] = []  # and their market-wide reporters

        self.datacollector = mesa.DataCollector(
            model_reporters=dict(zip(MARKET_METRICS, (mean_trust, loyalty_order), strict=True)),
            agenttype_reporters={
                Supplier: {
                    "supplier": "index",
                    "strategy": "strategy",
                    **{k: _metric(k) for k in SUPPLIER_METRICS},
                }
            },
        )

    # ------------------------------------------------------------ building

    def _init_buyer_parameters(self, n: int) -> None:
        """Draw each buyer's volume, needs, stance and behaviour (M3)."""
        b = self.cfg.buyers
        rng = self.rng
        sigma = b.volume_sigma
        self.buyer_volume = rng.lognormal(-0.5 * sigma**2, sigma, n).astype(F32)
        needs = np.zeros((n, len(self.departments)), dtype=F32)
        other = ~self.is_product
        needs[:, self.is_product] = 1.0
        if other.any():
            # large accounts need service, installation, logistics and finance too (M3, F1)
            relative = self.buyer_volume / self.buyer_volume.mean()
            breadth = np.minimum(1.0, b.needs_breadth * relative**b.breadth_volume_elasticity)
            spread = rng.dirichlet(np.full(other.sum(), b.needs_concentration), n)
            needs[:, self.is_product] = (1.0 - breadth)[:, None]
            needs[:, other] = breadth[:, None] * spread
        self.buyer_needs = needs
        self.buyer_adversarial = rng.random(n) < b.adversarial_share
        self.buyer_price_sensitivity = (
            b.price_sensitivity * np.where(self.buyer_adversarial, b.adversarial_price_factor, 1.0)
        ).astype(F32)
        self.buyer_beta = np.full(n, b.choice_intensity, dtype=F32)
        self.buyer_memory = np.full(n, b.memory, dtype=F32)
        self.buyer_voice = np.full(n, b.voice_propensity, dtype=F32)
        self.buyer_tolerance = np.full(n, b.failure_tolerance, dtype=F32)

    def _staff(self, supplier: Supplier) -> None:
        """Hire a sales force sized to the supplier's ties and share the accounts out (M2)."""
        sales = self.cfg.sales
        col = supplier.index
        accounts = np.flatnonzero(self.ties.considers[:, col])
        size = max(1, math.ceil(accounts.size / sales.accounts_per_salesperson))
        supplier.planned_salespeople = size
        people = np.array([self.hire(supplier).index for _ in range(size)])
        self.ties.owner[accounts, col] = people[self.rng.integers(size, size=accounts.size)]

    def hire(self, supplier: Supplier) -> Salesperson:
        """A new salesperson with skill and promise inflation drawn from the config (M2)."""
        s = self.cfg.sales
        skill = float(np.clip(self.rng.normal(s.skill_mean, s.skill_sd), 0.0, 1.0))
        inflation = max(0.0, float(self.rng.normal(s.promise_inflation, s.promise_inflation_sd)))
        return Salesperson(self, supplier, skill, inflation)

    def add_supplier(self, strategy: str) -> Supplier:
        """A new entrant (M15): a firm with fresh capability that buyers start to consider."""
        market, rel = self.cfg.market, self.cfg.relationship
        j = len(self.supplier_list)
        supplier = Supplier(self, j, strategy, market.price)
        self.supplier_list.append(supplier)
        row = self.rng.normal(market.capability_mean, market.capability_sd, len(self.departments))
        self.capability = np.vstack([self.capability, np.clip(row, 0, 1).astype(F32)])
        self.quality_shock = np.vstack([self.quality_shock, np.zeros(len(self.departments), F32)])
        self.price_cut = np.append(self.price_cut, F32(0.0))
        self.ties.add_supplier(rel.initial_trust)
        n = self.ties.trust.shape[0]
        aware = self.rng.random(n) < min(1.0, self.cfg.network.consideration / (j + 1))
        self.ties.considers[:, j] = aware
        self.ties.active[:, j] = aware
        self._staff(supplier)
        for name in ("orders", "stockout", "failures"):
            arr = getattr(self, name)
            setattr(self, name, np.zeros((n, j + 1), dtype=arr.dtype))
        self.ledger.reset(j + 1)
        return supplier

    # ------------------------------------------------------------ events

    def salesperson_leaves(self, person: Salesperson, to: Supplier | None) -> None:
        """A salesperson leaves; the person-bound loyalty goes with them (M2, F2, L3).

        At the old employer the accounts lose their person-bound loyalty
        ``Lp`` and the person-held share ``ρ`` of customer knowledge; a new
        hire takes them over if the sales force is below its planned size,
        else the colleague with fewest accounts. If poached by ``to``, the
        buyers start to consider ``to``, which gains ``portability·Lp`` and
        the person's knowledge, and the person owns those accounts there.
        """
        t = self.ties
        old = person.employer
        j, s = old.index, person.index
        accounts = np.flatnonzero(t.owner[:, j] == s)
        rho = old.profile.person_share
        bond = t.loyalty_person[accounts, j].copy()
        known = t.knowledge[accounts, j].copy()
        t.loyalty_person[accounts, j] = 0.0
        t.knowledge[accounts, j] = known * (1.0 - rho)
        colleagues = self.salesforce.of(j)
        colleagues = colleagues[colleagues != s]
        if colleagues.size + 1 > old.planned_salespeople:
            load = [(t.owner[:, j] == c).sum() for c in colleagues]
            t.owner[accounts, j] = colleagues[int(np.argmin(load))]
        else:
            t.owner[accounts, j] = self.hire(old).index
        self.ledger.departures[j] += 1
        self.departures.append(
            {"step": self.steps, "salesperson": s, "from": j,
             "to": None if to is None else to.index, "accounts": accounts,
             "main_accounts": accounts[self.main_supplier[accounts] == j]}
        )
        if to is None:
            self.salesforce.release(s)
            person.remove()
            return
        k = to.index
        closed = accounts[~t.active[accounts, k]]
        t.considers[accounts, k] = True
        self.reopen(closed, np.full(closed.size, k))
        t.loyalty_person[accounts, k] += self.cfg.sales.portability * bond
        t.knowledge[accounts, k] = np.maximum(t.knowledge[accounts, k], rho * known)
        t.owner[accounts, k] = s
        person.employer = to
        person.hired_at = self.steps
        self.salesforce.employer[s] = k

    def reopen(self, b: np.ndarray, s: np.ndarray) -> None:
        """(Re)start ties (b, s) at awareness, as new relationships (M13)."""
        if b.size == 0:
            return
        t, rel = self.ties, self.cfg.relationship
        t.active[b, s] = True
        t.stage[b, s] = Stage.AWARENESS
        t.trust[b, s] = rel.initial_trust
        t.satisfaction[b, s] = 0.5
        t.commitment[b, s] = 0.0
        t.dependency[b, s] = 0.0
        t.knowledge[b, s] *= 0.5
        t.last_contact[b, s] = self.steps
        employed = self.salesforce.employer[np.maximum(t.owner[b, s], 0)] == s
        orphan = (t.owner[b, s] < 0) | ~employed
        for j in np.unique(s[orphan]):
            people = self.salesforce.of(int(j))
            sel = orphan & (s == j)
            if people.size:
                t.owner[b[sel], j] = people[self.rng.integers(people.size, size=int(sel.sum()))]

    # ------------------------------------------------------------ stepping

    @property
    def demand_factor(self) -> float:
        """Share of normal purchase needs left after demand shocks (M15)."""
        return max(0.0, 1.0 - self.demand_cut)

    @property
    def buyers(self) -> mesa.agent.AgentSet:
        """All buyers."""
        return self.agents_by_type[Buyer]

    @property
    def suppliers(self) -> mesa.agent.AgentSet:
        """All suppliers."""
        return self.agents_by_type[Supplier]

    def step(self) -> None:
        """One purchase period: shocks, turnover, contact, orders, delivery, upkeep, books."""
        self.ledger.reset(len(self.supplier_list))
        self.orders.fill(0.0)
        self.stockout.fill(False)
        self.failures.fill(False)
        self.schedule.apply(self)
        if Salesperson in self.agents_by_type:
            self.agents_by_type[Salesperson].shuffle_do("consider_leaving")
        self.firm = FirmTable.of(self)
        if self.cfg.engine == "agent":
            self.agents_by_type[Salesperson].shuffle_do("visit_accounts")
            self.suppliers.shuffle_do("serve_accounts")
            self.buyers.shuffle_do("place_order")
            self.suppliers.shuffle_do("fill_orders")
            self.buyers.shuffle_do("evaluate")
            self.suppliers.shuffle_do("invest")
        else:
            everyone = slice(0, self.ties.trust.shape[0])
            t = self.ties
            phases.sales_visits(self, *np.nonzero(t.active & (t.owner >= 0)))
            phases.department_contacts(self, slice(None))
            phases.place_orders(self, everyone)
            self.suppliers.shuffle_do("fill_orders")
            phases.evaluate_purchases(self, everyone)
            phases.tend_ties(self, everyone)
            phases.invest_and_improve(self, slice(None))
        collect = self.steps % self.cfg.collect_every == 0
        # the summary window needs every step's metrics, however often data are collected
        in_window = self.cfg.warmup_share * self.cfg.steps < self.steps <= self.cfg.steps
        close_books(self, report=collect or in_window)
        if collect:
            self.datacollector.collect(self)
        elif in_window:
            self.window_rows.extend(
                {"step": self.steps, "supplier": s.index, "strategy": s.strategy,
                 **{k: s.metrics.get(k, float("nan")) for k in SUPPLIER_METRICS}}
                for s in self.supplier_list
            )
            self.window_market.append(
                {"step": self.steps,
                 **{k: f(self) for k, f in self.datacollector.model_reporters.items()}}
            )
        self.active_columns = None  # found by close_books for this step's reporters only

    # ------------------------------------------------------------ results

    def supplier_frame(self) -> pd.DataFrame:
        """Tidy table: one row per collected step × supplier."""
        df = self.datacollector.get_agenttype_vars_dataframe(Supplier).reset_index()
        df = df.rename(columns={"Step": "step"}).drop(columns=["AgentID"])
        df["step"] = df["step"].astype(np.int64)
        df["supplier"] = df["supplier"].astype(np.int64)
        return df

    def summary(self) -> dict[str, Any]:
        """Outcomes averaged over the last ``1 − warmup_share`` of the steps, as in summary.json.

        ``strategies[name]`` averages over the (step, supplier) rows of the
        suppliers following that strategy in the window, so it reads "per
        supplier"; ``suppliers`` lists each supplier's own averages. Every step
        of the window counts, whether or not it was collected (``collect_every``
        does not change the summary): the steps between collections are kept
        in :attr:`window_rows` and :attr:`window_market`.
        """
        df = self.supplier_frame()
        if self.window_rows:
            df = pd.concat([df, pd.DataFrame(self.window_rows)], ignore_index=True)
            df = df.sort_values(["step", "supplier"], kind="stable", ignore_index=True)
        if df.empty:
            raise RuntimeError("no data collected yet: run the model first")
        window = df[df["step"] > self.cfg.warmup_share * self.steps]
        if window.empty:
            window = df[df["step"] == df["step"].max()]
        metrics = list(SUPPLIER_METRICS)

        def averages(frame: pd.DataFrame) -> dict[str, float]:
            means = frame[metrics].mean(numeric_only=True)
            return {k: _clean(means[k]) for k in metrics}

        strategies = {
            name: {"n_suppliers": int(frame["supplier"].nunique()), **averages(frame)}
            for name, frame in window.groupby("strategy", sort=True)
        }
        market = self.datacollector.get_model_vars_dataframe()
        market.index = (market.index + 1) * self.cfg.collect_every  # the step of each row
        if self.window_market:
            extra = pd.DataFrame(self.window_market).set_index("step")
            market = pd.concat([market, extra]).sort_index(kind="stable")
        in_window = market[market.index > self.cfg.warmup_share * self.steps]
        last = {s.index: s.strategy for s in self.supplier_list}
        suppliers = [
            {"id": int(j), "strategy": last[int(j)], **averages(frame)}
            for j, frame in window.groupby("supplier", sort=True)
        ]
        return {
            "steps": int(self.steps),
            "window": [int(window["step"].min()), int(window["step"].max())],
            "strategies": strategies,
            "suppliers": suppliers,
            # market-wide reporters over every step of the window (e.g. the WKH order)
            "market": {k: _clean(in_window[k].mean()) for k in MARKET_METRICS},
        }


def _metric(name: str):
    """Reporter reading one key of a supplier's metrics."""
    return lambda supplier: supplier.metrics.get(name, float("nan"))


def _clean(value: Any) -> float | None:
    """JSON-safe float: NaN (no data in the window) becomes None."""
    value = float(value)
    return None if math.isnan(value) else value
