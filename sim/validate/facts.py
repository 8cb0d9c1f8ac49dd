"""The stylized facts F1–F12 and the findings L2, L3 of the brief, measured (§1, §1b).

Each check runs a pair of configurations that differ in exactly the factor the
fact is about (the ``pair`` field says which), on the same seeds, and takes a
per-seed effect: a paired difference (or, for F7, a ratio). Over ``K`` seeds
the effect is reported as ``mean ± t₀.₉₇₅,K−₁·sd/√K`` (a 95% CI), and the
fact passes when the CI lies on the claimed side of the threshold
(``ci_low > 0`` for "more", ``ci_high < 0`` for "less", or inside a band).

Four checks are not a configuration pair, because the fact is about units
*within* one market (said in their ``pair``): F7 (trust quintiles of ties),
F11 and L3a (firms of two strategies in one market) and L2 (more vs less
loyal buyers of a seller).

Measurements the model does not report directly are computed here from the
model's arrays with the model's own rule functions: the non-productive share
of each tie (F7, :func:`sim.rules.transaction.nonproductive_share`), the
price each buyer pays and the value each purchase brings (F8,
:mod:`sim.rules.delivery`), stock-outs by loyalty (L2).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim import report
from sim.api import make_config
from sim.model import RelationshipModel
from sim.rules import delivery, transaction

DEFAULT_SEEDS = 10
BASE: tuple[str, ...] = ("market.n_buyers=400", "steps=100")
DISSATISFYING: tuple[str, ...] = ("market.noise=0.2", "sales.promise_inflation=0.2")
DEPARTURE: tuple[str, ...] = ("scenario=salesperson_leaves", "steps=80")  # leaves at t = 50
MC_DRAWS = 32  # normal draws for the expected delivered quality (F8)


# ---------------------------------------------------------------- running


@functools.lru_cache(maxsize=64)
def run(overrides: tuple[str, ...], seed: int) -> RelationshipModel:
    """The model for ``BASE + overrides`` at ``seed``, run for ``cfg.steps`` (cached)."""
    cfg = make_config([*BASE, *overrides, f"seed={seed}"])
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    return model


def strategy_mean(model: RelationshipModel, strategy: str, column: str,
                  steps: tuple[int, int] | None = None) -> float:
    """Mean of a supplier column over a strategy's suppliers; the summary window by default."""
    if steps is None:
        return float(model.summary()["strategies"][strategy][column])
    df = model.supplier_frame()
    rows = df[(df["strategy"] == strategy) & df["step"].between(*steps)]
    return float(rows[column].mean())


def all_suppliers(model: RelationshipModel, column: str) -> float:
    """Mean of a supplier column over all suppliers in the summary window."""
    return float(np.mean([s[column] for s in model.summary()["suppliers"]]))


# ---------------------------------------------------------------- F1–F6


def f1_breadth(seed: int) -> float:
    """F1/F12: company-wide minus lone-seller market share, needs breadth 0.9 minus 0.1."""
    def gap(breadth: float) -> float:
        m = run((f"buyers.needs_breadth={breadth}",), seed)
        return strategy_mean(m, "company_wide", "market_share") - strategy_mean(
            m, "lone_seller", "market_share")
    return gap(0.9) - gap(0.1)


def accounts_lost(overrides: tuple[str, ...], seed: int) -> float:
    """Share of the departed salesperson's main accounts whose main supplier changed by t=80."""
    model = run((*DEPARTURE, *overrides), seed)
    (departure,) = model.market.departures
    main = departure["main_accounts"]
    moved = model.market.buyers.main_supplier[main] != departure["from"]
    return float(np.mean(moved)) if main.size else 0.0


def f2_departure(seed: int) -> float:
    """F2: accounts lost when the busiest salesperson is poached, lone seller − company-wide."""
    return (accounts_lost(("strategy=lone_seller",), seed)
            - accounts_lost(("strategy=company_wide",), seed))


AFTER_SALE = ("service", "installation_training", "logistics")


def f3_after_sale(seed: int) -> float:
    """F3: supplier 0's market share after t=50, without minus with an after-sale failure.

    Company-wide firms (their departments deliver, κ = 0.9); the failure
    takes service, installation/training and logistics of supplier 0 to
    zero for steps 50–54 (three quality_failure events, severity 1).
    """
    events = ",".join(
        f"{{kind:quality_failure,t:50,supplier:0,department:{d},severity:1.0,duration:5}}"
        for d in AFTER_SALE
    )
    failure = ("strategy=company_wide", "scenario.name=after_sale_failure",
               f"scenario.events=[{events}]")

    def share(overrides: tuple[str, ...]) -> float:
        df = run(overrides, seed).supplier_frame()
        return float(df[(df["supplier"] == 0) & (df["step"] > 50)]["market_share"].mean())
    return share(("strategy=company_wide",)) - share(failure)


def f4_coordination(seed: int) -> float:
    """F4: mean trust of lone-seller firms, coordination κ = 0.9 minus κ = 0.25."""
    def trust(kappa: float) -> float:
        m = run(("strategy=lone_seller", f"strategy.lone_seller.coordination={kappa}"), seed)
        return all_suppliers(m, "mean_trust")
    return trust(0.9) - trust(0.25)


def f5_silence(seed: int) -> float:
    """F5: ties churned per step and supplier, voice propensity 0.1 minus 0.9."""
    def churn(voice: float) -> float:
        df = run((*DISSATISFYING, f"buyers.voice_propensity={voice}"), seed).supplier_frame()
        df = df[df["step"] >= 1]  # step 0 is the market as built: nothing churned yet
        return float((df["silent_churn"] + df["voiced_churn"]).mean())
    return churn(0.1) - churn(0.9)


def f6_dependency(seed: int) -> float:
    """F6: company-wide market share, dependency investment 0.05 minus 0 (mixed market)."""
    def share(rate: float) -> float:
        m = run((f"strategy.company_wide.dependency_investment={rate}",), seed)
        return strategy_mean(m, "company_wide", "market_share")
    return share(0.05) - share(0.0)


# ---------------------------------------------------------------- F7, F8


def f7_quintiles(seed: int) -> float:
    """F7/L4: non-productive share τ(T), highest-trust quintile / lowest, of ties that bought.

    ``τ(T) = τ₀ − slope·T`` (M11) at the trust of the ties that ordered in
    the last step; quintiles of trust over those ties.
    """
    model = run((), seed)
    rel = model.cfg.relationship
    trust = model.ties.trust[model.market.orders > 0]
    tau = transaction.nonproductive_share(trust, rel.tc_at_zero_trust, rel.tc_trust_slope)
    lo, hi = np.quantile(trust, [0.2, 0.8])
    return float(tau[trust >= hi].mean() / tau[trust <= lo].mean())


def expected_quality(model: RelationshipModel, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``E[q]`` of the ties (b, s) this step, by the model's delivery rules (M7, M12).

    ``q = clip(Σ_d w_d·perf_d + sd·z, 0, 1)``, ``sd = noise + u·(1 − f·T·[partnership])``;
    the expectation over ``z`` is a mean over :data:`MC_DRAWS` normal quantiles.
    """
    cfg, market = model.cfg, model.market
    t, force, firms = market.ties, market.salesforce, market.firms
    owner = t.owner[b, s]
    skill = np.where(owner >= 0, force.skill[np.maximum(owner, 0)], 0.0)
    perf = delivery.department_performance(
        firms.capability[s] * (1.0 - firms.quality_shock[s]), market.policy.coordination[s],
        skill, cfg.sales.coverage, t.knowledge[b, s], cfg.relationship.fit_gain,
        market.is_product,
    )
    q_real = delivery.expected_performance(model.market.buyers.needs[b], perf)
    z = stats.norm.ppf((np.arange(MC_DRAWS) + 0.5) / MC_DRAWS)[:, None]
    q = delivery.delivered(q_real, cfg.market.noise, model.market.uncertainty, t.trust[b, s],
                           ~model.market.buyers.adversarial[b], cfg.relationship.flexibility, z)
    return q.mean(axis=0)


@functools.lru_cache(maxsize=64)
def buyer_value(adversarial: bool, uncertainty: float, seed: int) -> tuple[float, float]:
    """(Price paid per unit in steps 1–10, buyer value per buyer over 100 steps) (F8, M6, M12).

    Value of a purchase: ``volume·(v·E[q] − price_paid)``, with
    ``price_paid = list price·(1 − haggle·[adversarial])``; stock-outs bring 0.
    """
    cfg = make_config([*BASE, f"buyers.adversarial_share={float(adversarial)}",
                       f"market.uncertainty={uncertainty}", f"seed={seed}"])
    model = RelationshipModel(cfg)
    paid = volume = value = 0.0
    for step in range(1, cfg.steps + 1):
        model.step()
        b, s = np.nonzero(model.market.orders > 0)
        vol = model.market.orders[b, s] * ~model.market.stockout[b, s]
        price = model.market.policy.list_price[s] * (
            1.0 - cfg.buyers.haggle_discount * model.market.buyers.adversarial[b])
        value += float(np.sum(vol * (cfg.market.value_per_quality
                                     * expected_quality(model, b, s) - price)))
        if step <= 10:
            paid += float(np.sum(vol * price))
            volume += float(np.sum(vol))
    return paid / volume, value / cfg.market.n_buyers


def f8_early_price(seed: int) -> float:
    """F8: price per unit in the first 10 steps, adversarial minus partnership buyers."""
    return buyer_value(True, 0.0, seed)[0] - buyer_value(False, 0.0, seed)[0]


def f8_total_value(seed: int) -> float:
    """F8: buyer value over 100 steps, partnership minus adversarial buyers."""
    return buyer_value(False, 0.0, seed)[1] - buyer_value(True, 0.0, seed)[1]


def f8_uncertainty(seed: int) -> float:
    """F8/M12: the partnership advantage in value, at uncertainty 0.3 minus at 0."""
    def gap(u: float) -> float:
        return buyer_value(False, u, seed)[1] - buyer_value(True, u, seed)[1]
    return gap(0.3) - gap(0.0)


# ---------------------------------------------------------------- F9–F12


def f9_failure(seed: int) -> float:
    """F9: share of supplier 0's ordering partners that lose the status in one step, failure − none.

    Company-wide firms, partnership buyers; at t=81 every department of
    supplier 0 fails (quality shock 1) in one run and not in its twin.
    """
    def lost(shock: bool) -> float:
        cfg = make_config([*BASE, "strategy=company_wide", "buyers=partnership",
                           "buyers.purchase_prob=1.0", "steps=80", f"seed={seed}"])
        model = RelationshipModel(cfg)
        model.run_for(80)
        before = model.ties.partner[:, 0].copy()
        if shock:
            model.market.firms.quality_shock[0, :] = 1.0
        model.run_for(1)
        ordered = before & (model.market.orders[:, 0] > 0)
        return float((~model.ties.partner[ordered, 0]).mean()) if ordered.any() else math.nan
    return lost(True) - lost(False)


def f10_learning(seed: int) -> float:
    """F10: retention of main accounts, learning rate 0.1 minus 0 (customer knowledge K)."""
    def retention(rate: float) -> float:
        return all_suppliers(run((f"relationship.learning_rate={rate}",), seed), "retention")
    return retention(0.1) - retention(0.0)


def f11_share_of_customer(seed: int) -> float:
    """F11/M14: profit per supplier, lone seller minus company-wide, at needs breadth 0.4.

    In this mixed market the company-wide firms take the larger market share
    (about 0.30 vs 0.20 per supplier) while the lone sellers keep a larger
    share of their buyers' wallets; the check is that the smaller firms earn more.
    """
    model = run(("buyers.needs_breadth=0.4",), seed)
    return (strategy_mean(model, "lone_seller", "profit")
            - strategy_mean(model, "company_wide", "profit"))


def f12_cross_functional(seed: int) -> float:
    """F12: company-wide market share, cross-functional contact 0.25 minus 0 (mixed market)."""
    def share(rate: float) -> float:
        m = run((f"strategy.company_wide.cross_functional_rate={rate}",), seed)
        return strategy_mean(m, "company_wide", "market_share")
    return share(0.25) - share(0.0)


# ---------------------------------------------------------------- L2, L3


def stockouts_by_loyalty(model: RelationshipModel) -> tuple[np.ndarray, np.ndarray]:
    """(Stock-outs, orders) of this step for the (less, more) loyal half of each seller's orders.

    "More loyal": attraction ``J`` to the seller above the median over the
    buyers who ordered from it this step.
    """
    short, orders = np.zeros(2), np.zeros(2)
    attraction = model.ties.attraction()
    for j in range(model.market.orders.shape[1]):
        buyers = np.flatnonzero(model.market.orders[:, j] > 0)
        if buyers.size < 2:
            continue
        loyal = attraction[buyers, j] > np.median(attraction[buyers, j])
        for k, group in enumerate((~loyal, loyal)):
            short[k] += model.market.stockout[buyers[group], j].sum()
            orders[k] += group.sum()
    return short, orders


def l2_priority(seed: int) -> float:
    """L2: stock-out rate of the less loyal minus the more loyal half of a seller's orders.

    Stock is 0.8 fair shares per step (``market.supply_capacity``), steps 21–100.
    """
    cfg = make_config([*BASE, "market.supply_capacity=0.8", f"seed={seed}"])
    model = RelationshipModel(cfg)
    model.run_for(20)
    short, orders = np.zeros(2), np.zeros(2)
    for _ in range(20, cfg.steps):
        model.step()
        step_short, step_orders = stockouts_by_loyalty(model)
        short += step_short
        orders += step_orders
    rate = short / np.maximum(orders, 1)
    return float(rate[0] - rate[1])


def l3_growth(seed: int) -> float:
    """L3: market-share growth from steps 1–5 to 16–25, lone seller minus company-wide."""
    model = run(("steps=25",), seed)
    def growth(strategy: str) -> float:
        return (strategy_mean(model, strategy, "market_share", (16, 25))
                - strategy_mean(model, strategy, "market_share", (1, 5)))
    return growth("lone_seller") - growth("company_wide")


def l3_person_share(seed: int) -> float:
    """L3: accounts lost when the busiest salesperson leaves, person share ρ 0.8 minus 0.2."""
    def lost(rho: float) -> float:
        return accounts_lost(("strategy=lone_seller", f"strategy.lone_seller.person_share={rho}"),
                             seed)
    return lost(0.8) - lost(0.2)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Fact:
    """A fact check: what is claimed, which pair is run, how it is measured and judged."""

    fact: str
    claim: str
    pair: str
    measure: Callable[[int], float]
    passes: Callable[[float, float], bool]  # (ci_low, ci_high) -> passed
    criterion: str


def _more(lo: float, hi: float) -> bool:
    return lo > 0


def _less(lo: float, hi: float) -> bool:
    return hi < 0


FACTS: tuple[Fact, ...] = (
    Fact("F1", "the company-wide advantage in market share grows with needs breadth",
         "buyers.needs_breadth 0.9 vs 0.1", f1_breadth, _more, "> 0"),
    Fact("F2", "a poached salesperson takes more of a lone seller's accounts",
         "strategy lone_seller vs company_wide, salesperson leaves at t=50", f2_departure,
         _more, "> 0"),
    Fact("F3", "what happens after the sale decides the next purchase",
         "no failure vs after-sale failure of supplier 0 (service, installation, logistics "
         "at 0 for t=50–54; company-wide firms)", f3_after_sale, _more, "> 0"),
    Fact("F4", "promises kept by coordinated departments build trust",
         "coordination κ 0.9 vs 0.25 (lone-seller firms)", f4_coordination, _more, "> 0"),
    Fact("F5", "silent buyers leave: less voice, more churn",
         "buyers.voice_propensity 0.1 vs 0.9", f5_silence, _more, "> 0"),
    Fact("F6", "dependency investments bind buyers",
         "company-wide dependency_investment 0.05 vs 0", f6_dependency, _more, "> 0"),
    Fact("F7", "the most trusted ties spend about a quarter of the least trusted's "
         "non-productive time", "within a run: top vs bottom trust quintile of ties",
         f7_quintiles, lambda lo, hi: lo >= 0.15 and hi <= 0.35, "in [0.15, 0.35]"),
    Fact("F8a", "adversarial buyers pay less at first",
         "buyers.adversarial_share 1 vs 0, price/unit steps 1–10", f8_early_price, _less, "< 0"),
    Fact("F8b", "but partnership buyers get more value over the horizon",
         "buyers.adversarial_share 0 vs 1, value/buyer over 100 steps", f8_total_value,
         _more, "> 0"),
    Fact("F8c", "and the advantage of trust grows with uncertainty",
         "market.uncertainty 0.3 vs 0 (difference of the F8b gaps)", f8_uncertainty,
         _more, "> 0"),
    Fact("F9", "one serious failure removes strategic-partner status at once",
         "quality shock 1 on supplier 0 at t=81 vs none", f9_failure,
         lambda lo, hi: lo > 0.9, "> 0.9"),
    Fact("F10", "learning about the customer makes repeat purchase easier",
         "relationship.learning_rate 0.1 vs 0, retention", f10_learning, _more, "> 0"),
    Fact("F11", "a firm with a smaller market share can earn more",
         "within a run (needs breadth 0.4): lone sellers (smaller share) minus company-wide, "
         "profit per supplier", f11_share_of_customer, _more, "> 0"),
    Fact("F12", "other departments' contact with the account wins business",
         "company-wide cross_functional_rate 0.25 vs 0", f12_cross_functional, _more, "> 0"),
    Fact("L2", "sellers serve loyal buyers first when supply is short",
         "within a run: stock-outs of less vs more loyal half of orders", l2_priority,
         _more, "> 0"),
    Fact("L3a", "salesperson-owned selling grows faster while the salesperson stays",
         "within a run: lone_seller vs company_wide firms, share growth steps 1–5 → 16–25",
         l3_growth,
         _more, "> 0"),
    Fact("L3b", "salesperson-owned loyalty loses more business when they defect",
         "strategy.lone_seller.person_share ρ 0.8 vs 0.2, salesperson leaves",
         l3_person_share, _more, "> 0"),
)


def ids() -> list[str]:
    """The ids of the checks (F1 … L3b), for ``--only``."""
    return [f.fact for f in FACTS]


@dataclass(frozen=True)
class FactResult:
    """One row of the facts table."""

    fact: str
    claim: str
    pair: str
    criterion: str
    effect: float
    ci_low: float
    ci_high: float
    passed: bool

    def as_dict(self) -> dict:
        """The JSON row: fact, claim, effect, ci_low, ci_high, passed."""
        return {"fact": self.fact, "claim": self.claim, "effect": self.effect,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "passed": self.passed}


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval over seeds (:func:`sim.report.mean_ci`); needs 2 finite values."""
    mean, low, high, n = report.mean_ci(values)
    if n < 2:
        raise ValueError(f"need at least 2 finite per-seed effects for a CI, got {n}")
    return mean, low, high


def check(fact: Fact, seeds: int) -> FactResult:
    """Measure one fact over seeds 0…K−1 and judge it."""
    effect, lo, hi = mean_ci([fact.measure(seed) for seed in range(seeds)])
    return FactResult(fact.fact, fact.claim, fact.pair, fact.criterion, effect, lo, hi,
                      bool(fact.passes(lo, hi)))


def run_facts(seeds: int = DEFAULT_SEEDS, only: Sequence[str] | None = None) -> list[FactResult]:
    """Every fact check (or those in ``only``), in the order of :data:`FACTS`."""
    unknown = set(only or ()) - set(ids())
    if unknown:
        raise ValueError(f"unknown fact ids {sorted(unknown)}: expected some of {ids()}")
    rows = [check(f, seeds) for f in FACTS if only is None or f.fact in only]
    run.cache_clear()
    buyer_value.cache_clear()
    return rows


def table(rows: Sequence[FactResult]) -> str:
    """A Markdown table: fact, claim, pair, effect [95% CI], criterion, pass/fail."""
    lines = ["| fact | claim | configurations | effect [95% CI] | pass if | result |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.fact} | {r.claim} | {r.pair} | {r.effect:.3g} "
                     f"[{r.ci_low:.3g}, {r.ci_high:.3g}] | {r.criterion} | "
                     f"{'pass' if r.passed else 'FAIL'} |")
    return "\n".join(lines)
