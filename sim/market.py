"""The market's state: every array the phases read and write, in one typed object (M1–M4).

:class:`Market` is the single source of truth of a run. The model owns one
(:mod:`sim.build` draws it from a config);
the phases (:mod:`sim.phases`) change it through the rules of
:mod:`sim.rules`; the Mesa agents (:mod:`sim.agents`) are live views of its
rows; metrics, shocks, the dashboard and the what-if read and write it, never
a copy.

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
from sim.ties import Ties

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse as sp

    from sim.config import StrategyConfig

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


#: "no purchase": a step far enough in the past that ``last > t − 2W`` never holds for it,
#: and small enough that ``t − NEVER`` fits int32 for every accepted ``t`` and ``W``
NEVER = -(2**30)


#: suppliers whose purchases a buyer's account history keeps (the last ones it bought from
#: as main supplier); a buyer considers 3 suppliers by default
ACCOUNT_SLOTS = 4


@dataclass
class AccountHistory:
    """Each buyer's purchases from its main suppliers, kept for retention over a window (M14).

    One record per buyer and slot, at most :data:`ACCOUNT_SLOTS` slots: slot 0
    is the supplier it last bought from as main supplier, slot 1 the one
    before, and so on (``supplier`` −1: none). A record holds, for its
    supplier, the buyer's purchases as main supplier summarised as *spells*
    (runs of purchases no more than ``W`` steps apart): ``start`` is the first
    purchase of the current spell, ``last`` the last purchase and ``before``
    the last purchase before the spell (:data:`NEVER` if none). That is enough
    to tell, for any step ``t``, whether the buyer bought in the window
    ``(t−2W, t−W]`` and in ``(t−W, t]`` (:func:`sim.metrics.windowed_retention`),
    in O(buyers) memory and time.
    """

    supplier: np.ndarray  # int32 (N, slots): the record's supplier, −1 none
    start: np.ndarray  # int32 (N, slots): first purchase of the current spell
    last: np.ndarray  # int32 (N, slots): last purchase
    before: np.ndarray  # int32 (N, slots): last purchase before the current spell

    @classmethod
    def empty(cls, n_buyers: int, n_suppliers: int) -> AccountHistory:
        """No purchases yet; ``min(n_suppliers, ACCOUNT_SLOTS)`` slots per buyer."""
        shape = (n_buyers, max(1, min(n_suppliers, ACCOUNT_SLOTS)))
        never = lambda: np.full(shape, NEVER, dtype=np.int32)  # noqa: E731
        return cls(supplier=np.full(shape, -1, dtype=np.int32), start=never(), last=never(),
                   before=never())

    def records(self) -> tuple[np.ndarray, ...]:
        """The four arrays, in the order supplier, start, last, before."""
        return self.supplier, self.start, self.last, self.before


@dataclass
class Procurement:
    """Each buyer's procurement books since the run began (M11, F7, L4).

    Cumulative per buyer: volume ordered, non-productive face time
    ``Σ volume·τ``, procurement cost and ``Σ volume·T`` (so the buyer's
    volume-weighted trust in its suppliers). Read by the F7 check and by the
    what-if; :meth:`since` gives the books of a later window.
    """

    volume: np.ndarray
    nonproductive_time: np.ndarray
    cost: np.ndarray
    trusted_volume: np.ndarray

    @classmethod
    def empty(cls, n_buyers: int) -> Procurement:
        """Books of ``n_buyers`` buyers that have bought nothing yet."""
        return cls(*(np.zeros(n_buyers) for _ in range(4)))

    def book(self, buyer: np.ndarray, volume: np.ndarray, share: np.ndarray,
             cost: np.ndarray, trust: np.ndarray) -> None:
        """Add purchases (one entry per order) to their buyers' books."""
        n = self.volume.size
        for total, amount in ((self.volume, volume), (self.nonproductive_time, volume * share),
                              (self.cost, cost), (self.trusted_volume, volume * trust)):
            total += np.bincount(buyer, weights=amount, minlength=n)

    def copy(self) -> Procurement:
        """A snapshot of the books."""
        return Procurement(*(a.copy() for a in self.__dict__.values()))

    def since(self, earlier: Procurement) -> Procurement:
        """The books of the steps after the snapshot ``earlier``."""
        return Procurement(*(a - b for a, b in zip(self.__dict__.values(),
                                                   earlier.__dict__.values(), strict=True)))


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
    #: the outcomes of the last collected step, one array per name of
    #: :data:`sim.metrics.SUPPLIER_METRICS` (int64 for counts, else float64; empty before
    #: the first collection)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.strategy)

    def metric(self, name: str, j: int) -> float:
        """Supplier ``j``'s last collected value of outcome ``name`` (NaN if none yet).

        An int for a count (:data:`sim.metrics.COUNTS`), so that the
        DataCollector's count columns are integers.
        """
        values = self.metrics.get(name)
        return values[j].item() if values is not None and j < values.shape[0] else float("nan")


class SalesForce:
    """Skill, promise inflation, capacity, employer and hiring step per salesperson.

    Salespeople are few and change rarely (hired, poached, quit), so the
    arrays are appended to and edited in place; a salesperson's index is the
    global id that the ties' ``owner`` field names, and it survives a move to
    a competitor. A salesperson who left the market has employer −1; the
    index stays reserved, since tie arrays may still name it as a former owner.
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


@dataclass
class Learning:
    """What adapting suppliers have learned (L2, M1): propensities, choices, profit memory.

    Present only when ``adaptation`` is not ``none``. Propensities (Roth–Erev,
    :mod:`sim.rules.adaptation`) are per supplier and option: ``price`` per
    buyer class (0 searchers, 1 loyal buyers) and markup, ``serving`` per
    serving rule, ``strategy`` per strategy. ``adapts`` is False for the
    suppliers that keep their configured policy (``adaptation.fixed``).
    """

    price: np.ndarray  # float64 (M, 2, K): markup propensities, searchers and loyal buyers
    serving: np.ndarray  # float64 (M, R): serving-rule propensities
    strategy: np.ndarray  # float64 (M, S): strategy propensities
    chosen_price: np.ndarray  # int64 (M, 2): markup played this step per class
    chosen_serving: np.ndarray  # int64 (M,): serving rule played, −1: the configured rule
    chosen_strategy: np.ndarray  # int64 (M,): strategy played (index into STRATEGIES)
    loyal_base: np.ndarray  # float64 (M,): base price for loyal buyers (searchers: Firms.price)
    aspiration: np.ndarray  # float64 (M,): ρ, recent profit (NaN before the first step)
    deviation: np.ndarray  # float64 (M,): σ, typical |π − ρ|
    cash_before: np.ndarray  # float64 (M,): cash at the start of the step
    window_profit: np.ndarray  # float64 (M,): profit since the last imitation round
    adapts: np.ndarray  # bool (M,)
    short: np.ndarray  # bool (M,): stock ran short this step, so the serving rule mattered
    classes: bool = True  # loyal buyers have a price of their own

    @classmethod
    def start(cls, prices: np.ndarray, n_markups: int, n_rules: int, n_strategies: int,
              q0: float, fixed: list[int], classes: bool) -> Learning:
        """Every option equally likely (``q₀``); the configured prices; nothing played yet."""
        m = prices.size
        adapts = np.ones(m, dtype=bool)
        adapts[[j for j in fixed if j < m]] = False
        return cls(
            price=np.full((m, 2, n_markups), q0), serving=np.full((m, n_rules), q0),
            strategy=np.full((m, n_strategies), q0),
            chosen_price=np.zeros((m, 2), dtype=np.int64),
            chosen_serving=np.full(m, -1, dtype=np.int64),
            chosen_strategy=np.zeros(m, dtype=np.int64), loyal_base=prices.astype(np.float64),
            aspiration=np.full(m, np.nan), deviation=np.zeros(m), cash_before=np.zeros(m),
            window_profit=np.zeros(m), adapts=adapts, short=np.zeros(m, dtype=bool),
            classes=classes,
        )

    def grow(self, prices: np.ndarray, q0: float) -> None:
        """Entrants (M15) join with fresh propensities; they adapt."""
        m, old = prices.size, self.adapts.size
        if m <= old:
            return
        new = m - old

        def more(a: np.ndarray, fill: float) -> np.ndarray:
            return np.concatenate([a, np.full((new, *a.shape[1:]), fill, dtype=a.dtype)])

        self.price, self.serving, self.strategy = (
            more(self.price, q0), more(self.serving, q0), more(self.strategy, q0))
        self.chosen_price = more(self.chosen_price, 0)
        self.chosen_serving = more(self.chosen_serving, -1)
        self.chosen_strategy = more(self.chosen_strategy, 0)
        self.loyal_base = np.concatenate([self.loyal_base, prices[old:]])
        self.aspiration = more(self.aspiration, np.nan)
        self.deviation, self.cash_before, self.window_profit = (
            more(self.deviation, 0.0), more(self.cash_before, 0.0), more(self.window_profit, 0.0))
        self.adapts = more(self.adapts, True)
        self.short = more(self.short, False)


@dataclass(frozen=True)
class FirmTable:
    """Per-supplier policy arrays for the current step (M1)."""

    list_price: np.ndarray  # base price × strategy's price factor, after any price-war cut
    health: np.ndarray
    coordination: np.ndarray  # κ
    person_share: np.ndarray  # ρ
    cross_functional_rate: np.ndarray
    dependency_investment: np.ndarray
    monitor_after: np.ndarray  # m, 0 = no monitoring
    complaint_handling: np.ndarray  # probability a complaint is answered per step
    overhead_per_account: np.ndarray
    #: list price for each firm's loyal buyers (None: one price for every buyer)
    loyal_price: np.ndarray | None = None
    #: each firm's serving rule this step, an index into ``adaptation.serving_rules``
    #: (−1: the configured rule, partners then loyal buyers); None: all configured
    serving_rule: np.ndarray | None = None

    @classmethod
    def of(cls, market: Market, strategies: StrategyConfig) -> FirmTable:
        """Gather the arrays from the firms' current strategies.

        Complaint handling is the profile's rate times the capability of the
        service department (1 if the market has none, as in WKH).
        """
        firms = market.firms
        profiles = [strategies.profile(name) for name in firms.strategy]

        def col(name: str, dtype: type = np.float32) -> np.ndarray:
            return np.array([getattr(p, name) for p in profiles], dtype=dtype)

        service = (
            firms.capability[:, market.departments.index("service")]
            if "service" in market.departments
            else np.ones(len(firms), dtype=np.float32)
        )

        def listed(base: np.ndarray) -> np.ndarray:
            """A base price as buyers see it: the strategy's price factor, any price cut."""
            return base.astype(np.float32) * col("price_factor") * (1.0 - firms.price_cut)

        learning, loyal_price, serving_rule = market.learning, None, None
        if learning is not None and learning.classes:
            loyal_price = listed(learning.loyal_base)
        if learning is not None:
            serving_rule = learning.chosen_serving
        return cls(
            loyal_price=loyal_price,
            serving_rule=serving_rule,
            list_price=listed(firms.price),
            health=firms.health.astype(np.float32),
            coordination=col("coordination"),
            person_share=col("person_share"),
            cross_functional_rate=col("cross_functional_rate"),
            dependency_investment=col("dependency_investment"),
            monitor_after=col("monitor_silent_after", np.int32),
            complaint_handling=col("complaint_handling") * service,
            overhead_per_account=col("overhead_per_account"),
        )


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
    reach: np.ndarray  # who sells the service lines, κ + (1 − κ)·θ·skill (F11)
    satisfaction: np.ndarray | None = None  # S after the evaluation (M8)
    trust_after: np.ndarray | None = None  # T after the evaluation (M8)
    procurement_cost: np.ndarray | None = None  # the buyer's transaction cost (M11)

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
    #: ((first row, end row, step), flat indices of that block's live ties) while tending
    live: tuple[tuple[int, int, int], np.ndarray] | None = None
    #: market-wide outcomes of the last collected step (:data:`sim.metrics.MARKET_METRICS`)
    outcomes: dict[str, float] = field(default_factory=dict)
    #: the last DEPARTURE_LOG salesperson departures (step, salesperson, from, to, accounts)
    departures: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=DEPARTURE_LOG))
    procurement: Procurement = field(default=None)  # type: ignore[assignment]  # per buyer
    #: each buyer's purchases from its main suppliers (retention, M14); empty when not given
    accounts: AccountHistory = field(default=None)  # type: ignore[assignment]
    #: what adapting suppliers have learned (None: adaptation=none, policies are inputs)
    learning: Learning | None = None

    def __post_init__(self) -> None:
        self.new_buffers()
        if self.procurement is None:
            self.procurement = Procurement.empty(self.n_buyers)
        if self.accounts is None:
            self.accounts = AccountHistory.empty(self.n_buyers, self.n_suppliers)

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
