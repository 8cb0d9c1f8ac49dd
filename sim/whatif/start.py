"""Start the model from a book of accounts instead of a random market.

:func:`book_overrides` sizes the config to the book (buyers, suppliers and
their strategies); :func:`market_from_book` builds the market state of that
config with the book's buyers' volumes, needs and stance (M3), suppliers'
capabilities and prices (M1), the sales force and who owns each account
(M2), and the established tie with each account's current supplier (M4);
:func:`start_model` puts a :class:`~sim.model.RelationshipModel` on it.
One step is one month.

**Warm start.** The book gives each account's annual purchases ``V`` and
our share of them ``w``; the model's first month must reproduce them, not
drift there. So (i) an account with a purchase need (probability ``p`` per
month) buys ``V/(12·p)``, which makes its expected monthly purchases
``V/12``; (ii) the attraction of the tie with the current supplier is set
so that the logit choice (M6) gives that supplier the expected share ``w``
of the account's orders (:func:`calibrated_attraction`). Money in the
model is in units of :func:`money_unit`.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np

from sim.build import build_market
from sim.config import DEPARTMENTS, Config
from sim.market import NEVER, FirmTable, Market, SalesForce
from sim.model import RelationshipModel
from sim.rules import choice, delivery, evaluation, stages
from sim.salesforce import hire
from sim.shocks import Schedule
from sim.whatif.book import NEED_COLUMNS, Book

F32 = np.float32


def money_unit(book: Book, cfg: Config) -> float:
    """Currency per model unit of money: ``mean(V)/(12·p)``, the mean account's monthly order.

    The model's costs (salary, overhead) are calibrated to a mean order of 1
    per buyer with a need; multiplying the model's money by this factor gives
    the book's currency.
    """
    return float(book.accounts["annual_volume"].mean()) / (12.0 * cfg.buyers.purchase_prob)


def book_overrides(book: Book) -> dict[str, object]:
    """Config values the book fixes: market size, departments and each supplier's strategy."""
    return {
        "market.n_buyers": len(book.accounts),
        "market.n_suppliers": len(book.suppliers),
        "market.departments": list(DEPARTMENTS),
        "strategy.assignment": [s.strategy for s in book.suppliers],
    }


def start_model(cfg: Config, book: Book, salespeople: dict[int, int] | None = None
                ) -> RelationshipModel:
    """The model of ``cfg`` (sized by :func:`book_overrides`) in the book's starting state.

    The random draws of this state (consideration sets, unknown skills and
    capabilities, competitors' account owners) come from the run's seed and
    happen before step 1, so every scenario of a seed starts identical.
    ``salespeople`` gives, by position in ``cfg.scenario.events``, the index
    of the salesperson a ``salesperson_leaves`` event names (checked against
    the book by :mod:`sim.whatif.people`): the model's schedule is rebuilt
    with it (the config keeps −1, see :class:`sim.whatif.run.Scenario`).
    """
    model = RelationshipModel(cfg, build=partial(market_from_book, book=book))
    if salespeople:
        model.schedule = Schedule([
            dataclasses.replace(e, salesperson=salespeople.get(k, e.salesperson))
            for k, e in enumerate(cfg.scenario.events)])
    return model


def market_from_book(cfg: Config, rng: np.random.Generator, book: Book) -> Market:
    """The market of ``cfg`` with the book's buyers, suppliers, sales force and ties.

    The market is first drawn as usual (consideration sets, capabilities the
    book leaves out), then the book's values replace the draws.
    """
    market = build_market(cfg, rng)
    _set_buyers(market, cfg, book)
    _set_suppliers(market, cfg, book)
    people = _set_sales_force(market, cfg, rng, book)
    _set_ties(market, cfg, rng, book, people)
    _set_capacity(market, cfg, book)
    market.policy = FirmTable.of(market, cfg.strategy)
    return market


def _set_buyers(market: Market, cfg: Config, book: Book) -> None:
    """Order size ``V/(12·p)`` in :func:`money_unit` (mean 1), needs and stance (M3)."""
    a, b, buyers = book.accounts, cfg.buyers, market.buyers
    volume = a["annual_volume"].to_numpy() / (12.0 * b.purchase_prob * money_unit(book, cfg))
    buyers.volume = volume.astype(F32)
    buyers.needs = a[list(NEED_COLUMNS)].to_numpy(dtype=F32)
    buyers.adversarial = a["adversarial"].to_numpy(dtype=bool)
    # λ_i as in sim.build.draw_buyers: adversarial buyers weigh price more (F8)
    buyers.price_sensitivity = (
        b.price_sensitivity * np.where(buyers.adversarial, b.adversarial_price_factor, 1.0)
    ).astype(F32)


def _set_capacity(market: Market, cfg: Config, book: Book) -> None:
    """Stock per supplier and step: ``supply_capacity`` × the fair share of the book's orders."""
    if market.supply_capacity is not None:
        b = cfg.buyers
        fair_share = len(book.accounts) * b.purchase_prob * float(
            market.buyers.volume.mean()) / len(book.suppliers)
        market.supply_capacity = cfg.market.supply_capacity * fair_share


def _set_suppliers(market: Market, cfg: Config, book: Book) -> None:
    """Capabilities given in the book (others keep their draw) and list prices (M1).

    The book's price is the list price under the current strategy, so the
    base price is ``price / price_factor``: a strategy switch then changes
    the list price by the ratio of the two strategies' price factors.
    """
    firms = market.firms
    for j, record in enumerate(book.suppliers):
        for dept, value in record.capability.items():
            firms.capability[j, market.departments.index(dept)] = value
        firms.price[j] = record.price / cfg.strategy.profile(firms.strategy[j]).price_factor


def _set_sales_force(
    market: Market, cfg: Config, rng: np.random.Generator, book: Book
) -> dict[str, int]:
    """Replace the drawn sales force by the book's salespeople; their global indices by id (M2).

    A salesperson without a skill in the book gets one drawn from the config.
    """
    market.salesforce = SalesForce()
    people: dict[str, int] = {}
    for j, record in enumerate(book.suppliers):
        market.firms.planned_salespeople[j] = len(record.salespeople)
        for entry in record.salespeople:
            person = hire(market, cfg.sales, rng, j)
            if entry.skill is not None:
                market.salesforce.skill[person] = entry.skill
            people[entry.id] = person
    return people


def _set_ties(
    market: Market, cfg: Config, rng: np.random.Generator, book: Book, people: dict[str, int]
) -> None:
    """Every account considers its current supplier, with an established tie (M4, M8, M13).

    With tenure ``n`` months, share of wallet ``w``, purchase probability
    ``p`` and trust/satisfaction from the book, the tie with the current
    supplier starts where ``p·n`` purchases at the expected surplus would
    have brought it:

    - attraction: with the other suppliers (WKH, M8) ``J = p·w·π̄·(1 − (1−γ)^n)/γ``
      with ``π̄ = v·q̂ − price`` and ``q̂ = Σ_d w_d·c_d`` (M7); with the current
      supplier the value that reproduces the book's share of wallet
      (:func:`calibrated_attraction`); each split into ``Lp = ρ·J`` and
      ``Lf = (1−ρ)·J`` by the supplier's person share ρ (F2);
    - knowledge ``K = 1 − (1−r)^(p·n)`` (F10), commitment
      ``C = T·S·(1 − (1−r_C)^(p·n))`` (M8);
    - last contact ``−months_since_contact``; stage from the M13 thresholds.

    The other suppliers an account considers (the model's draw) share the
    rest of its wallet, ``(1−w)/k`` each, at trust T₀ and the same attraction
    rule; each is owned by a random salesperson of that supplier.
    """
    a, t, rel, buyers = book.accounts, market.ties, cfg.relationship, market.buyers
    n, m = len(a), len(book.suppliers)
    rows = np.arange(n)
    current = a["current_supplier"].map({s: j for j, s in enumerate(book.supplier_ids)})
    current = current.to_numpy(dtype=np.int64)
    t.considers[rows, current] = True
    t.active[:] = t.considers
    t.trust[:] = rel.initial_trust
    t.satisfaction[:] = 0.5

    wallet = a["share_of_wallet"].to_numpy(dtype=F32)
    others = t.considers.sum(axis=1) - 1
    rest = np.divide(1.0 - wallet, others, out=np.zeros(n, dtype=F32), where=others > 0)
    t.wallet[:] = np.where(t.considers, rest[:, None], 0.0)
    t.wallet[rows, current] = np.where(others > 0, wallet, 1.0)
    t.trust[rows, current] = a["trust"].to_numpy(dtype=F32)
    t.satisfaction[rows, current] = a["satisfaction"].to_numpy(dtype=F32)

    purchases = cfg.buyers.purchase_prob * a["tenure_months"].to_numpy(dtype=F32)
    gamma = buyers.memory[:, None]
    firm = FirmTable.of(market, cfg.strategy)
    expected = delivery.expected_performance(buyers.needs[:, None, :],
                                             market.firms.capability[None])
    constant = cfg.market.profit_per_purchase if cfg.market.payoff == "constant" else None
    surplus = np.maximum(evaluation.payoff(expected, firm.list_price[None, :],
                                           cfg.market.value_per_quality, constant), 0.0)
    bought = t.considers & (t.wallet > 0)
    attraction = np.where(bought, cfg.buyers.purchase_prob * t.wallet * surplus
                          * (1.0 - (1.0 - gamma) ** a["tenure_months"].to_numpy()[:, None])
                          / gamma, 0.0).astype(F32)
    attraction[rows, current] = calibrated_attraction(market, cfg, firm, attraction, current,
                                                      np.where(others > 0, wallet, 1.0))
    buyers.volume *= split_order_factor(market, cfg, wallet, others)
    t.loyalty_person[:] = firm.person_share[None, :] * attraction
    t.loyalty_firm[:] = (1.0 - firm.person_share[None, :]) * attraction
    t.expectation[:] = np.where(bought, expected, 0.0)
    grown = 1.0 - (1.0 - rel.learning_rate) ** purchases
    t.knowledge[:] = 0.0
    t.knowledge[rows, current] = grown
    t.commitment[:] = 0.0
    t.commitment[rows, current] = (
        t.trust[rows, current] * t.satisfaction[rows, current]
        * (1.0 - (1.0 - rel.commitment_rate) ** purchases)
    )
    t.last_contact[:] = 0
    t.last_contact[rows, current] = -a["months_since_contact"].to_numpy(dtype=np.int32)
    t.stage[:] = 0
    t.stage[:] = stages.next_stage(
        t.stage, bought, t.trust, t.commitment, t.wallet,
        (rel.expansion_trust, rel.expansion_wallet),
        (rel.commitment_trust, rel.commitment_level, rel.commitment_wallet),
    )

    t.owner[:] = -1
    named = a["salesperson_id"].to_numpy()
    for j in range(m):
        staff = market.salesforce.of(j)
        accounts = np.flatnonzero(t.considers[:, j])
        t.owner[accounts, j] = staff[rng.integers(staff.size, size=accounts.size)]
    given = named != ""
    t.owner[rows[given], current[given]] = [people[p] for p in named[given]]
    buyers.main_supplier = current.copy()
    # retention from step 1 on is measured against the book: each account bought from its
    # current supplier in month 0, in one spell since its tenure began (metrics.record_purchases)
    history = market.accounts
    history.supplier[rows, 0] = current
    history.last[rows, 0] = 0
    history.start[rows, 0] = np.maximum(-a["tenure_months"].to_numpy(dtype=np.int64), NEVER)


def quotes(market: Market, cfg: Config) -> int:
    """``k``: the suppliers an adversarial buyer splits its order over (M6, F8)."""
    return min(cfg.buyers.quotes, market.n_suppliers)


def split_order_factor(market: Market, cfg: Config, wallet: np.ndarray, others: np.ndarray
                       ) -> np.ndarray:
    """Order-size factor ``max(1, w·k)`` of adversarial accounts with a share ``w`` above ``1/k``.

    An adversarial buyer splits each order equally over its ``k`` best quotes
    (F8), so no supplier gets more than ``1/k`` of its orders. When the book
    says we have more, the account's order size is raised by ``w·k`` so our
    revenue from it matches the book; its total purchases are then
    overstated by that factor (the report counts these accounts).
    """
    k = quotes(market, cfg)
    split = market.buyers.adversarial & (others > 0) & (k > 1)
    return np.where(split, np.maximum(1.0, wallet * k / (1.0 - 1e-3)), 1.0).astype(F32)


def calibrated_attraction(market: Market, cfg: Config, firm: FirmTable, attraction: np.ndarray,
                          current: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Attraction ``J[i, c_i]`` at which the current supplier's expected share of orders is ``w_i``.

    The logit of M6 with utilities ``U = J* − λ*·price + σ·D + χ·health`` (``J*``
    and ``λ*`` from the split ``Lp = ρ·J``, L3) gives
    supplier ``c`` the probability ``P_c = x/(x + S)`` with ``x = exp(β·U_c)``
    and ``S`` the sum over the other active suppliers. A partnership buyer
    orders all from its choice, so ``P_c = w`` gives ``x = S·w/(1 − w)``. An
    adversarial buyer splits equally over its ``k`` best quotes (F8): the
    share is ``P(c among the top k)/k``, with for ``k = 2``
    ``P = P_c + Σ_o P_o·P_c/(1 − P_o)`` (Gumbel top-2), solved for ``x`` by
    bisection; for ``k > 2`` the first-order ``min(1, k·P_c)`` is used. A
    share above ``1/k`` cannot be reached and is capped just below it.
    ``J`` is kept ≥ 0 (a bond is never negative).
    """
    t, buyers = market.ties, market.buyers
    n = current.size
    rows = np.arange(n)
    lam = buyers.price_sensitivity[:, None]
    rho = firm.person_share[None, :].astype(np.float64)

    def utility(j: np.ndarray, cols: np.ndarray | slice = slice(None)) -> np.ndarray:
        """M6's utility of attraction ``j`` split ``Lp = ρ·j``, ``Lf = (1 − ρ)·j`` (L3)."""
        r = rho[0, cols]
        return choice.utility(
            choice.bonded_attraction(r * j, (1.0 - r) * j, cfg.sales.person_weight),
            firm.list_price[cols], t.dependency[rows, cols] if not isinstance(cols, slice)
            else t.dependency, firm.health[cols],
            choice.price_weight(lam if isinstance(cols, slice) else lam[:, 0], r * j,
                                cfg.sales.person_premium),
            cfg.buyers.switching_weight, cfg.market.financial_weight)

    beta = buyers.beta.astype(np.float64)
    weight = np.exp(beta[:, None] * utility(attraction.astype(np.float64)))
    others = t.active.copy()
    others[rows, current] = False
    weight = np.where(others, weight, 0.0)
    total = weight.sum(axis=1)
    w = np.clip(share.astype(np.float64), 1e-6, 1 - 1e-6)
    x = total * w / (1.0 - w)
    k = quotes(market, cfg)
    split = buyers.adversarial & (others.sum(axis=1) >= 1) & (k > 1)
    if split.any():
        target = np.minimum(w[split], (1.0 - 1e-3) / k) * k
        x[split] = _top_k_weight(weight[split], total[split], target, k)
    target = np.log(np.maximum(x, 1e-300)) / beta
    # the utility grows with J (bond and premium both), so bisection finds J ≥ 0 with U = target
    low, high = np.zeros(n), np.full(n, 1e3)
    for _ in range(60):
        mid = (low + high) / 2
        above = utility(mid, current) > target
        high, low = np.where(above, mid, high), np.where(above, low, mid)
    return np.where(total > 0, low, attraction[rows, current]).astype(F32)


def _top_k_weight(weight: np.ndarray, total: np.ndarray, target: np.ndarray, k: int
                  ) -> np.ndarray:
    """Weight ``x`` of one more option so that P(it is among the top ``k``) = ``target``."""
    low, high = np.full(total.size, -40.0), np.full(total.size, 40.0)
    scale = np.maximum(total, 1e-300)
    for _ in range(60):
        mid = (low + high) / 2
        x = scale * np.exp(mid)
        p_c = x / (x + total)
        if k == 2:
            p_o = weight / (x + total)[:, None]
            inside = p_c + (p_o * p_c[:, None] / np.maximum(1.0 - p_o, 1e-12)).sum(axis=1)
        else:
            inside = np.minimum(1.0, k * p_c)
        low = np.where(inside < target, mid, low)
        high = np.where(inside < target, high, mid)
    return scale * np.exp((low + high) / 2)
