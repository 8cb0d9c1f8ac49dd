"""Start the model from a book of accounts instead of a random market.

:func:`book_overrides` sizes the config to the book (buyers, suppliers and
their strategies); :func:`market_from_book` builds the market state of that
config with the book's buyers' volumes, needs and stance (M3), suppliers'
capabilities and prices (M1), the sales force and who owns each account
(M2), and the established tie with each account's current supplier (M4);
:func:`start_model` puts a :class:`~sim.model.RelationshipModel` on it.
One step is one month.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from sim.build import build_market
from sim.config import DEPARTMENTS, Config
from sim.market import FirmTable, Market, SalesForce
from sim.model import RelationshipModel
from sim.rules import delivery, evaluation, stages
from sim.salesforce import hire
from sim.whatif.book import NEED_COLUMNS, Book

F32 = np.float32


def book_overrides(book: Book) -> dict[str, object]:
    """Config values the book fixes: market size, departments and each supplier's strategy."""
    return {
        "market.n_buyers": len(book.accounts),
        "market.n_suppliers": len(book.suppliers),
        "market.departments": list(DEPARTMENTS),
        "strategy.assignment": [s.strategy for s in book.suppliers],
    }


def start_model(cfg: Config, book: Book) -> RelationshipModel:
    """The model of ``cfg`` (sized by :func:`book_overrides`) in the book's starting state.

    The random draws of this state (consideration sets, unknown skills and
    capabilities, competitors' account owners) come from the run's seed and
    happen before step 1, so every scenario of a seed starts identical.
    """
    return RelationshipModel(cfg, build=partial(market_from_book, book=book))


def market_from_book(cfg: Config, rng: np.random.Generator, book: Book) -> Market:
    """The market of ``cfg`` with the book's buyers, suppliers, sales force and ties."""
    market = build_market(cfg, rng)
    _set_buyers(market, cfg, book)
    _set_suppliers(market, cfg, book)
    people = _set_sales_force(market, cfg, rng, book)
    _set_ties(market, cfg, rng, book, people)
    market.policy = FirmTable.of(market, cfg.strategy)
    return market


def _set_buyers(market: Market, cfg: Config, book: Book) -> None:
    """Volume per step ``annual_volume / 12 / volume_unit`` (mean 1), needs and stance (M3)."""
    a, b, buyers = book.accounts, cfg.buyers, market.buyers
    buyers.volume = (a["annual_volume"].to_numpy() / 12.0 / book.volume_unit).astype(F32)
    buyers.needs = a[list(NEED_COLUMNS)].to_numpy(dtype=F32)
    buyers.adversarial = a["adversarial"].to_numpy(dtype=bool)
    # λ_i as in sim.market.draw_buyers: adversarial buyers weigh price more (F8)
    buyers.price_sensitivity = (
        b.price_sensitivity * np.where(buyers.adversarial, b.adversarial_price_factor, 1.0)
    ).astype(F32)
    if market.supply_capacity is not None:
        fair_share = len(a) * b.purchase_prob * float(buyers.volume.mean()) / len(
            book.suppliers)
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

    - attraction (WKH, M8) ``J = p·w·π̄·(1 − (1−γ)^n)/γ`` with
      ``π̄ = v·q̂ − price`` and ``q̂ = Σ_d w_d·c_d`` (M7), split into
      ``Lp = ρ·J`` and ``Lf = (1−ρ)·J`` by the supplier's person share ρ (F2);
    - knowledge ``K = 1 − (1−r)^(p·n)`` (F10), commitment
      ``C = T·S·(1 − (1−r_C)^(p·n))`` (M8);
    - last contact ``−months_since_contact``; stage from the M13 thresholds.

    The other suppliers an account considers (the model's draw) share the
    rest of its wallet, ``(1−w)/k`` each, at trust T₀ and the same attraction
    rule; each is owned by a random salesperson of that supplier.
    """
    a, t, rel = book.accounts, market.ties, cfg.relationship
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
    gamma = market.buyers.memory[:, None]
    firm = FirmTable.of(market, cfg.strategy)
    expected = delivery.expected_performance(market.buyers.needs[:, None, :],
                                             market.firms.capability[None])
    constant = cfg.market.profit_per_purchase if cfg.market.payoff == "constant" else None
    surplus = np.maximum(evaluation.payoff(expected, firm.list_price[None, :],
                                           cfg.market.value_per_quality, constant), 0.0)
    bought = t.considers & (t.wallet > 0)
    attraction = np.where(bought, cfg.buyers.purchase_prob * t.wallet * surplus
                          * (1.0 - (1.0 - gamma) ** a["tenure_months"].to_numpy()[:, None])
                          / gamma, 0.0)
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
    market.buyers.main_supplier = current.copy()  # retention in step 1 is measured against it
