"""The market's state: every array the phases read and write, in one typed object (M1–M4).

:class:`Market` is the single source of truth of a run. The model owns one;
the phases (:mod:`sim.phases`) change it through the rules of
:mod:`sim.rules`; the Mesa agents (:mod:`sim.agents`) are live views of its
rows; metrics, shocks, the dashboard and the what-if read and write it, never
a copy. :func:`build_market` draws a new market from a config.

Per-buyer arrays have one entry per buyer (M3), per-firm arrays one per
supplier (M1), the sales force one per salesperson ever hired (M2) and the
ties one per (buyer, supplier) pair (M4).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.ledger import Ledger
from sim.salesforce import SalesForce
from sim.ties import Stage, Ties

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse as sp

    from sim.config import Config, RelationshipConfig
    from sim.strategies import FirmTable

F32 = np.float32
#: departures kept in :attr:`Market.departures`: bounded, so that long runs with
#: turnover keep a constant memory
DEPARTURE_LOG = 1000


@dataclass
class Buyers:
    """Per-buyer parameters (M3) and each buyer's main supplier."""

    volume: np.ndarray  # float32: volume per purchase (value tier)
    needs: np.ndarray  # float32 (N, D): needs w[i,d] over departments, rows sum to 1
    adversarial: np.ndarray  # bool: stance (F8)
    price_sensitivity: np.ndarray  # float32: λ_i (adversarial buyers weigh price more)
    beta: np.ndarray  # float32: choice intensity β_i
    memory: np.ndarray  # float32: γ_i of the WKH attraction
    voice: np.ndarray  # float32: propensity to complain rather than fall silent (M9)
    tolerance: np.ndarray  # float32: quality below this is a serious failure (F9)
    main_supplier: np.ndarray  # int64: supplier with the largest share of wallet, -1 none

    def __len__(self) -> int:
        return self.volume.shape[0]


@dataclass
class Firms:
    """Per-supplier state (M1): strategy, price, capabilities, books and last outcomes."""

    strategy: list[str]  # lone_seller | company_wide | hybrid
    price: np.ndarray  # float64: base list price (before the strategy's price factor)
    capability: np.ndarray  # float32 (M, D): c[j,d]
    quality_shock: np.ndarray  # float32 (M, D): share of performance lost to a failure (M15)
    price_cut: np.ndarray  # float32: share cut from the list price in a price war (M15)
    health: np.ndarray  # float64: financial health (F6)
    cash: np.ndarray  # float64: cumulative profit
    planned_salespeople: np.ndarray  # int64: the sales force's planned size
    #: the outcomes of the last collected step, one float64 array per name of
    #: :data:`sim.metrics.SUPPLIER_METRICS` (empty before the first collection)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.strategy)

    def metric(self, name: str, j: int) -> float:
        """Supplier ``j``'s last collected value of outcome ``name`` (NaN if none yet)."""
        values = self.metrics.get(name)
        return float(values[j]) if values is not None and j < values.shape[0] else float("nan")


@dataclass
class Purchases:
    """The purchases of this step's block of buyers, filled by :func:`sim.phases.deliver`.

    One entry per (buyer, supplier) order; the later phases of the same
    block read it (evaluation, voice, transaction cost, learning, books).
    """

    rows: slice  # the buyer block
    local: np.ndarray  # buyer index within the block
    buyer: np.ndarray
    supplier: np.ndarray
    volume: np.ndarray  # volume ordered
    short: np.ndarray  # bool: not shipped (stock-out, L2)
    needs: np.ndarray  # the buyer's needs w[i,·]
    knowledge: np.ndarray  # K before this purchase
    promised: np.ndarray  # E (M7)
    quality: np.ndarray  # q delivered (0 when short)
    trust_before: np.ndarray  # T before the evaluation
    partnership: np.ndarray  # bool: the buyer's stance is partnership
    price_paid: np.ndarray  # list price after any haggling (F8)
    satisfaction: np.ndarray | None = None  # S after the evaluation (M8)
    trust_after: np.ndarray | None = None  # T after the evaluation (M8)

    def __len__(self) -> int:
        return self.buyer.size


@dataclass
class Market:
    """Buyers, firms, sales force, ties, this step's books and buffers: the whole state."""

    departments: list[str]
    is_product: np.ndarray  # bool per department
    buyers: Buyers
    firms: Firms
    salesforce: SalesForce
    ties: Ties
    ledger: Ledger
    graph: nx.Graph  # buyer–buyer word of mouth
    neighbours: sp.csr_matrix  # its row-normalised adjacency
    supply_capacity: float | None  # units per supplier and step, None: unlimited
    uncertainty: float  # environmental uncertainty (M12, M15)
    demand_cut: float = 0.0  # share of purchase needs lost to a demand shock (M15)
    now: int = 0  # the current step
    orders: np.ndarray = field(default=None)  # type: ignore[assignment]  # (N, M) this step
    stockout: np.ndarray = field(default=None)  # type: ignore[assignment]  # (N, M) bool
    failures: np.ndarray = field(default=None)  # type: ignore[assignment]  # serious, (N, M)
    policy: FirmTable | None = None  # the firms' policy arrays of this step (M1)
    purchases: Purchases | None = None  # the current buyer block's purchases
    #: market-wide outcomes of the last collected step (:data:`sim.metrics.MARKET_METRICS`)
    outcomes: dict[str, float] = field(default_factory=dict)
    #: the last DEPARTURE_LOG salesperson departures (step, salesperson, from, to, accounts)
    departures: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=DEPARTURE_LOG))

    def __post_init__(self) -> None:
        self.new_buffers()

    @property
    def n_buyers(self) -> int:
        return self.ties.trust.shape[0]

    @property
    def n_suppliers(self) -> int:
        return self.ties.trust.shape[1]

    @property
    def demand_factor(self) -> float:
        """Share of normal purchase needs left after demand shocks (M15)."""
        return max(0.0, 1.0 - self.demand_cut)

    def new_buffers(self) -> None:
        """Per-step order, stock-out and failure buffers sized to the current market."""
        shape = (self.n_buyers, self.n_suppliers)
        self.orders = np.zeros(shape, dtype=F32)
        self.stockout = np.zeros(shape, dtype=bool)
        self.failures = np.zeros(shape, dtype=bool)

    def clear_buffers(self) -> None:
        """Start a step: empty books and buffers."""
        self.ledger.reset(self.n_suppliers)
        self.orders.fill(0.0)
        self.stockout.fill(False)
        self.failures.fill(False)


# ------------------------------------------------------------------ building


def draw_buyers(cfg: Config, is_product: np.ndarray, rng: np.random.Generator) -> Buyers:
    """Each buyer's volume, needs, stance and behaviour (M3)."""
    b = cfg.buyers
    n = cfg.market.n_buyers
    sigma = b.volume_sigma
    volume = rng.lognormal(-0.5 * sigma**2, sigma, n).astype(F32)
    needs = np.zeros((n, is_product.size), dtype=F32)
    other = ~is_product
    needs[:, is_product] = 1.0
    if other.any():
        # large accounts need service, installation, logistics and finance too (M3, F1)
        relative = volume / volume.mean()
        breadth = np.minimum(1.0, b.needs_breadth * relative**b.breadth_volume_elasticity)
        spread = rng.dirichlet(np.full(other.sum(), b.needs_concentration), n)
        needs[:, is_product] = (1.0 - breadth)[:, None]
        needs[:, other] = breadth[:, None] * spread
    adversarial = rng.random(n) < b.adversarial_share
    return Buyers(
        volume=volume,
        needs=needs,
        adversarial=adversarial,
        price_sensitivity=(
            b.price_sensitivity * np.where(adversarial, b.adversarial_price_factor, 1.0)
        ).astype(F32),
        beta=np.full(n, b.choice_intensity, dtype=F32),
        memory=np.full(n, b.memory, dtype=F32),
        voice=np.full(n, b.voice_propensity, dtype=F32),
        tolerance=np.full(n, b.failure_tolerance, dtype=F32),
        main_supplier=np.full(n, -1, dtype=np.int64),
    )


def build_market(cfg: Config, rng: np.random.Generator) -> Market:
    """A new market drawn from ``cfg``: buyers, firms, graphs, ties and sales forces.

    Every random number comes from ``rng``, in a fixed order (buyers,
    capabilities, prices, word-of-mouth graph, consideration sets, sales
    forces), so that a seed fixes the market.
    """
    from sim.network import consideration_sets, neighbour_average, word_of_mouth_graph
    from sim.salesforce import staff
    from sim.strategies import FirmTable

    market_cfg = cfg.market
    n, m = market_cfg.n_buyers, market_cfg.n_suppliers
    departments = list(market_cfg.departments)
    is_product = np.array([d == "product" for d in departments])
    buyers = draw_buyers(cfg, is_product, rng)
    shape = (m, len(departments))
    capability = np.clip(
        rng.normal(market_cfg.capability_mean, market_cfg.capability_sd, shape), 0.0, 1.0
    ).astype(F32)
    fair_share = n * cfg.buyers.purchase_prob * float(buyers.volume.mean()) / m
    prices = market_cfg.price * (1.0 + market_cfg.price_dispersion * rng.standard_normal(m))
    assignment = cfg.strategy.assignment
    firms = Firms(
        strategy=[assignment[j % len(assignment)] for j in range(m)],
        price=np.array([float(p) for p in prices], dtype=np.float64),
        capability=capability,
        quality_shock=np.zeros_like(capability),
        price_cut=np.zeros(m, dtype=F32),
        health=np.full(m, 0.5),
        cash=np.zeros(m),
        planned_salespeople=np.ones(m, dtype=np.int64),
    )
    graph = word_of_mouth_graph(n, cfg.network, seed=int(rng.integers(2**31)))
    ties = Ties.empty(n, m, cfg.relationship.initial_trust)
    ties.considers[:] = consideration_sets(n, m, cfg.network.consideration, rng)
    ties.active[:] = ties.considers
    market = Market(
        departments=departments,
        is_product=is_product,
        buyers=buyers,
        firms=firms,
        salesforce=SalesForce(),
        ties=ties,
        ledger=Ledger(m, len(departments)),
        graph=graph,
        neighbours=neighbour_average(graph),
        supply_capacity=(
            None if market_cfg.supply_capacity is None else market_cfg.supply_capacity * fair_share
        ),
        uncertainty=market_cfg.uncertainty,
    )
    for j in range(m):
        staff(market, cfg.sales, rng, j)
    market.policy = FirmTable.of(market, cfg.strategy)
    return market


# ------------------------------------------------------------------ changes of structure


def reopen(
    market: Market, rel: RelationshipConfig, rng: np.random.Generator, b: np.ndarray,
    s: np.ndarray,
) -> None:
    """(Re)start ties (b, s) at awareness, as new relationships (M13).

    Trust restarts at ``T₀``, satisfaction at 0.5, commitment and dependency
    at 0; the firm remembers half of what it knew of the buyer. An account
    whose owner no longer works for the firm goes to one of its salespeople
    at random.
    """
    if b.size == 0:
        return
    t = market.ties
    t.active[b, s] = True
    t.stage[b, s] = Stage.AWARENESS
    t.trust[b, s] = rel.initial_trust
    t.satisfaction[b, s] = 0.5
    t.commitment[b, s] = 0.0
    t.dependency[b, s] = 0.0
    t.knowledge[b, s] *= 0.5
    t.last_contact[b, s] = market.now
    employed = market.salesforce.employer[np.maximum(t.owner[b, s], 0)] == s
    orphan = (t.owner[b, s] < 0) | ~employed
    for j in np.unique(s[orphan]):
        people = market.salesforce.of(int(j))
        sel = orphan & (s == j)
        if people.size:
            t.owner[b[sel], j] = people[rng.integers(people.size, size=int(sel.sum()))]


def add_supplier(market: Market, cfg: Config, rng: np.random.Generator, strategy: str) -> int:
    """A new entrant (M15): a firm with fresh capability that buyers start to consider.

    Returns its index. The step's books start again for the larger market.
    """
    from sim.salesforce import staff

    market_cfg, rel = cfg.market, cfg.relationship
    firms = market.firms
    j = len(firms)
    firms.strategy.append(strategy)
    firms.price = np.append(firms.price, float(market_cfg.price))
    firms.health = np.append(firms.health, 0.5)
    firms.cash = np.append(firms.cash, 0.0)
    firms.planned_salespeople = np.append(firms.planned_salespeople, 1)
    row = rng.normal(market_cfg.capability_mean, market_cfg.capability_sd, len(market.departments))
    firms.capability = np.vstack([firms.capability, np.clip(row, 0, 1).astype(F32)])
    firms.quality_shock = np.vstack(
        [firms.quality_shock, np.zeros(len(market.departments), F32)]
    )
    firms.price_cut = np.append(firms.price_cut, F32(0.0))
    market.ties.add_supplier(rel.initial_trust)
    n = market.n_buyers
    aware = rng.random(n) < min(1.0, cfg.network.consideration / (j + 1))
    market.ties.considers[:, j] = aware
    market.ties.active[:, j] = aware
    staff(market, cfg.sales, rng, j)
    market.new_buffers()
    market.ledger.reset(j + 1)
    return j
