"""The stylized facts F1–F12 and the findings L2, L3 of the brief, measured (§1, §1b).

Each check runs a pair of configurations that differ in exactly the factor the
fact is about (the ``pair`` field says which), on the same seeds, and takes a
per-seed effect: a paired difference (or, for F7, a ratio). Over ``K`` seeds
the effect is reported as ``mean ± t₀.₉₇₅,K−₁·sd/√K`` (a 95% CI), and the
fact passes when the CI lies on the claimed side of the threshold
(``ci_low > 0`` for "more", ``ci_high < 0`` for "less", or inside a band).

Three checks are not a configuration pair, because the fact is about units
*within* one market (said in their ``pair``): F7 (the most vs least trusted
buyers), F11 (firms of two strategies in one market) and L2 (more vs less
loyal buyers of a seller).

Every check measures a *consequence* in the model's own books (the ledger,
the buyers' procurement books, the supplier table), never a rule's formula
evaluated on the state: each row's ``kind`` says ``"emergent"``. L2 is measured
with sellers that learn their serving rule and prices (``adaptation=reinforcement``):
no serving rule is given, so priority for loyal buyers must emerge (a seller
serving first come, first served shows no gap). ``source`` names the seed text
or paper.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim import report
from sim.api import make_config
from sim.market import Procurement
from sim.model import RelationshipModel
from sim.validate import crossover

DEFAULT_SEEDS = 10
BASE: tuple[str, ...] = ("market.n_buyers=400", "steps=100")
DISSATISFYING: tuple[str, ...] = ("market.noise=0.2", "sales.promise_inflation=0.2")
#: the busiest salesperson of supplier 0 leaves for supplier 1 at t = 50; narrow needs (0.2),
#: where lone sellers hold a business of their own to lose (F11's crossover lies above)
DEPARTURE: tuple[str, ...] = ("scenario=salesperson_leaves", "steps=80",
                              "buyers.needs_breadth=0.2")
#: Dyer & Chu (2003) compare the most and least trusted of eight automakers: the top and
#: bottom eighth of buyers by trust (F7, L4)
EXTREME_SHARE = 1 / 8


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


@functools.lru_cache(maxsize=64)
def accounts_lost(overrides: tuple[str, ...], seed: int) -> float:
    """Share of the departed salesperson's business that the departure costs the old employer.

    The salesperson with most accounts leaves supplier 0 at t=50
    (:data:`DEPARTURE`). A twin run on the same seed has no departure (the
    two are identical up to t=50). Over the salesperson's main accounts
    (supplier 0 their main supplier at t=50), the effect is the share of
    their volume bought from supplier 0 in t=51–80 in the twin minus in the
    run with the departure: what leaving costs, net of the accounts' own drift.
    """
    def run_to_50(events: tuple[str, ...]) -> RelationshipModel:
        cfg = make_config([*BASE, *DEPARTURE, *overrides, *events, f"seed={seed}"])
        model = RelationshipModel(cfg)
        model.run_for(50)
        return model

    left, stayed = run_to_50(()), run_to_50(("scenario.events=[]",))
    (departure,) = left.market.departures
    accounts = departure["main_accounts"]
    if accounts.size == 0:
        return math.nan
    shares = []
    for model in (stayed, left):
        bought = np.zeros(2)
        for _ in range(model.cfg.steps - 50):
            model.step()
            orders = model.market.orders[accounts]
            bought += (orders[:, 0].sum(), orders.sum())
        shares.append(bought[0] / bought[1] if bought[1] > 0 else math.nan)
    return float(shares[0] - shares[1])


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


PRICE_WAR = ("scenario.name=rival_price_war",
             "scenario.events=[{kind:price_war,t:50,supplier:0,severity:0.2,duration:50}]")


def f6_dependency(seed: int) -> float:
    """F6: company-wide market share in a rival's price war, dependency investment 0.05 minus 0.

    Supplier 0 (a lone seller) cuts its price by 20% from t=50 to the end; the
    company-wide firms' share over t=51–100 is compared with and without
    their dependency investments (M10: lower exit hazards, a switching cost
    in choice, invested accounts served first). "Total long-run cost beats
    low price" (``001_…``): invested buyers stay.
    """
    def share(rate: float) -> float:
        m = run((*PRICE_WAR, f"strategy.company_wide.dependency_investment={rate}"), seed)
        return strategy_mean(m, "company_wide", "market_share", (51, 100))
    return share(0.05) - share(0.0)


# ---------------------------------------------------------------- F7, F8


@functools.lru_cache(maxsize=16)
def procurement_books(seed: int, warmup: int = 80) -> Procurement:
    """Each buyer's procurement books over steps ``warmup+1``–100 of the default market (M11)."""
    cfg = make_config([*BASE, f"seed={seed}"])
    model = RelationshipModel(cfg)
    model.run_for(warmup)
    start = model.market.procurement.copy()
    model.run_for(cfg.steps - warmup)
    return model.market.procurement.since(start)


def f7_measures(books: Procurement) -> dict[str, float]:
    """F7/L4 from procurement books: the most and least trusted eighth of buyers compared.

    Buyers are ranked by the volume-weighted trust of their purchases in the
    books' window; the most and least trusted eighth (:data:`EXTREME_SHARE`)
    are compared on what they spent: the share of their face time that was
    non-productive (``share_most_trusted``, ``share_least_trusted``; Dyer &
    Chu's ≈25% and ≈47%), its ratio most / least (``ratio``), and their
    procurement cost per unit bought, least / most (``cost_ratio``, L4's ≈5×).
    """
    bought = books.volume > 0
    volume = books.volume[bought]
    if volume.size == 0:
        return dict.fromkeys(F7_MEASURES, math.nan)
    trust = books.trusted_volume[bought] / volume
    order = np.argsort(trust, kind="stable")
    k = max(1, int(round(EXTREME_SHARE * order.size)))
    low, high = order[:k], order[-k:]

    def per_unit(amount: np.ndarray, group: np.ndarray) -> float:
        return float(amount[bought][group].sum() / volume[group].sum())
    share_low = per_unit(books.nonproductive_time, low)
    share_high = per_unit(books.nonproductive_time, high)
    return {"ratio": share_high / share_low,
            "cost_ratio": per_unit(books.cost, low) / per_unit(books.cost, high),
            "share_least_trusted": share_low, "share_most_trusted": share_high}


#: What :func:`f7_measures` returns (``F7.<name>`` targets of :mod:`sim.calibrate`).
F7_MEASURES: tuple[str, ...] = ("ratio", "cost_ratio", "share_least_trusted",
                                "share_most_trusted")


def f7_extremes(seed: int) -> tuple[float, float]:
    """F7/L4: (non-productive share, most / least trusted; procurement cost, least / most).

    Over steps 81–100 of the default market (:func:`procurement_books`), as
    :func:`f7_measures` compares them.
    """
    measures = f7_measures(procurement_books(seed))
    return measures["ratio"], measures["cost_ratio"]


def f7_time(seed: int) -> float:
    """F7: non-productive share of face time, most trusted eighth / least trusted eighth."""
    return f7_extremes(seed)[0]


def f7_cost(seed: int) -> float:
    """L4: procurement cost per unit, least trusted eighth / most trusted eighth."""
    return f7_extremes(seed)[1]


@functools.lru_cache(maxsize=64)
def buyer_value(adversarial: bool, uncertainty: float, seed: int) -> tuple[float, float]:
    """(Core price paid per unit in steps 1–10, buyer value per buyer over 100 steps) (F8).

    Both from the suppliers' ledgers of each step: revenue over volume
    shipped, and the buyers' value ``Σ shipped·(v·q − price) − procurement
    cost`` (M14, M11).
    """
    cfg = make_config([*BASE, f"buyers.adversarial_share={float(adversarial)}",
                       f"market.uncertainty={uncertainty}", f"seed={seed}"])
    model = RelationshipModel(cfg)
    paid = volume = value = 0.0
    for step in range(1, cfg.steps + 1):
        model.step()
        ledger = model.market.ledger
        value += float(ledger.buyer_value.sum())
        if step <= 10:
            paid += float(ledger.revenue.sum())
            volume += float(ledger.volume.sum())
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
    """F9: what a supplier expelled by its partners loses: their volume in steps 82–100.

    Company-wide firms, partnership buyers; at t=81 every department of
    supplier 0 fails for one step (quality shock 1) in one run and not in its
    twin. The effect is the share of the volume that supplier 0's strategic
    partners of t=80 bought from it afterwards, without minus with the failure:
    what one serious failure costs, not whether a flag was cleared.
    """
    def kept(shock: bool) -> float:
        cfg = make_config([*BASE, "strategy=company_wide", "buyers=partnership",
                           "buyers.purchase_prob=1.0", "steps=100", f"seed={seed}"])
        model = RelationshipModel(cfg)
        model.run_for(80)
        partners = np.flatnonzero(model.ties.partner[:, 0])
        if partners.size == 0:
            return math.nan
        if shock:
            model.market.firms.quality_shock[0, :] = 1.0
        model.run_for(1)
        model.market.firms.quality_shock[0, :] = 0.0
        bought = np.zeros(2)
        for _ in range(19):
            model.run_for(1)
            orders = model.market.orders[partners]
            bought += (orders[:, 0].sum(), orders.sum())
        return float(bought[0] / bought[1]) if bought[1] > 0 else math.nan
    return kept(False) - kept(True)


def f10_learning(seed: int) -> float:
    """F10: retention of main accounts, learning rate 0.1 minus 0 (customer knowledge K)."""
    def retention(rate: float) -> float:
        return all_suppliers(run((f"relationship.learning_rate={rate}",), seed), "retention")
    return retention(0.1) - retention(0.0)


def f11_share_of_customer(seed: int) -> float:
    """F11/M14: the breadths at which the smaller firm earns more (profit − share crossover).

    :func:`sim.validate.crossover.f11_window`: in a mixed market, company-wide
    firms take the larger market share from one needs breadth on and earn the
    larger profit from another; between the two, the lone sellers have the
    smaller market share and the larger share of wallet, and earn more
    (``003_…``). A positive window is that market.
    """
    return crossover.f11_window(seed)


def f12_cross_functional(seed: int) -> float:
    """F12: company-wide market share, cross-functional contact 0.25 minus 0 (mixed market)."""
    def share(rate: float) -> float:
        m = run((f"strategy.company_wide.cross_functional_rate={rate}",), seed)
        return strategy_mean(m, "company_wide", "market_share")
    return share(0.25) - share(0.0)


# ---------------------------------------------------------------- L2, L3


def stockouts_by_loyalty(model: RelationshipModel, attraction: np.ndarray | None = None,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(Stock-outs, orders) of this step for the (less, more) loyal half of each seller's orders.

    "More loyal": attraction ``J`` to the seller above the median over the
    buyers who ordered from it this step. ``attraction`` should be ``J`` as
    it was when the seller served (before the step): after it, a stock-out
    has already cost the buyer its loyalty (π = 0), and a seller serving in
    random order would seem to serve its loyal buyers first. None: ``J`` now.
    """
    short, orders = np.zeros(2), np.zeros(2)
    if attraction is None:
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


#: L2's market: stock is 0.8 fair shares per step, and sellers learn (no serving rule given)
LEARNING_SELLERS: tuple[str, ...] = ("market.supply_capacity=0.8", "adaptation=reinforcement")


@functools.lru_cache(maxsize=64)
def learned_treatment(seed: int, overrides: tuple[str, ...] = ()) -> tuple[float, float]:
    """L2 under learning sellers, steps 21–100: (stock-out gap, loyal-buyer price premium).

    Sellers learn their serving rule (loyalty, volume, first come) and one
    price for loyal buyers and one for searchers from their own profit
    (``adaptation=reinforcement``, Roth–Erev); none is given. The gap is the
    stock-out rate of the less loyal minus the more loyal half of each
    seller's orders, loyalty read before the step (:func:`stockouts_by_loyalty`);
    the premium is the mean relative difference of the list prices sellers
    set for their loyal buyers and for searchers, ``p_loyal/p_searcher − 1``.
    """
    cfg = make_config([*BASE, *LEARNING_SELLERS, *overrides, f"seed={seed}"])
    model = RelationshipModel(cfg)
    model.run_for(20)
    short, orders, premium = np.zeros(2), np.zeros(2), []
    for _ in range(20, cfg.steps):
        before = model.ties.attraction().copy()
        model.step()
        step_short, step_orders = stockouts_by_loyalty(model, before)
        short += step_short
        orders += step_orders
        policy = model.market.policy
        loyal = policy.list_price if policy.loyal_price is None else policy.loyal_price
        premium.append(float(np.mean(loyal / policy.list_price - 1.0)))
    rate = short / np.maximum(orders, 1)
    return float(rate[0] - rate[1]), float(np.mean(premium))


def l2_priority(seed: int) -> float:
    """L2: stock-out rate of the less loyal minus the more loyal half of orders, sellers learning.

    A seller that served in random order (first come) would show no gap.
    """
    return learned_treatment(seed)[0]


def l2_price(seed: int) -> float:
    """L2: loyal buyers' list price relative to searchers', ``p_loyal/p_searcher − 1``, learned."""
    return learned_treatment(seed)[1]


def l3_growth(seed: int) -> float:
    """L3: lone sellers' market-share growth, steps 1–5 to 16–25, person share ρ 0.8 minus 0.2.

    No salesperson leaves (``departure_hazard`` is 0): salesperson-owned
    loyalty, weighed more in choice and lowering price sensitivity while the
    person stays (M6), grows the business faster.
    """
    def growth(rho: float) -> float:
        model = run(("steps=25", f"strategy.lone_seller.person_share={rho}"), seed)
        return (strategy_mean(model, "lone_seller", "market_share", (16, 25))
                - strategy_mean(model, "lone_seller", "market_share", (1, 5)))
    return growth(0.8) - growth(0.2)


def l3_person_share(seed: int) -> float:
    """L3: accounts lost when the busiest salesperson leaves, person share ρ 0.8 minus 0.2."""
    def lost(rho: float) -> float:
        return accounts_lost(("strategy=lone_seller", f"strategy.lone_seller.person_share={rho}"),
                             seed)
    return lost(0.8) - lost(0.2)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Fact:
    """A fact check: what is claimed, where, which pair is run, how it is measured and judged.

    ``also`` is a second measure the fact must pass as well (F7: the
    procurement-cost ratio of L4 beside the face-time ratio), judged by
    ``also_passes``.
    """

    fact: str
    claim: str
    source: str
    pair: str
    measure: Callable[[int], float]
    passes: Callable[[float, float], bool]  # (ci_low, ci_high) -> passed
    criterion: str
    kind: str = "emergent"
    also: Callable[[int], float] | None = None
    also_passes: Callable[[float, float], bool] | None = None
    also_criterion: str = ""


def _more(lo: float, hi: float) -> bool:
    return lo > 0


def _less(lo: float, hi: float) -> bool:
    return hi < 0


def _nonzero(lo: float, hi: float) -> bool:
    return lo > 0 or hi < 0


def _within(low: float, high: float) -> Callable[[float, float], bool]:
    return lambda lo, hi: lo >= low and hi <= high


S000, S001, S002, S003, S004 = (f"seeds/{name}" for name in (
    "000_15d4004dae96c361.txt", "001_537cc99432f8b442.txt", "002_83a181e1b869140b.txt",
    "003_f25a13ff9c05defe.txt", "004_8a9cf45da1ee04c3.txt"))
DYER_CHU = "Dyer & Chu (2003), Organization Science 14(1):57–68"
PALMATIER = "Palmatier, Scheer & Steenkamp (2007), JMR 44(2):185–199"

FACTS: tuple[Fact, ...] = (
    Fact("F1", "the company-wide advantage in market share grows with needs breadth", S000,
         "buyers.needs_breadth 0.9 vs 0.1", f1_breadth, _more, "> 0"),
    Fact("F2", "a poached salesperson takes more of a lone seller's accounts", S000,
         "strategy lone_seller vs company_wide, salesperson leaves at t=50", f2_departure,
         _more, "> 0"),
    Fact("F3", "what happens after the sale decides the next purchase", S001,
         "no failure vs after-sale failure of supplier 0 (service, installation, logistics "
         "at 0 for t=50–54; company-wide firms)", f3_after_sale, _more, "> 0"),
    Fact("F4", "promises kept by coordinated departments build trust", S001,
         "coordination κ 0.9 vs 0.25 (lone-seller firms)", f4_coordination, _more, "> 0"),
    Fact("F5", "silent buyers leave: less voice, more churn", S001,
         "buyers.voice_propensity 0.1 vs 0.9 (equal exit hazards for silent and voiced)",
         f5_silence, _more, "> 0"),
    Fact("F6", "dependency investments bind buyers", S001,
         "company-wide dependency_investment 0.05 vs 0, while supplier 0 (lone seller) cuts "
         "its price 20% from t=50", f6_dependency, _more, "> 0"),
    Fact("F7", "the most trusted buyers spend about half the least trusted's share of face "
         "time on non-productive matters, and procurement costs differ about five-fold",
         f"{S001}; {DYER_CHU}",
         "within a run: most vs least trusted eighth of buyers, steps 21–100",
         f7_time, _within(0.4, 0.6), "in [0.4, 0.6]",
         also=f7_cost, also_passes=_within(3.0, 8.0), also_criterion="cost ratio in [3, 8]"),
    Fact("F8a", "adversarial buyers pay less at first", S001,
         "buyers.adversarial_share 1 vs 0, price/unit steps 1–10", f8_early_price, _less, "< 0"),
    Fact("F8b", "but partnership buyers get more value over the horizon", S001,
         "buyers.adversarial_share 0 vs 1, value/buyer over 100 steps", f8_total_value,
         _more, "> 0"),
    Fact("F8c", "and the advantage of trust grows with uncertainty", S001,
         "market.uncertainty 0.3 vs 0 (difference of the F8b gaps)", f8_uncertainty,
         _more, "> 0"),
    Fact("F9", "one serious failure costs a strategic partner the business", S002,
         "every department of supplier 0 fails at t=81 vs no failure; its t=80 partners' "
         "volume share in t=82–100", f9_failure, _more, "> 0"),
    Fact("F10", "learning about the customer makes repeat purchase easier", S003,
         "relationship.learning_rate 0.1 vs 0, retention", f10_learning, _more, "> 0"),
    Fact("F11", "a firm with a smaller market share can earn more", S003,
         "mixed markets over needs breadth 0.1–0.5: profit crossover minus market-share "
         "crossover (company-wide vs lone seller)", f11_share_of_customer, _more, "> 0"),
    Fact("F12", "other departments' contact with the account wins business", S004,
         "company-wide cross_functional_rate 0.25 vs 0", f12_cross_functional, _more, "> 0"),
    Fact("L2", "sellers learn to serve loyal buyers first when supply is short, and loyal "
         "buyers pay a different price from searchers",
         "Kirman & Vriend (2001), JEDC 25:459–502",
         "within a run, sellers learning serving rule and prices (adaptation=reinforcement, "
         "stock 0.8): stock-outs of less vs more loyal half of orders (loyalty before the "
         "step), steps 21–100; loyal-buyer vs searcher price", l2_priority, _more, "> 0",
         also=l2_price, also_passes=_nonzero, also_criterion="price premium ≠ 0"),
    Fact("L3a", "salesperson-owned selling grows faster while the salesperson stays", PALMATIER,
         "strategy.lone_seller.person_share ρ 0.8 vs 0.2, share growth steps 1–5 → 16–25",
         l3_growth, _more, "> 0"),
    Fact("L3b", "salesperson-owned loyalty loses more business when they defect", PALMATIER,
         "strategy.lone_seller.person_share ρ 0.8 vs 0.2, salesperson leaves",
         l3_person_share, _more, "> 0"),
)


def ids() -> list[str]:
    """The ids of the checks (F1 … L3b), for ``--only``."""
    return [f.fact for f in FACTS]


@dataclass(frozen=True)
class FactResult:
    """One row of the facts table (``also``: the second measure's mean and CI, if any)."""

    fact: str
    claim: str
    source: str
    kind: str
    pair: str
    criterion: str
    effect: float
    ci_low: float
    ci_high: float
    passed: bool
    also: dict[str, float | str] | None = None

    def as_dict(self) -> dict:
        """The JSON row: fact, claim, kind, source, effect, ci_low, ci_high, passed (and also)."""
        row = {"fact": self.fact, "claim": self.claim, "kind": self.kind, "source": self.source,
               "effect": self.effect, "ci_low": self.ci_low, "ci_high": self.ci_high,
               "passed": self.passed}
        if self.also is not None:
            row["also"] = self.also
        return row


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval over seeds (:func:`sim.report.mean_ci`); needs 2 finite values."""
    mean, low, high, n = report.mean_ci(values)
    if n < 2:
        raise ValueError(f"need at least 2 finite per-seed effects for a CI, got {n}")
    return mean, low, high


def check(fact: Fact, seeds: int) -> FactResult:
    """Measure one fact over seeds 0…K−1 and judge it (both measures, if it has two)."""
    effect, lo, hi = mean_ci([fact.measure(seed) for seed in range(seeds)])
    passed = bool(fact.passes(lo, hi))
    also = None
    if fact.also is not None and fact.also_passes is not None:
        a_effect, a_lo, a_hi = mean_ci([fact.also(seed) for seed in range(seeds)])
        also_ok = bool(fact.also_passes(a_lo, a_hi))
        also = {"criterion": fact.also_criterion, "effect": a_effect, "ci_low": a_lo,
                "ci_high": a_hi, "passed": also_ok}
        passed = passed and also_ok
    return FactResult(fact.fact, fact.claim, fact.source, fact.kind, fact.pair, fact.criterion,
                      effect, lo, hi, passed, also)


def run_facts(seeds: int = DEFAULT_SEEDS, only: Sequence[str] | None = None) -> list[FactResult]:
    """Every fact check (or those in ``only``), in the order of :data:`FACTS`."""
    unknown = set(only or ()) - set(ids())
    if unknown:
        raise ValueError(f"unknown fact ids {sorted(unknown)}: expected some of {ids()}")
    rows = [check(f, seeds) for f in FACTS if only is None or f.fact in only]
    run.cache_clear()
    buyer_value.cache_clear()
    procurement_books.cache_clear()
    accounts_lost.cache_clear()
    learned_treatment.cache_clear()
    crossover.gap.cache_clear()
    return rows


def table(rows: Sequence[FactResult]) -> str:
    """A Markdown table: fact, claim, pair, effect [95% CI], criterion, pass/fail."""
    lines = ["| fact | claim | kind | configurations | effect [95% CI] | pass if | result |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        effect = f"{r.effect:.3g} [{r.ci_low:.3g}, {r.ci_high:.3g}]"
        criterion = r.criterion
        if r.also is not None:
            effect += (f"; {r.also['effect']:.3g} [{r.also['ci_low']:.3g}, "
                       f"{r.also['ci_high']:.3g}]")
            criterion += f"; {r.also['criterion']}"
        lines.append(f"| {r.fact} | {r.claim} | {r.kind} | {r.pair} | {effect} | {criterion} | "
                     f"{'pass' if r.passed else 'FAIL'} |")
    return "\n".join(lines)
