"""Typed configuration of the relationship model, validated in one place.

Every parameter of the brief's reference equations is a field here, with a
default and a one-line description (the ``help`` metadata, shown by
``python -m sim --help`` through the YAML files in ``configs/``). The
dataclasses are registered in Hydra's ConfigStore as the schema of
``configs/config.yaml``; :func:`validate` turns a wrong value into one
:class:`ConfigError` that names the field, the value and what is allowed.
"""

from __future__ import annotations

import functools
import math
import types
from dataclasses import dataclass, field, is_dataclass
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

from sim import constraints
from sim.constraints import (
    ConfigError,
    Constraint,
    Interval,
    Names,
    Numbers,
    OneOf,
    check,
    expected,
    fail,
    type_ok,
)

if TYPE_CHECKING:
    from omegaconf import DictConfig

DEPARTMENTS: tuple[str, ...] = (
    "sales",
    "product",
    "service",
    "installation_training",
    "logistics",
    "finance",
    "engineering",
)
STRATEGIES: tuple[str, ...] = ("lone_seller", "company_wide", "hybrid")
NETWORKS: tuple[str, ...] = ("erdos_renyi", "watts_strogatz", "barabasi_albert")
ENGINES: tuple[str, ...] = ("vector", "agent")
PAYOFFS: tuple[str, ...] = ("surplus", "constant")
#: how suppliers change their own policy: not at all, by reinforcement, by imitation
ADAPTATIONS: tuple[str, ...] = ("none", "reinforcement", "imitation")
#: whom a seller serves first when stock is short (L2): its loyal buyers (strategic
#: partners, then attraction J), the largest orders, or in arrival (random) order
SERVING_RULES: tuple[str, ...] = ("loyalty", "volume", "first_come")
EVENT_KINDS: tuple[str, ...] = (
    "salesperson_leaves",
    "quality_failure",
    "price_war",
    "new_entrant",
    "uncertainty_shock",
    "demand_shock",
    "switch_strategy",
    "hire_salespeople",
    "invest_integration",
)


#: Largest count of anything per buyer (accounts, contacts, hires) the config accepts; the
#: number of buyers itself is bounded by the memory a run needs (:mod:`sim.resources`).
MAX_BUYERS = 100_000_000
#: Every supplier runs Python code each step (filling orders, its books, data collection), so
#: the cost of a step grows with the suppliers even in a small market: at 300 buyers a step
#: took 18 ms with 4 suppliers, 0.3 s with 100 and 1.9 s with 1,000 (busy 2-core machine).
MAX_SUPPLIERS = 1_000
#: Steps are counted in int32 tie arrays (last contact); a million steps of the default market
#: (18 ms per step measured) take about 5 hours.
MAX_STEPS = 1_000_000

# Bounds shared by many fields. The float32 tie arrays hold attraction J, which adds up a
# purchase's surplus v·q − price each step (M8), and the choice multiplies utilities by β (M6):
# with amounts ≤ 1e6, factors ≤ 100, weights ≤ 1e3 and at most MAX_STEPS steps, |β·U| stays
# below 1e17, far from float32's 3.4e38. (Before these bounds, choice_intensity=1e38 or
# value_per_quality=1e38 overflowed to inf and NaN.)
UNIT = constraints.UNIT
#: prices, values and costs per unit or per step
AMOUNT = Interval(0.0, 1e6)
PRICE = Interval(0.0, 1e6, open_lo=True)
#: weights and intensities of the choice utility (M6) and contact bonds
WEIGHT = Interval(0.0, 1e3)
#: price multipliers
FACTOR = Interval(0.0, 100.0, open_lo=True)
#: gains and weights whose result is clipped to [0, 1]: larger values change nothing
GAIN = Interval(0.0, 100.0)
#: standard deviations and promise inflation (results are clipped to [0, 1])
SPREAD = Interval(0.0, 10.0)
SUPPLIERS = Interval(1, MAX_SUPPLIERS, integer=True,
                     why="at 1,000 suppliers one step takes seconds")
STEPS = Interval(1, MAX_STEPS, integer=True,
                 why="a million steps of the default market take hours")
#: capped at the number of suppliers by the model (market=wkh considers 1,000,000: all)
CAPPED = Interval(1, math.inf, integer=True)
#: Each hire splits the largest book among all colleagues, so hiring takes time ∝ count²:
#: into 50 buyers, 200 hires took 1.4 s, 1,000 took 34 s (busy 2-core machine), 5,000 hung.
HIRES = Interval(1, 200, integer=True, why="hiring takes time ∝ count²: 1,000 hires take 30 s")
DEGREE = Interval(0, 10_000, integer=True, why="the graph holds n_buyers·degree/2 edges")
#: CLV = m·r/(1 + d − r) (M14): at full retention r = 1 it divides by d, which float64 loses
#: in 1 + d below d ≈ 2e-16 (then CLV = inf); 1e-6 keeps CLV ≤ 1e6·margin.
DISCOUNT = Interval(1e-6, 1.0, why="CLV = m·r/(1 + d − r) divides by d at full retention")
#: Buyer volumes are log-normal(−σ²/2, σ), mean 1, stored in float32: beyond σ ≈ 13 every
#: draw underflows to 0 and the mean volume is 0 (NaN breadth); at σ = 5 the median buyer
#: already buys e^(−12.5) ≈ 4e-6 of the mean, so larger σ model nothing more.
VOLUME_SIGMA = Interval(0.0, 5.0, why="volumes are float32 log-normal draws with mean 1")
#: breadth = needs_breadth·(volume/mean)^η in float32; volume/mean ≤ n_buyers, and even
#: (1e9)^4 = 1e36 < 3.4e38, whereas an overflow times needs_breadth = 0 is NaN.
ELASTICITY = Interval(0.0, 4.0, why="(volume/mean)^η must stay finite in float32")


def _f(default: Any, help: str, bounds: Constraint | None = None) -> Any:  # noqa: A002
    """A dataclass field with a one-line description and what it accepts, in its metadata."""
    meta = {"help": help, "bounds": bounds}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: default.copy(), metadata=meta)
    return field(default=default, metadata=meta)


def _unit(default: float, help: str) -> Any:  # noqa: A002
    """A share, probability, rate or threshold: a number in [0, 1]."""
    return _f(default, help, UNIT)


@dataclass
class StrategyProfile:
    """How a supplier following one strategy organises the account (M1, M5, M7–M10)."""

    coordination: float = _unit(0.5, "κ: how well departments keep the promises sales make")
    person_share: float = _unit(0.5, "ρ: share of each new bond that is bound to the salesperson")
    cross_functional_rate: float = _unit(
        0.0, "share of active accounts touched by other departments each step (F9)"
    )
    dependency_investment: float = _unit(
        0.0, "share of top accounts that get a dependency investment each step (M10)"
    )
    monitor_silent_after: int = _f(
        0, "m: contact accounts silent for more than m steps (0 = no monitoring policy, M9)",
        Interval(0, MAX_STEPS, integer=True),
    )
    complaint_handling: float = _unit(
        0.5, "probability per step that a pending complaint is answered (scaled by service)"
    )
    overhead_per_account: float = _f(
        0.0, "coordination overhead per active account per step, multiplied by κ",
        AMOUNT,
    )
    price_factor: float = _f(
        1.0, "list price relative to the market price (cost of the model)", FACTOR,
    )


#: The three strategies as parameter sets; the README's strategy table shows them.
PROFILES: dict[str, dict[str, float]] = {
    "lone_seller": {
        "coordination": 0.25, "person_share": 0.8, "cross_functional_rate": 0.0,
        "dependency_investment": 0.0, "monitor_silent_after": 0, "complaint_handling": 0.35,
        "overhead_per_account": 0.01, "price_factor": 1.0,
    },
    "company_wide": {
        "coordination": 0.9, "person_share": 0.2, "cross_functional_rate": 0.25,
        "dependency_investment": 0.05, "monitor_silent_after": 4, "complaint_handling": 0.8,
        "overhead_per_account": 0.1, "price_factor": 1.1,
    },
    "hybrid": {
        "coordination": 0.6, "person_share": 0.5, "cross_functional_rate": 0.1,
        "dependency_investment": 0.02, "monitor_silent_after": 8, "complaint_handling": 0.6,
        "overhead_per_account": 0.05, "price_factor": 1.05,
    },
}


def _profile(name: str) -> Any:
    """A dataclass field defaulting to the named strategy's profile."""
    return field(default_factory=lambda: StrategyProfile(**PROFILES[name]))


@dataclass
class StrategyConfig:
    """Which strategy each supplier follows, and what each strategy means (M1)."""

    name: str = _f("mixed", "label of this strategy preset")
    assignment: list[str] = _f(
        ["lone_seller", "company_wide"],
        "strategy of supplier j is assignment[j % len(assignment)]",
        Names(STRATEGIES),
    )
    lone_seller: StrategyProfile = _profile("lone_seller")
    company_wide: StrategyProfile = _profile("company_wide")
    hybrid: StrategyProfile = _profile("hybrid")

    def profile(self, strategy: str) -> StrategyProfile:
        """The profile of a strategy name."""
        return getattr(self, strategy)


@dataclass
class SalesConfig:
    """The sales force (M2, M5, M7)."""

    accounts_per_salesperson: int = _f(
        40, "accounts a supplier plans per salesperson", Interval(1, MAX_BUYERS, integer=True),
    )
    capacity: int = _f(
        8, "contacts a salesperson can make per step", Interval(0, MAX_BUYERS, integer=True),
    )
    skill_mean: float = _unit(0.7, "mean salesperson skill in [0,1]")
    skill_sd: float = _unit(0.1, "standard deviation of salesperson skill")
    coverage: float = _unit(
        0.6, "θ: how well a salesperson alone stands in for other departments (M7)"
    )
    promise_inflation: float = _f(0.02, "mean ψ: salespeople promise q̂·(1+ψ) (M7, F4)", SPREAD)
    promise_inflation_sd: float = _f(0.03, "spread of ψ across salespeople", SPREAD)
    departure_hazard: float = _unit(0.0, "probability per step that a salesperson leaves (M2)")
    poach_share: float = _unit(0.7, "share of departures that go to a competitor")
    portability: float = _unit(
        0.9, "share of person-bound loyalty that follows a poached salesperson (L3)"
    )
    contact_bond: float = _f(0.05, "bond added by one salesperson contact, times skill", WEIGHT)
    person_weight: float = _f(
        0.5, "ω: extra weight of salesperson-bound loyalty Lp in choice while the salesperson "
        "stays, J = Lf + (1+ω)·Lp (L3)", WEIGHT,
    )
    person_premium: float = _f(
        0.3, "η: salesperson-bound loyalty lowers price sensitivity, λ·exp(−η·Lp) (L3)", WEIGHT,
    )
    priority_risk_weight: float = _f(
        1.0, "weight of distrust (1 − T) in a salesperson's contact priority (M5)", WEIGHT,
    )
    priority_silence_steps: int = _f(
        10, "steps of silence at which the silence term of contact priority saturates (M5)",
        Interval(1, MAX_STEPS, integer=True),
    )
    priority_dependency_weight: float = _f(
        1.0, "weight of dependency D in contact priority: invested accounts first (M5, F6)",
        WEIGHT,
    )
    salary: float = _f(0.5, "cost of one salesperson per step", AMOUNT)


@dataclass
class MarketConfig:
    """The market: who is in it and how goods are priced and delivered (M1, M6, M7, M14)."""

    name: str = _f("default", "label of this market preset")
    n_buyers: int = _f(300, "number of buyers", Interval(1, math.inf, integer=True))
    n_suppliers: int = _f(4, "number of suppliers", SUPPLIERS)
    departments: list[str] = _f(
        list(DEPARTMENTS), "departments every supplier has", Names(DEPARTMENTS, unique=True),
    )
    capability_mean: float = _unit(0.7, "mean department capability c[j,d]")
    capability_sd: float = _unit(0.08, "spread of capability across suppliers and departments")
    price: float = _f(1.0, "list price per unit of volume", PRICE)
    price_dispersion: float = _unit(0.03, "relative spread of list prices across suppliers")
    unit_cost: float = _f(0.55, "cost per unit of volume delivered", AMOUNT)
    value_per_quality: float = _f(2.0, "v: buyer's value of one unit delivered at q=1", AMOUNT)
    noise: float = _f(0.08, "standard deviation of delivered performance (M7)", SPREAD)
    uncertainty: float = _f(
        0.0, "environmental uncertainty: scales demand/quality shocks (M12)", SPREAD,
    )
    supply_capacity: float | None = _f(
        None, "stock per supplier per step, in fair shares of demand; null = no limit",
        Interval(0.0, 1e6, open_lo=True),
    )
    payoff: str = _f(
        "surplus", "surplus: π = v·q − price; constant: π = profit_per_purchase", OneOf(PAYOFFS),
    )
    profit_per_purchase: float = _f(1.0, "π when payoff=constant (the WKH case, §4)", AMOUNT)
    financial_weight: float = _f(
        0.2, "weight of the supplier's financial health in choice (F6)", WEIGHT,
    )
    health_rate: float = _unit(0.1, "rate at which financial health follows the margin (M1)")
    service_wallet: float = _f(
        0.6, "spending on service lines (maintenance, training, financing, logistics) per unit "
        "of core volume, times the buyer's non-product needs (F11)", AMOUNT,
    )
    service_cost: float = _unit(
        0.4, "cost of delivering one unit of service spend (services carry high margins, F11)",
    )
    discount_rate: float = _f(
        0.02, "per-step discount rate for customer lifetime value (M14)", DISCOUNT,
    )
    retention_window: int = _f(
        12, "W: retention = share of accounts that bought in the previous W steps and buy "
        "again in the last W (M14)", Interval(1, MAX_STEPS, integer=True),
    )


@dataclass
class BuyersConfig:
    """Buyers' needs, stance and behaviour (M3)."""

    name: str = _f("default", "label of this buyer preset")
    needs_breadth: float = _unit(
        0.5, "share of needs outside product: 0 = product only, 1 = spread over all departments"
    )
    breadth_volume_elasticity: float = _f(
        0.5, "η: a buyer's breadth is needs_breadth·(volume/mean)^η, capped at 1 (M3)",
        ELASTICITY,
    )
    needs_concentration: float = _f(
        1.0, "Dirichlet concentration of non-product needs", Interval(1e-3, 1e3),
    )
    volume_sigma: float = _f(0.8, "log-normal σ of purchase volume (value tiers)", VOLUME_SIGMA)
    purchase_prob: float = _unit(0.7, "probability a buyer has a purchase need in a step")
    adversarial_share: float = _unit(0.3, "share of buyers with an adversarial stance (F8)")
    quotes: int = _f(
        2,
        "suppliers an adversarial buyer splits its order over",
        CAPPED,
    )
    haggle_discount: float = _unit(0.08, "price cut adversarial buyers push through (F8)")
    memory: float = _f(
        0.1, "γ: WKH forgetting rate of attraction, in (0,1]", Interval(0.0, 1.0, open_lo=True),
    )
    choice_intensity: float = _f(1.0, "β: logit choice intensity (M6)", WEIGHT)
    price_sensitivity: float = _f(4.0, "λ: weight of price in choice (M6)", WEIGHT)
    adversarial_price_factor: float = _f(
        2.0, "adversarial buyers weigh price this many times more", FACTOR,
    )
    switching_weight: float = _f(
        3.0, "σ: weight of dependency (switching cost) in choice (M6)", WEIGHT,
    )
    voice_propensity: float = _unit(0.5, "mean probability a dissatisfied buyer complains (M9)")
    failure_tolerance: float = _unit(0.3, "delivered q below this is a serious failure (F9)")


@dataclass
class RelationshipConfig:
    """Parameters of the tie dynamics M5–M13."""

    initial_trust: float = _unit(0.15, "T₀: trust of a new tie and the level decay returns to")
    trust_gain: float = _f(5.0, "a⁺: trust gain per unit of positive disconfirmation (M8)", GAIN)
    trust_loss: float = _f(9.0, "a⁻: trust loss per unit of negative disconfirmation (M8)", GAIN)
    tolerance_zone: float = _unit(
        0.2, "ν: dead band: a shortfall up to ν counts as a promise kept and moves trust neither "
        "way (M8)",
    )
    haggling_erosion: float = _unit(
        0.01, "trust an adversarial buyer's haggling wears away per purchase, T −= e·T (F8)",
    )
    satisfaction_rate: float = _unit(0.3, "rate at which satisfaction follows its target (M8)")
    disconfirmation_weight: float = _f(1.0, "weight of δ in the satisfaction target (M8)", GAIN)
    commitment_rate: float = _unit(0.1, "rate at which commitment follows trust·satisfaction (M8)")
    dissatisfied_below: float = _unit(
        0.5, "satisfaction below this makes a buyer dissatisfied (M9)",
    )
    silent_churn_hazard: float = _unit(
        0.15, "churn hazard per step of a silent dissatisfied tie (F5)",
    )
    voiced_churn_hazard: float = _unit(
        0.15, "churn hazard per step while a complaint is pending (equal to the silent one by "
        "default: silence is deadlier only because complaints get answered, F5)",
    )
    recovery: float = _unit(0.6, "share of lost trust recovered when a complaint is answered (M9)")
    decay: float = _unit(0.02, "ε: entropy decay of T, J and C per step without contact (M9, F5)")
    trust_floor: float = _unit(0.05, "trust below this dissolves the tie (M13)")
    failure_exit: float = _unit(0.3, "probability that a serious failure dissolves the tie (M13)")
    reconsider_rate: float = _unit(
        0.05, "probability per step that a dissolved tie is reconsidered",
    )
    initial_satisfaction: float = _unit(
        0.55, "S of a new or reopened tie (just above the default dissatisfaction threshold)",
    )
    reopen_knowledge_kept: float = _unit(
        0.5, "share of its customer knowledge K a firm keeps when a dissolved tie reopens (M13)",
    )
    stockout_quality: float = _unit(
        0.0, "delivered q the buyer experiences when its order is not filled (L2, M7)",
    )
    purchase_is_contact: bool = _f(
        True, "a purchase counts as contact: buying ties do not decay (M9)",
    )
    learning_rate: float = _unit(
        0.1, "r: knowledge K gained per interaction, K += r·o·(1−K) (M7, F10)",
    )
    learning_trust_weight: float = _unit(
        0.5, "w: share of what a seller learns that needs trust: o = (1 − w + w·T)·… (M12, F10)",
    )
    adversarial_withholding: float = _unit(
        0.7, "share of information an adversarial buyer withholds: o = …·(1 − h) (M12, F8)",
    )
    fit_gain: float = _f(0.3, "φ: performance grows by factor (1+φ·K) with knowledge (F10)", GAIN)
    dependency_step: float = _unit(0.15, "D gained per dependency investment, D += s·(1−D) (M10)")
    dependency_decay: float = _unit(0.01, "D lost per step, D −= d·D (M10)")
    dependency_binding: float = _unit(
        0.8, "b: dependency lowers the buyer's exit hazards, h·(1 − b·D) (M10, F6)",
    )
    dependency_cost: float = _f(0.3, "cost of one dependency investment (M14)", AMOUNT)
    contact_cost: float = _f(
        0.02, "cost of one cross-functional or monitoring contact (M14)", AMOUNT,
    )
    wallet_memory: float = _unit(0.2, "rate of the share-of-wallet moving average")
    tc_at_zero_trust: float = _unit(0.5, "τ(0): non-productive share of face time at no trust (F7)")
    tc_trust_slope: float = _unit(
        0.25, "τ(T) = τ(0) − slope·T; 0.25 gives τ(1) = 0.25, half of τ(0) (F7, Dyer & Chu)",
    )
    blame_share: float = _unit(
        0.5, "share of face time a promise broken beyond ν adds to the non-productive share, "
        "for blame (M11, F7)",
    )
    tc_cost: float = _f(
        0.2, "buyer's procurement cost per unit volume per unit of τ (M11, L4)", AMOUNT,
    )
    inspection_threshold: float = _unit(0.7, "trust above which inspection is skipped (M11)")
    inspection_cost: float = _f(
        0.15, "buyer's inspection cost per unit volume below the threshold (M11, L4)", AMOUNT,
    )
    serve_cost: float = _f(
        0.1, "supplier's cost to serve per unit volume per unit of τ (M11)", AMOUNT,
    )
    wallet_saving: float = _unit(
        0.5, "share of the cost to serve saved at full share of wallet (F11)",
    )
    improvement_threshold: float = _unit(0.6, "trust above which partners improve jointly (M12)")
    improvement_rate: float = _unit(0.002, "capability gain per qualifying purchase share (M12)")
    flexibility: float = _unit(0.6, "share of uncertainty shocks a trusted partner absorbs (M12)")
    expansion_trust: float = _unit(0.5, "trust to move exploration → expansion (M13)")
    expansion_wallet: float = _unit(0.3, "share of wallet to move exploration → expansion")
    commitment_trust: float = _unit(0.65, "trust to move expansion → commitment (M13)")
    commitment_level: float = _unit(0.4, "commitment to move expansion → commitment")
    commitment_wallet: float = _unit(0.5, "share of wallet to move expansion → commitment")
    partner_trust: float = _unit(0.75, "trust above which a committed supplier is promoted (F9)")
    partner_share: float = _unit(0.7, "share of volume a strategic partner gets first (F9)")
    word_of_mouth: float = _unit(0.02, "rate at which trust drifts to the neighbours' trust")


@dataclass
class NetworkConfig:
    """Consideration sets and the buyer–buyer word-of-mouth graph."""

    kind: str = _f(
        "watts_strogatz", "word-of-mouth graph generator (see NETWORKS)", OneOf(NETWORKS),
    )
    degree: int = _f(6, "mean degree of the word-of-mouth graph", DEGREE)
    rewiring: float = _unit(0.1, "Watts–Strogatz rewiring probability")
    consideration: int = _f(
        3,
        "suppliers each buyer considers (capped at n_suppliers)",
        CAPPED,
    )


@dataclass
class AdaptationConfig:
    """How suppliers learn their policy from their own profit, or copy rivals' (L2, M1).

    ``none`` keeps every policy a fixed input (the runs are bitwise those of a
    model without this group). ``reinforcement``: each supplier learns its price
    per buyer class, its serving rule when stock is short and, with
    ``learn_strategy``, its strategy, by Roth–Erev reinforcement on its profit
    (:mod:`sim.rules.adaptation`). ``imitation``: every ``revise_every`` steps a
    supplier copies a more profitable rival's strategy with Schlag's
    proportional-imitation probability.
    """

    name: str = _f("none", "none | reinforcement | imitation", OneOf(ADAPTATIONS))
    markups: list[float] = _f(
        [1.4, 1.6, 1.8, 2.0, 2.2],
        "price menu of reinforcement: base price = market.unit_cost × markup",
        Numbers(Interval(0.0, 100.0, open_lo=True), increasing=True),
    )
    serving_rules: list[str] = _f(
        list(SERVING_RULES), "serving rules a seller chooses among when stock is short (L2)",
        Names(SERVING_RULES, unique=True),
    )
    price_classes: bool = _f(
        True, "reinforcement learns one price for loyal buyers and one for searchers",
    )
    loyal_wallet: float = _unit(
        0.5, "a buyer is a seller's loyal buyer when its share of wallet exceeds this",
    )
    learn_strategy: bool = _f(
        False, "reinforcement also learns the strategy (κ, ρ, cross-functional contact)",
    )
    forgetting: float = _unit(0.05, "φ: Roth–Erev recency, q ← (1 − φ)·q + reinforcement")
    experimentation: float = _unit(
        0.05, "ε: share of a reinforcement spread over the options not chosen",
    )
    sensitivity: float = _f(
        1.0, "s: reinforcement R = s·(π − ρ)/σ, profit above the aspiration ρ in units of the "
        "typical profit deviation σ", WEIGHT,
    )
    aspiration_rate: float = _f(
        0.1, "w: aspiration and deviation follow profit, ρ ← (1 − w)·ρ + w·π",
        Interval(1e-3, 1.0, why="|R| ≤ s/w: the reinforcement stays finite"),
    )
    initial_propensity: float = _f(
        10.0, "q₀: every option's propensity at the start (larger: slower, steadier learning)",
        Interval(1e-3, 1e3),
    )
    propensity_floor: float = _f(
        0.05, "propensities never fall below this share of q₀ (every option stays possible)",
        Interval(1e-6, 1.0),
    )
    revise_every: int = _f(
        10, "k: imitation (and a learned strategy) is revised every k steps",
        Interval(1, MAX_STEPS, integer=True),
    )
    fixed: list[int] = _f(
        [], "suppliers that keep their configured policy (the what-if's own firm, 0)",
    )


@dataclass
class EventConfig:
    """A scheduled what-if event (M15)."""

    kind: str = _f("salesperson_leaves", "one of EVENT_KINDS", OneOf(EVENT_KINDS))
    t: int = _f(
        1, "step at which the event happens (1-based)", Interval(1, MAX_STEPS, integer=True),
    )
    supplier: int = _f(0, "supplier the event happens to", Interval(0, MAX_SUPPLIERS, integer=True))
    target: int = _f(
        -1,
        "competitor receiving a poached salesperson (-1 = random rival)",
        Interval(-1, MAX_SUPPLIERS, integer=True),
    )
    salesperson: int = _f(
        -1,
        "index within the supplier's sales force (-1 = most accounts)",
        Interval(-1, MAX_BUYERS, integer=True),
    )
    department: str = _f("product", "department of a quality failure")
    severity: float = _unit(0.5, "size of a failure, price cut or shock")
    duration: int = _f(1, "steps the event lasts", Interval(1, MAX_STEPS, integer=True))
    strategy: str = _f(
        "company_wide", "new strategy for switch_strategy / new_entrant", OneOf(STRATEGIES),
    )
    count: int = _f(
        1, "people hired (hire_salespeople) or top accounts (invest_integration)",
        HIRES,
    )
    cost: float = _f(
        0.0, "one-off cost booked when the event happens (e.g. a strategy switch)", AMOUNT,
    )


@dataclass
class ScenarioConfig:
    """A named list of scheduled events."""

    name: str = _f("baseline", "label of this scenario")
    events: list[EventConfig] = field(default_factory=list)


DESIGN_METHODS: tuple[str, ...] = ("sobol", "morris")


@dataclass
class DesignConfig:
    """A sensitivity design over uncertain parameters (SALib); see :mod:`sim.design`.

    With ``method`` set, run number ``row`` of the design sets each parameter
    in ``parameters`` (a dotted config path → [low, high]) to the design's
    value before the config is validated.
    """

    method: str = _f("", "sobol (Saltelli sample) or morris; empty: no design")
    samples: int = _f(64, "N: base samples (Sobol) or trajectories (Morris)")
    parameters: dict[str, list[float]] = _f({}, "dotted config path -> [low, high]")
    row: int = _f(-1, "which design point this run evaluates (-1: none)")
    seed: int = _f(0, "seed of the design's sampling")


@dataclass
class Config:
    """Root of the configuration: the top-level keys are fixed names."""

    seed: int = _f(
        0, "seed of every random stream of the run", Interval(0, 2**63 - 1, integer=True),
    )
    seeds: int = _f(
        1,
        "seeds per cell of an experiment's sweep (experiments/*/experiment.yaml)",
        Interval(1, 100_000, integer=True),
    )
    steps: int = _f(100, "purchase periods to simulate", STEPS)
    engine: str = _f(
        "vector", "vector (one call per phase) or agent (Buyer.step per buyer)", OneOf(ENGINES),
    )
    collect_every: int = _f(
        1, "collect supplier data every k steps", Interval(1, MAX_STEPS, integer=True),
    )
    warmup_share: float = _f(
        0.8,
        "summaries average the steps after this share of the run",
        Interval(0.0, 1.0, open_hi=True),
    )
    market: MarketConfig = field(default_factory=MarketConfig)
    buyers: BuyersConfig = field(default_factory=BuyersConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    sales: SalesConfig = field(default_factory=SalesConfig)
    relationship: RelationshipConfig = field(default_factory=RelationshipConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    adaptation: AdaptationConfig = field(default_factory=AdaptationConfig)
    design: DesignConfig = field(default_factory=DesignConfig)


def register_configs() -> None:
    """Register the schema of ``configs/config.yaml``: every key with its default.

    The node holds the defaults but not the types, so that Hydra accepts any
    value for a known key and :func:`to_config` checks it against the
    dataclasses: a wrongly typed override (``steps=abc``) then gives the same
    one-line :class:`ConfigError` as a value out of range, instead of Hydra's
    multi-line composition error. Unknown keys still need ``+key=value``
    (Hydra's override rule), and are then rejected by :func:`to_config`.
    """
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    cs = ConfigStore.instance()
    cs.store(name="schema", node=OmegaConf.to_container(OmegaConf.structured(Config)))


# ---------------------------------------------------------------- validation


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """The declared field types of a config dataclass (``typing.get_type_hints``, cached:
    the annotations are strings and evaluating them costs more than checking a config)."""
    return get_type_hints(cls)


def _check_types(obj: Any, prefix: str = "") -> None:
    """Every field of a config dataclass (recursively) has its annotated type."""
    for owner, f, path, value in constraints.walk(obj, prefix):
        tp = type_hints(type(owner))[f.name]
        if not type_ok(value, tp):
            fail(path, value, expected(tp))


def _check_plain(value: Any, tp: Any, path: str) -> None:
    """Check a plain container (from Hydra) against the dataclass type ``tp``, recursively.

    Unknown keys and values of the wrong type are reported with their full
    path (``scenario.events[0].t``) before OmegaConf builds the dataclasses.
    """
    if is_dataclass(tp):
        if not isinstance(value, dict):
            fail(path or "config", value, expected(tp))
        hints = type_hints(tp)
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in hints:
                raise ConfigError(f"{sub}={item!r} is not allowed: unknown key; expected a key "
                                  f"of {path or 'the config'}, one of {list(hints)}")
            _check_plain(item, hints[key], sub)
        return
    if not (type_ok(value, tp) or _is_dataclass_list(value, tp)):
        fail(path, value, expected(tp))
    if _is_dataclass_list(value, tp):
        for k, item in enumerate(value):
            _check_plain(item, get_args(tp)[0], f"{path}[{k}]")


def _is_dataclass_list(value: Any, tp: Any) -> bool:
    """True for a list given where a list of dataclasses (e.g. events) is expected."""
    return isinstance(value, list) and get_origin(tp) is list and is_dataclass(get_args(tp)[0])


def _max_salespeople(cfg: Config) -> int:
    """Most salespeople a supplier can start with: every buyer considers it (M2).

    :func:`sim.salesforce.staff` hires ``ceil(accounts / accounts_per_salesperson)``;
    the accounts are drawn, so this bound is what validation can promise. A
    ``salesperson_leaves`` index beyond the actual sales force picks its last member.
    """
    return max(1, math.ceil(cfg.market.n_buyers / cfg.sales.accounts_per_salesperson))


def _check_relations(cfg: Config) -> None:
    """The rules that relate two fields (each field's own bounds are checked already)."""
    check(cfg.collect_every <= cfg.steps, "collect_every", cfg.collect_every,
          f"an integer in [1, steps={cfg.steps}] (else nothing is collected)")
    m, r = cfg.market, cfg.relationship
    check("product" in m.departments, "market.departments", m.departments, "a list with product")
    check(r.tc_trust_slope <= r.tc_at_zero_trust, "relationship.tc_trust_slope",
          r.tc_trust_slope,
          f"at most relationship.tc_at_zero_trust={r.tc_at_zero_trust} so that τ(1) ≥ 0")
    for k, j in enumerate(cfg.adaptation.fixed):
        check(0 <= j < m.n_suppliers, f"adaptation.fixed[{k}]", j,
              f"a supplier id in [0, {m.n_suppliers - 1}]")
    staff = _max_salespeople(cfg)
    for k, e in enumerate(cfg.scenario.events):
        p = f"scenario.events[{k}]"
        check(e.t <= cfg.steps, f"{p}.t", e.t, f"a step in [1, steps={cfg.steps}]")
        n_sup = m.n_suppliers + (1 if e.kind == "new_entrant" else 0)
        check(e.supplier < n_sup, f"{p}.supplier", e.supplier, f"an id in [0, {n_sup - 1}]")
        check(e.target == -1 or (e.target < m.n_suppliers and e.target != e.supplier),
              f"{p}.target", e.target, "-1 or another supplier's id")
        check(e.salesperson < staff, f"{p}.salesperson", e.salesperson,
              f"-1 or an index in [0, {staff - 1}] (at most {staff} salespeople per supplier)")
        check(e.department in m.departments, f"{p}.department", e.department,
              f"one of {list(m.departments)}")


def validate(cfg: Config) -> Config:
    """Check every field of a config; raise :class:`ConfigError` naming the first bad one.

    Every field is first checked against its annotated type, then against
    the constraint declared next to it (its ``bounds`` metadata), then
    against the settings it must agree with; last, the memory the run needs
    must fit in this machine (:mod:`sim.resources`). The rules are listed in
    ``docs/reliability.md``. Returns the config unchanged, so
    ``validate(to_config(dc))`` reads naturally.
    """
    from sim.resources import check_memory

    _check_types(cfg)
    constraints.check_fields(cfg)
    _check_relations(cfg)
    check_memory(cfg)
    return cfg


def _raw(plain: Any, key: str) -> Any:
    """The unresolved value at a dotted key (``scenario.events[0].t``), or None if absent."""
    for part in key.replace("[", ".").replace("]", "").split("."):
        try:
            plain = plain[int(part)] if isinstance(plain, list) else plain[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return plain


def to_config(cfg: DictConfig | Config) -> Config:
    """Turn a Hydra/OmegaConf node into a validated :class:`Config` dataclass."""
    if isinstance(cfg, Config):
        return validate(cfg)
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        plain = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as err:  # e.g. an interpolation that does not resolve
        key = getattr(err, "full_key", None) or "config"
        raw = _raw(OmegaConf.to_container(cfg, resolve=False), key)
        raise ConfigError(f"{key}={raw!r} is not allowed: expected a value that resolves "
                          f"({str(err).splitlines()[0]})") from err
    # unknown keys (force-added with "+key=") and values of the wrong type fail here
    _check_plain(plain, Config, "")
    return validate(from_plain(Config, plain))


def from_plain(tp: type, data: dict[str, Any]) -> Any:
    """Build the dataclass ``tp`` (nested groups and lists of groups too) from checked data.

    As OmegaConf's structured merge would (``tests/test_api.py`` compares the
    two), at a fraction of its cost: missing keys take their defaults,
    integers become floats where a number is expected, containers are copied.
    """
    hints = type_hints(tp)
    return tp(**{key: _coerce(value, hints[key]) for key, value in data.items()})


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` as the type ``hint`` holds it (see :func:`from_plain`)."""
    origin, args = get_origin(hint), get_args(hint)
    if value is None:
        return None
    if is_dataclass(hint):
        return from_plain(hint, value)
    if origin in (types.UnionType, Union):
        return _coerce(value, next(a for a in args if a is not type(None)))
    if origin is list:
        return [_coerce(v, args[0]) for v in value]
    if origin is dict:
        return {k: _coerce(v, args[1]) for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
