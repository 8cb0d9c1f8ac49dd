"""The dashboard's one door to the model: build, step, read, and schedule shocks.

Everything the dashboard knows about a run comes through this module, so a
change inside the model means re-pointing these functions only. It reads
public things: ``model.steps``, ``model.supplier_list`` (each supplier's
``index``, ``strategy`` and ``metrics``), and the market state
``model.market``: ``buyers.main_supplier``, ``buyers.volume``, ``ties.trust``
/ ``.partner``, ``salesforce.employer``, ``neighbours``, ``departures``; and
``model.cfg.scenario.events``; it writes only through ``model.step()`` and
``model.schedule.add`` (:class:`sim.shocks.Schedule`). It never reads the
DataCollector: its tables are rebuilt while a step runs, which is what made
the old dashboard crash (``dictionary changed size during iteration``).

The readers copy what they return, so a caller may keep it while the model
steps on.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.config import Config, EventConfig
from sim.model import RelationshipModel

#: Supplier outcomes the dashboard tracks per step (names of ``Supplier.metrics``).
TRACKED: tuple[str, ...] = (
    "accounts",
    "market_share",
    "mean_trust",
    "loyalty_person",
    "loyalty_firm",
    "person_bound_share",
    "profit",
    "transaction_cost",
    "strategic_partners",
    "silent_churn",
    "voiced_churn",
    "price",
    "coordination",  # κ of the firm's current strategy: shows a strategy switch
)
#: Shocks the dashboard can schedule, and how big and long they are.
SHOCK_EVENTS: dict[str, dict[str, object]] = {
    "salesperson_leaves": {},
    "quality_failure": {"department": "product", "severity": 0.8, "duration": 3},
    "price_war": {"severity": 0.2, "duration": 10},
    "switch_strategy": {"strategy": "company_wide"},
}


@dataclass(frozen=True)
class MarketNow:
    """The suppliers at one step: ``values[k]`` has one entry per supplier."""

    step: int
    n_buyers: int
    strategies: tuple[str, ...]
    values: dict[str, np.ndarray]

    @property
    def customers(self) -> np.ndarray:
        """Main customers per supplier (0 before the first step)."""
        return np.nan_to_num(self.values["accounts"]).astype(np.int64)


@dataclass(frozen=True)
class NetworkNow:
    """The drawn buyers now: main supplier (-1: none), trust in it, partner flag, volume."""

    main: np.ndarray
    trust: np.ndarray
    partner: np.ndarray
    volume: np.ndarray
    salespeople: tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """Which buyers are drawn, where, and the word-of-mouth edges among them."""

    drawn: np.ndarray
    xy: np.ndarray
    edges: np.ndarray


@dataclass(frozen=True)
class Departure:
    """A salesperson who left: when, from and to which supplier, with how many buyers."""

    step: int
    supplier: int
    target: int | None
    buyers: int
    customers: int


def build(cfg: Config) -> RelationshipModel:
    """A new run of the model from a validated config."""
    return RelationshipModel(cfg)


def advance(model: RelationshipModel) -> None:
    """One step of the model."""
    model.step()


def read(model: RelationshipModel) -> MarketNow:
    """The suppliers' tracked outcomes now (NaN before the first step)."""
    suppliers = model.supplier_list
    values = {
        k: np.array([float(s.metrics.get(k, np.nan)) for s in suppliers]) for k in TRACKED
    }
    return MarketNow(
        step=int(model.steps),
        n_buyers=int(model.ties.trust.shape[0]),
        strategies=tuple(s.strategy for s in suppliers),
        values=values,
    )


def layout(model: RelationshipModel, max_drawn: int) -> Layout:
    """At most ``max_drawn`` buyers, placed by a seeded spring layout of their network."""
    n = model.ties.trust.shape[0]
    rng = np.random.default_rng(0)
    drawn = np.sort(rng.choice(n, max_drawn, replace=False)) if n > max_drawn else np.arange(n)
    adj = model.market.neighbours[drawn][:, drawn].tocoo()
    graph = nx.Graph()
    graph.add_nodes_from(range(drawn.size))
    graph.add_edges_from(zip(adj.row.tolist(), adj.col.tolist(), strict=True))
    pos = nx.spring_layout(graph, seed=0, iterations=40)
    xy = np.array([pos[i] for i in range(drawn.size)]).reshape(-1, 2)
    xy = xy - np.median(xy, axis=0)
    xy = np.clip(xy / max(1e-9, float(np.percentile(np.abs(xy), 97))), -1.1, 1.1)
    edges = np.column_stack([adj.row, adj.col])
    return Layout(drawn, xy, edges[edges[:, 0] < edges[:, 1]])


def read_network(model: RelationshipModel, drawn: np.ndarray) -> NetworkNow:
    """The drawn buyers' ties to their main supplier, and each supplier's sales force size."""
    main = model.market.buyers.main_supplier[drawn].copy()
    col = np.maximum(main, 0)
    has = main >= 0
    m = len(model.supplier_list)
    employer = np.asarray(model.market.salesforce.employer)
    return NetworkNow(
        main=main,
        trust=np.where(has, model.ties.trust[drawn, col], 0.0).astype(float),
        partner=has & model.ties.partner[drawn, col],
        volume=np.asarray(model.market.buyers.volume[drawn], dtype=float),
        salespeople=tuple(int((employer == j).sum()) for j in range(m)),
    )


def scheduled(model: RelationshipModel) -> list[EventConfig]:
    """The events of the run's scenario (the lesson's own shocks)."""
    return list(model.cfg.scenario.events)


def schedule_shock(model: RelationshipModel, kind: str, supplier: int) -> EventConfig:
    """Schedule a shock on ``supplier`` for the next step (M15); the event scheduled."""
    if kind not in SHOCK_EVENTS:
        raise ValueError(f"unknown shock {kind!r}: one of {list(SHOCK_EVENTS)}")
    if not 0 <= supplier < len(model.supplier_list):
        raise ValueError(f"no supplier {supplier}")
    event = EventConfig(kind=kind, t=int(model.steps) + 1, supplier=supplier,
                        **SHOCK_EVENTS[kind])  # type: ignore[arg-type]
    model.schedule.add(event)
    return event


def departures_since(model: RelationshipModel, step: int) -> list[Departure]:
    """Salespeople who left at ``step`` or later (scheduled, pressed or by turnover)."""
    return [
        Departure(step=int(d["step"]), supplier=int(d["from"]),
                  target=None if d["to"] is None else int(d["to"]),
                  buyers=int(np.size(d["accounts"])), customers=int(np.size(d["main_accounts"])))
        for d in list(model.market.departures)
        if d["step"] >= step
    ]
