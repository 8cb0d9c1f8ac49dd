"""The phases of a step: each applies one mechanism's rules to a block of the market.

Every phase has the form ``phase(market, cfg, rng, block)`` and its body is
calls of :mod:`sim.rules`: the equations live there, with their brief ids.

* A buyer phase takes ``rows``, a slice of buyers: ``slice(i, i + 1)`` when a
  :class:`~sim.agents.Buyer` acts for itself (``engine=agent``), or every
  buyer at once (``engine=vector``).
* A supplier phase takes ``cols``: one supplier's column, or ``slice(None)``.
* :func:`sales_visits` takes the candidate ties ``(b, s)`` of one salesperson
  or of all.

The two engines therefore share every line of the model's logic and differ
only in activation order and in how random numbers are drawn. The step's
order is declared in :data:`sim.model.STEP`; a buyer's purchase is judged
by :data:`AFTER_PURCHASE`, in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.config import STRATEGIES
from sim.market import Learning, Purchases
from sim.rules import (
    adaptation,
    choice,
    contact,
    delivery,
    dependency,
    evaluation,
    improvement,
    services,
    stages,
    transaction,
    voice,
)
from sim.salesforce import reopen
from sim.ties import Stage, nonzero

if TYPE_CHECKING:
    from sim.config import Config
    from sim.market import FirmTable, Market

Cols = int | slice
Rng = np.random.Generator


def _ties_of(mask: np.ndarray, cols: Cols) -> tuple[np.ndarray, np.ndarray]:
    """(buyer, supplier) index arrays of the ties set in a column block's mask."""
    if isinstance(cols, slice):
        return nonzero(mask)
    b = np.flatnonzero(mask)
    return b, np.full(b.size, cols, dtype=np.intp)


def _add_at(total: np.ndarray, index: np.ndarray, values: np.ndarray | int = 1) -> None:
    """``np.add.at(total, index, values)`` for a 1-D float64 ledger column.

    When the column is still all zero (the vectorised engine adds once per
    step) and the index is long, it is a ``np.bincount``: the same float64
    sums in the same order, about 10× faster. Otherwise (a per-agent engine
    adding buyer after buyer) it is ``np.add.at`` itself.
    """
    if index.size > 256 and total.ndim == 1 and total.dtype == np.float64 and not total.any():
        weights = None if np.isscalar(values) else np.broadcast_to(values, index.shape)
        sums = np.bincount(index, weights=weights, minlength=total.size)
        total += sums if weights is not None else sums * values
    else:
        np.add.at(total, index, values)


def _learning_rate(market: Market, cfg: Config, b: np.ndarray,
                   trust: np.ndarray) -> np.ndarray:
    """``r·o``: what an interaction with buyers ``b`` at ``trust`` teaches (F10, M12)."""
    rel = cfg.relationship
    return rel.learning_rate * improvement.openness(
        trust, market.buyers.adversarial[b], rel.learning_trust_weight,
        rel.adversarial_withholding,
    )


def _touch(market: Market, cfg: Config, b, s, person_bond, firm_bond) -> None:
    """A contact on ties (b, s): knowledge and bonds grow, silence is uncovered (M5, M9)."""
    t = market.ties
    t.last_contact[b, s] = market.now
    rate = _learning_rate(market, cfg, b, t.trust[b, s])
    t.knowledge[b, s] = contact.learn(t.knowledge[b, s], rate)
    t.loyalty_person[b, s] += person_bond
    t.loyalty_firm[b, s] += firm_bond
    uncovered = t.silent[b, s]
    t.silent[b[uncovered], s[uncovered]] = False
    t.complaint[b[uncovered], s[uncovered]] = True


# ------------------------------------------------------------------ contact (M5)


def sales_visits(market: Market, cfg: Config, rng: Rng, b: np.ndarray, s: np.ndarray) -> None:
    """M5: salespeople visit their largest, most at-risk accounts up to their capacity.

    ``b, s`` are the candidate ties (active, owned). A visit builds a bond
    ``contact_bond·skill``, split person/firm by the firm's ``ρ``; a visit to
    a silently dissatisfied buyer turns the grievance into a complaint.
    """
    if b.size == 0:
        return
    t, force, sales = market.ties, market.salesforce, cfg.sales
    owner = t.owner[b, s]
    priority = contact.contact_priority(
        market.buyers.volume[b], t.trust[b, s], market.now - t.last_contact[b, s],
        t.dependency[b, s], sales.priority_risk_weight, sales.priority_silence_steps,
        sales.priority_dependency_weight,
    )
    pick = contact.top_per_owner(owner, priority, force.capacity, rng.random(b.size))
    b, s, owner = b[pick], s[pick], owner[pick]
    bond = cfg.sales.contact_bond * force.skill[owner]
    rho = market.policy.person_share[s]
    _touch(market, cfg, b, s, rho * bond, (1.0 - rho) * bond)


def department_contacts(market: Market, cfg: Config, rng: Rng, cols: Cols) -> None:
    """M5 (F9) and M9 (F5): cross-functional contact and calls to silent accounts.

    Each active tie is touched by other departments with the firm's
    ``cross_functional_rate``; a firm with a monitoring policy also calls
    every active account without contact for more than ``m`` steps. Both
    build firm-bound loyalty ``contact_bond·κ``.
    """
    t, firm = market.ties, market.policy
    active = t.active[:, cols]
    touched = active & (rng.random(active.shape) < firm.cross_functional_rate[cols])
    overdue = active & contact.silent_too_long(
        t.last_contact[:, cols], market.now, firm.monitor_after[cols]
    )
    b, s = _ties_of(touched | overdue, cols)
    bond = cfg.sales.contact_bond * firm.coordination[s]
    _touch(market, cfg, b, s, 0.0, bond)
    _add_at(market.ledger.contacts, s, 1)


# ------------------------------------------------------------------ orders (M6, L2)


def _class_prices(firm: FirmTable, cfg: Config, wallet: np.ndarray,
                  s: np.ndarray | slice = slice(None)) -> np.ndarray:
    """The list price each buyer faces from suppliers ``s``: the firm's learned loyal-buyer
    price where the buyer's share of wallet makes it loyal, else its list price (L2)."""
    if firm.loyal_price is None:
        return firm.list_price[s]
    return adaptation.class_price(firm.list_price[s], firm.loyal_price[s],
                                  adaptation.loyal(wallet, cfg.adaptation.loyal_wallet))


def place_orders(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M6: buyers with a purchase need choose suppliers by logit (F8 split orders, F9 partners).

    Salesperson-bound loyalty weighs ``1 + ω`` and lowers price sensitivity (L3).
    """
    t, firm, buyers, sales = market.ties, market.policy, market.buyers, cfg.sales
    n = rows.stop - rows.start
    need = rng.random((n, 1)) < cfg.buyers.purchase_prob * market.demand_factor
    person = t.loyalty_person[rows]
    price = _class_prices(firm, cfg, t.wallet[rows])
    u = choice.utility(
        choice.bonded_attraction(person, t.loyalty_firm[rows], sales.person_weight),
        price,
        t.dependency[rows],
        firm.health,
        choice.price_weight(buyers.price_sensitivity[rows, None], person, sales.person_premium),
        cfg.buyers.switching_weight,
        cfg.market.financial_weight,
    )
    scores = choice.gumbel_scores(u, buyers.beta[rows, None], t.active[rows], rng)
    market.orders[rows] = choice.allocate_orders(
        scores,
        need,
        buyers.volume[rows, None],
        buyers.adversarial[rows, None],
        cfg.buyers.quotes,
        t.partner[rows],
        cfg.relationship.partner_share,
    )


def fill_orders(market: Market, cfg: Config, rng: Rng, col: int) -> None:
    """L2: ship orders within stock, in the order of the seller's serving rule.

    The configured rule serves strategic partners, then loyal buyers, first; a
    seller that learns (``adaptation=reinforcement``) serves by the rule it
    chose this step (:func:`sim.rules.adaptation.serving_order_by`). An
    unfilled order is a stock-out: the buyer experiences a delivery of
    ``relationship.stockout_quality`` (0 by default: nothing arrived).
    """
    capacity = market.supply_capacity
    orders = market.orders[:, col]
    if capacity is None or orders.sum() <= capacity:
        return
    t = market.ties
    if market.learning is not None:
        market.learning.short[col] = True
    waiting = np.flatnonzero(orders > 0)
    partner = t.partner[waiting, col]
    attraction = t.loyalty_person[waiting, col] + t.loyalty_firm[waiting, col]
    tiebreak = rng.random(waiting.size)
    rules = market.policy.serving_rule
    if rules is None or rules[col] < 0:
        order = choice.serving_order(partner, attraction, tiebreak)
    else:
        order = adaptation.serving_order_by(cfg.adaptation.serving_rules[rules[col]], partner,
                                            attraction, orders[waiting], tiebreak)
    queue = waiting[order]
    market.stockout[queue[np.cumsum(orders[queue]) > capacity], col] = True


# ------------------------------------------------------------------ after a purchase


def deliver(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M7: the salesperson promises ``E``, the departments deliver ``q``.

    Fills :attr:`Market.purchases` with this block's purchases for the
    phases that judge them.
    """
    t, firms, force, rel = market.ties, market.firms, market.salesforce, cfg.relationship
    li, s = nonzero(market.orders[rows])  # orders are ≥ 0: the same ties as orders > 0
    b = li + rows.start
    if b.size == 0:
        market.purchases = None
        return
    owner = t.owner[b, s]
    staffed = owner >= 0
    skill = np.where(staffed, force.skill[owner], 0.0)
    inflation = np.where(staffed, force.inflation[owner], 0.0)
    needs = market.buyers.needs[b]
    knowledge = t.knowledge[b, s]
    sold = delivery.capability_performance(firms.capability[s], knowledge, rel.fit_gain)
    promised = delivery.promise(delivery.expected_performance(needs, sold), inflation)
    performance = delivery.department_performance(
        firms.capability[s] * (1.0 - firms.quality_shock[s]), market.policy.coordination[s],
        skill, cfg.sales.coverage, knowledge, rel.fit_gain, market.is_product,
    )
    trust = t.trust[b, s]
    partnership = ~market.buyers.adversarial[b]
    quality = delivery.delivered(
        delivery.expected_performance(needs, performance), cfg.market.noise,
        market.uncertainty, trust, partnership, rel.flexibility, rng.standard_normal(b.size),
    )
    short = market.stockout[b, s]
    list_price = _class_prices(market.policy, cfg, t.wallet[b, s], s)
    market.purchases = Purchases(
        rows=rows, local=li, buyer=b, supplier=s, volume=market.orders[rows][li, s],
        short=short, needs=needs, knowledge=knowledge, promised=promised,
        quality=np.where(short, rel.stockout_quality, quality), trust_before=trust,
        partnership=partnership,
        price_paid=choice.price_paid(
            list_price, cfg.buyers.haggle_discount, market.buyers.adversarial[b]
        ),
        reach=services.reach(market.policy.coordination[s], skill, cfg.sales.coverage),
    )


def evaluate(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M8: disconfirmation moves satisfaction, trust, commitment and attraction.

    ``δ = q − E``; the WKH attraction ``J = Lp + Lf`` of every buyer of the
    block moves by ``J ← (1−γ)J + π`` (π = 0 without a purchase), split
    person/firm by ``ρ``; share of wallet moves toward this step's shares;
    a serious failure costs strategic-partner status at once (F9).
    """
    t, rel, p = market.ties, cfg.relationship, market.purchases
    orders = market.orders[rows]
    gain = np.zeros_like(orders)
    if p is not None:
        b, s = p.buyer, p.supplier
        delta = p.quality - p.promised
        p.satisfaction = evaluation.update_satisfaction(
            t.satisfaction[b, s], p.quality, delta, rel.disconfirmation_weight,
            rel.satisfaction_rate,
        )
        p.trust_after = evaluation.haggling_erodes(
            evaluation.update_trust(
                p.trust_before, delta, rel.trust_gain, rel.trust_loss, rel.tolerance_zone
            ),
            ~p.partnership, rel.haggling_erosion,
        )
        t.expectation[b, s] = p.promised
        t.satisfaction[b, s] = p.satisfaction
        t.trust[b, s] = p.trust_after
        t.commitment[b, s] = evaluation.update_commitment(
            t.commitment[b, s], p.trust_after, p.satisfaction, rel.commitment_rate
        )
        constant = cfg.market.profit_per_purchase if cfg.market.payoff == "constant" else None
        pi = evaluation.payoff(p.quality, p.price_paid, cfg.market.value_per_quality, constant)
        gain[p.local, s] = np.where(p.short, 0.0, pi)
        failed = evaluation.serious_failure(p.quality, market.buyers.tolerance[b])
        t.partner[b[failed], s[failed]] = False
        market.failures[b[failed], s[failed]] = True
    evaluation.update_attraction(
        t.loyalty_person[rows], t.loyalty_firm[rows], gain,
        market.buyers.memory[rows, None], market.policy.person_share,
    )
    evaluation.update_wallet(t.wallet[rows], orders, rel.wallet_memory)


def speak_up(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M9 (F5): a newly dissatisfied buyer complains with its voice propensity, else falls silent.

    The trust lost in the purchase is the grievance a complaint can recover.
    """
    p = market.purchases
    if p is None:
        return
    t, ledger = market.ties, market.ledger
    b, s = p.buyer, p.supplier
    dissatisfied = p.satisfaction < cfg.relationship.dissatisfied_below
    fresh = dissatisfied & ~t.complaint[b, s] & ~t.silent[b, s]
    complains, quiet = voice.voice_or_silence(
        fresh, market.buyers.voice[b], rng.random(b.size)
    )
    lost = np.maximum(p.trust_before - p.trust_after, 0.0)
    t.grievance[b[fresh], s[fresh]] = lost[fresh]
    t.complaint[b[complains], s[complains]] = True
    t.silent[b[quiet], s[quiet]] = True
    t.silent[b[~dissatisfied], s[~dissatisfied]] = False
    _add_at(ledger.voiced_episodes, s[complains], 1)
    _add_at(ledger.silent_episodes, s[quiet], 1)


def count_transaction_costs(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M11 (F7, L4): non-productive time and procurement cost fall with trust, rise with blame.

    Booked for the supplier (``buyer_cost``, and its own cost to serve, which
    a large share of wallet lowers) and in each buyer's procurement books.
    """
    p = market.purchases
    if p is None:
        return
    rel, ledger = cfg.relationship, market.ledger
    broken = p.quality - p.promised < -rel.tolerance_zone
    share = transaction.nonproductive_share(p.trust_before, rel.tc_at_zero_trust,
                                            rel.tc_trust_slope, broken, rel.blame_share)
    p.procurement_cost = transaction.transaction_cost(
        p.volume, p.trust_before, share, rel.tc_cost, rel.inspection_threshold,
        rel.inspection_cost,
    )
    _add_at(ledger.nonproductive_time, p.supplier, p.volume * share)
    _add_at(ledger.buyer_cost, p.supplier, p.procurement_cost)
    _add_at(ledger.cost_to_serve, p.supplier, transaction.cost_to_serve(
        p.volume, share, rel.serve_cost, market.ties.wallet[p.buyer, p.supplier],
        rel.wallet_saving,
    ))
    market.procurement.book(p.buyer, p.volume, share, p.procurement_cost, p.trust_before)


def learn(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """F10 and M12: each purchase teaches the seller what the buyer shares; partners learn twice.

    ``K ← K + r·o·(1 − K)`` per purchase with the buyer's openness ``o``
    (:func:`sim.rules.improvement.openness`: trust and stance), once more on
    a joint-improvement tie (trust above the threshold, partnership stance,
    delivered), whose needs also count toward the firm's capability growth.
    Knowledge is the tie's own: it raises what this buyer gets (fit, F10) and
    the service lines it buys (F11). A purchase counts as contact unless
    ``purchase_is_contact`` is off.
    """
    p = market.purchases
    if p is None:
        return
    t, rel = market.ties, cfg.relationship
    b, s = p.buyer, p.supplier
    rate = _learning_rate(market, cfg, b, p.trust_after)
    knowledge = contact.learn(p.knowledge, rate)
    joint = improvement.qualifies(p.trust_after, ~p.short, p.partnership,
                                  rel.improvement_threshold)
    knowledge = np.where(joint, contact.learn(knowledge, rate), knowledge)
    t.knowledge[b, s] = knowledge
    if rel.purchase_is_contact:
        t.last_contact[b, s] = market.now
    np.add.at(market.ledger.improving_needs, s[joint], p.volume[joint, None] * p.needs[joint])


def book_sales(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M14, F11: core volume and revenue, service lines, and the buyers' value.

    Service lines bring ``v·p·s_w·(1 − w_product)·a`` (:mod:`sim.rules.services`)
    at a cost ``c_s`` per unit of spend. The buyer's value of a purchase is
    its surplus ``v·q − price`` on what was shipped minus its procurement
    cost (M11: transaction cost is a real cost to the buyer, F8).
    """
    p = market.purchases
    if p is None:
        return
    ledger, s, t, mkt = market.ledger, p.supplier, market.ties, cfg.market
    shipped = np.where(p.short, 0.0, p.volume)
    _add_at(ledger.volume, s, shipped)
    _add_at(ledger.revenue, s, shipped * p.price_paid)
    beyond = 1.0 - p.needs[:, market.is_product].sum(axis=1)
    spend = services.service_spend(
        shipped, p.price_paid, beyond, mkt.service_wallet,
        services.adoption(p.trust_after, t.knowledge[p.buyer, s], p.reach,
                          cfg.relationship.fit_gain),
    )
    _add_at(ledger.service_revenue, s, spend)
    _add_at(ledger.service_cost, s, mkt.service_cost * spend)
    _add_at(ledger.buyer_value, s, shipped * (mkt.value_per_quality * p.quality - p.price_paid)
            - p.procurement_cost)
    _add_at(ledger.trade_volume, s, p.volume)


# ------------------------------------------------------------------ tending ties


def answer_complaints(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M9: the firm answers pending complaints and recovers part of the lost trust."""
    t = market.ties
    li, s = nonzero(t.complaint[rows])
    answered = rng.random(li.size) < market.policy.complaint_handling[s]
    b, s = li[answered] + rows.start, s[answered]
    t.trust[b, s] = voice.recover_trust(t.trust[b, s], t.grievance[b, s], cfg.relationship.recovery)
    t.complaint[b, s] = False
    t.grievance[b, s] = 0.0
    t.last_contact[b, s] = market.now


def churn(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M13 (F5, F9): silence is deadlier than voice; trust collapse and serious failures end ties.

    Silent and complaining buyers leave with their hazards; a tie whose trust
    fell below the floor ends; a serious failure ends it with probability
    ``failure_exit``.
    """
    t, ledger, rel = market.ties, market.ledger, cfg.relationship
    off = rows.start
    active = t.active[rows]
    n_sup = active.shape[1]
    uniform = rng.random(active.shape)
    # the hazard is 0 unless the buyer is silent or complaining: evaluate it only there
    li, s = nonzero(active & (t.silent[rows] | t.complaint[rows]))
    b = li + off
    hazard = voice.churn_hazard(
        t.silent[b, s], t.complaint[b, s], t.commitment[b, s], t.dependency[b, s],
        rel.silent_churn_hazard, rel.voiced_churn_hazard, rel.dependency_binding,
    )
    go = uniform[li, s] < hazard
    li, s, b = li[go], s[go], b[go]  # the ties the buyer leaves
    silent_exit = t.silent[b, s]
    voiced_exit = t.complaint[b, s] & ~silent_exit
    ledger.silent_churn += np.bincount(s[silent_exit], minlength=n_sup)
    ledger.voiced_churn += np.bincount(s[voiced_exit], minlength=n_sup)
    leaves = np.zeros(active.shape, dtype=bool)
    leaves[li, s] = True
    ends = active & (t.trust[rows] < rel.trust_floor)
    uniform = rng.random(active.shape)  # one draw for every tie
    fi, fs = nonzero(active & market.failures[rows])
    exits = uniform[fi, fs] < voice.failure_exit(
        rel.failure_exit, t.dependency[fi + off, fs], rel.dependency_binding
    )
    ends[fi[exits], fs[exits]] = True
    ledger.other_churn += (ends & ~leaves).sum(axis=0)
    ends |= leaves
    li, s = nonzero(ends)
    t.dissolve(li + off, s)
    market.live = None  # the live ties changed


def _live(market: Market, rows: slice) -> np.ndarray:
    """Flat indices (into the row block) of the block's live ties after this step's churn.

    Found once per block and step (:func:`churn` is the last phase before
    tending that ends ties) and kept in ``market.live`` with its key.
    """
    key = (rows.start, rows.stop, market.now)
    if market.live is None or market.live[0] != key:
        market.live = (key, np.flatnonzero(market.ties.active[rows]))
    return market.live[1]


def decay(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M9 (F5) entropy: ties without contact this step decay, ``x ← x − ε·(x − x₀)``.

    Trust decays toward ``T₀``; loyalty to the person and to the firm and
    commitment toward 0.
    """
    t, eps = market.ties, cfg.relationship.decay
    live = _live(market, rows)
    quiet = live[t.last_contact[rows].reshape(-1)[live] < market.now]
    voice.decay_toward(t.trust[rows], cfg.relationship.initial_trust, eps, quiet)
    voice.decay_toward(t.loyalty_person[rows], 0.0, eps, quiet)
    voice.decay_toward(t.loyalty_firm[rows], 0.0, eps, quiet)
    voice.decay_toward(t.commitment[rows], 0.0, eps, quiet)


def word_of_mouth(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """Word of mouth: trust drifts toward what the buyer's neighbours think of each supplier.

    ``T[i,j] += ω·(mean over neighbours k with a live tie to j of T[k,j] − T[i,j])``
    on live ties: only a neighbour who deals with ``j`` has something to say
    about it. A tie none of whose neighbours deals with ``j`` hears nothing.
    """
    omega = cfg.relationship.word_of_mouth
    if omega <= 0:
        return
    t = market.ties
    live = _live(market, rows)
    everyone = rows.start == 0 and rows.stop == market.neighbours.shape[0]
    graph, heard_from = market.neighbours, slice(None)
    if not everyone:  # one buyer's block: only its neighbours' rows are read
        heard_from = np.unique(graph[rows].indices)
        graph = graph[rows][:, heard_from]
    active = t.active[heard_from]
    said = graph @ np.where(active, t.trust[heard_from], 0.0).astype(t.trust.dtype)
    speakers = (graph @ active.astype(t.trust.dtype)).reshape(-1)[live]
    trust = t.trust[rows].reshape(-1)  # a view: row blocks are contiguous
    heard = np.divide(said.reshape(-1)[live], speakers, out=trust[live].copy(),
                      where=speakers > 0)
    trust[live] += omega * (heard - trust[live])


def erode_dependency(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M10: dependency erodes without renewed investment."""
    dependency.erode(market.ties.dependency[rows], cfg.relationship.dependency_decay)


def advance_stages(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M13 (F9): Dwyer–Schurr–Oh stages of the live ties, and strategic partners.

    An inactive tie keeps its stage (awareness, never bought, or dissolution).
    """
    t, rel = market.ties, cfg.relationship
    live = _live(market, rows)

    def flat(a: np.ndarray) -> np.ndarray:
        return a[rows].reshape(-1)[live]

    t.stage[rows].reshape(-1)[live] = stages.next_stage(
        flat(t.stage), flat(market.orders) > 0, flat(t.trust), flat(t.commitment),
        flat(t.wallet), (rel.expansion_trust, rel.expansion_wallet),
        (rel.commitment_trust, rel.commitment_level, rel.commitment_wallet),
    )
    t.partner[rows] = stages.promote_partner(
        t.partner[rows] & t.active[rows], t.stage[rows], t.trust[rows], t.attraction(rows),
        ~market.buyers.adversarial[rows, None], rel.partner_trust,
    )


def reconsider(market: Market, cfg: Config, rng: Rng, rows: slice) -> None:
    """M13: a dissolved tie is reconsidered from scratch with ``reconsider_rate`` per step."""
    t = market.ties
    closed = t.considers[rows] & ~t.active[rows]
    uniform = rng.random(closed.shape)
    li, s = nonzero(closed)
    back = uniform[li, s] < cfg.relationship.reconsider_rate
    reopen(market, cfg.relationship, rng, li[back] + rows.start, s[back])
    market.live = None  # the live ties changed


# ------------------------------------------------------------------ firms' investments


def invest_in_dependency(market: Market, cfg: Config, rng: Rng, cols: Cols) -> None:
    """M10 (F6): dependency investments in developed accounts.

    A firm invests with probability ``dependency_investment`` in each active
    tie at the expansion stage or beyond: ``D += s·(1 − D)``, and the shared
    information teaches it about the buyer.
    """
    t, rel = market.ties, cfg.relationship
    developed = t.active[:, cols] & (t.stage[:, cols] >= Stage.EXPANSION)
    chosen = developed & (rng.random(developed.shape) < market.policy.dependency_investment[cols])
    b, s = _ties_of(chosen, cols)
    t.dependency[b, s] = dependency.invested(t.dependency[b, s], rel.dependency_step)
    rate = _learning_rate(market, cfg, b, t.trust[b, s])
    t.knowledge[b, s] = contact.learn(t.knowledge[b, s], rate)
    _add_at(market.ledger.investments, s, 1)


def improve_jointly(market: Market, cfg: Config, rng: Rng, cols: Cols) -> None:
    """M12 (F8): capability grows with the needs of this step's joint-improvement ties."""
    ledger, capability = market.ledger, market.firms.capability
    capability[cols] += improvement.capability_gain(
        capability[cols], ledger.improving_needs[cols],
        ledger.volume.sum() / ledger.volume.size, cfg.relationship.improvement_rate,
    )


# ------------------------------------------------------------------ adapting firms (L2, M1)


def _learning(market: Market, cfg: Config) -> Learning:
    """The firms' learning state, started on first use and grown for entrants."""
    a = cfg.adaptation
    if market.learning is None:
        market.learning = Learning.start(
            market.firms.price, len(a.markups), len(a.serving_rules), len(STRATEGIES),
            a.initial_propensity, a.fixed, a.name == "reinforcement" and a.price_classes,
        )
        market.learning.chosen_strategy[:] = [STRATEGIES.index(s) for s in market.firms.strategy]
    market.learning.grow(market.firms.price, a.initial_propensity)
    return market.learning


def adapt_policies(market: Market, cfg: Config, rng: Rng, cols: Cols) -> None:
    """L2, M1: adapting suppliers set this step's policy before anyone acts.

    ``reinforcement``: each plays a markup per buyer class, a serving rule
    and, every ``k`` steps with ``learn_strategy``, a strategy, each drawn
    with probability ``q[k]/Σq`` (Roth–Erev, :mod:`sim.rules.adaptation`);
    base price ``= unit_cost × markup``. ``imitation``: every ``k`` steps each
    looks at a random rival and copies its strategy with Schlag's probability
    ``max(0, Π_r − Π_j)/(Π_max − Π_min)`` (profit over the last ``k`` steps).
    Suppliers in ``adaptation.fixed`` keep their configured policy. With
    ``adaptation=none`` nothing happens and no random number is drawn.
    """
    a = cfg.adaptation
    if a.name == "none":
        return
    learning, firms = _learning(market, cfg), market.firms
    revise = market.now > 1 and (market.now - 1) % a.revise_every == 0
    who = np.flatnonzero(learning.adapts)
    if a.name == "reinforcement":
        uniform = rng.random((len(firms), 4))[who]
        chosen = adaptation.pick(learning.price[who], uniform[:, :2])
        if not learning.classes:
            chosen[:, 1] = chosen[:, 0]
        learning.chosen_price[who] = chosen
        markups = np.asarray(a.markups, dtype=np.float64)
        firms.price[who] = cfg.market.unit_cost * markups[chosen[:, 0]]
        learning.loyal_base[who] = cfg.market.unit_cost * markups[chosen[:, 1]]
        learning.chosen_serving[who] = adaptation.pick(learning.serving[who], uniform[:, 2])
        if a.learn_strategy and revise:
            learning.chosen_strategy[who] = adaptation.pick(learning.strategy[who],
                                                            uniform[:, 3])
            for j in who:
                firms.strategy[j] = STRATEGIES[learning.chosen_strategy[j]]
    elif revise:
        _imitate(market, learning, rng)
    fixed = ~learning.adapts
    learning.loyal_base[fixed] = firms.price[fixed]
    learning.cash_before = firms.cash.copy()
    learning.short[:] = False


def _imitate(market: Market, learning: Learning, rng: Rng) -> None:
    """Schlag's proportional imitation of a random rival's strategy (every ``k`` steps)."""
    firms, m = market.firms, len(market.firms)
    profit = learning.window_profit
    uniform = rng.random((m, 2))
    if m > 1:
        rival = (np.arange(m) + 1 + (uniform[:, 0] * (m - 1)).astype(np.int64)) % m
        copy = learning.adapts & (uniform[:, 1] < adaptation.imitation_probability(
            profit, profit[rival], float(profit.max() - profit.min())))
        before = list(firms.strategy)
        for j in np.flatnonzero(copy):
            firms.strategy[j] = before[rival[j]]
        learning.chosen_strategy[:] = [STRATEGIES.index(s) for s in firms.strategy]
    learning.window_profit[:] = 0.0


def learn_from_profit(market: Market, cfg: Config, rng: Rng, cols: Cols) -> None:
    """L2, M1: after the books, each adapting supplier reinforces what it played by its profit.

    ``π`` is this step's profit (change in cash, M14). Its deviation
    ``σ ← (1 − w)·σ + w·|π − ρ|`` and the reinforcement ``R = s·(π − ρ)/σ``
    come first, then the aspiration ``ρ ← (1 − w)·ρ + w·π`` (started at the
    first profit); each choice's propensities get the Roth–Erev update
    ``q[k] ← max(ν, (1 − φ)·q[k] + E[k])`` (:func:`sim.rules.adaptation.reinforce`),
    the serving rule's only in steps when the seller's stock ran short (else
    the rule decided nothing).
    Under imitation the profit is only summed for the next round.
    """
    a, learning = cfg.adaptation, market.learning
    if a.name == "none" or learning is None:
        return
    profit = market.firms.cash - learning.cash_before
    learning.window_profit += profit
    if a.name != "reinforcement":
        return
    aspiration = np.where(np.isnan(learning.aspiration), profit, learning.aspiration)
    learning.deviation = adaptation.follow(learning.deviation, np.abs(profit - aspiration),
                                           a.aspiration_rate)
    push = adaptation.reward(profit, aspiration, learning.deviation, a.sensitivity)
    learning.aspiration = adaptation.follow(aspiration, profit, a.aspiration_rate)
    who = np.flatnonzero(learning.adapts)
    r, floor = push[who], a.propensity_floor * a.initial_propensity

    def update(q: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        return adaptation.reinforce(q, chosen, r, a.forgetting, a.experimentation, floor)

    for c in range(2 if learning.classes else 1):
        learning.price[who, c] = update(learning.price[who, c], learning.chosen_price[who, c])
    short = who[learning.short[who]]  # the serving rule mattered only when stock was short
    learning.serving[short] = adaptation.reinforce(
        learning.serving[short], learning.chosen_serving[short], push[short], a.forgetting,
        a.experimentation, floor)
    if a.learn_strategy:
        learning.strategy[who] = update(learning.strategy[who], learning.chosen_strategy[who])


Phase = Callable[["Market", "Config", Rng, slice], None]

#: How a buyer's purchases are judged and its ties tended, in order: a Buyer
#: runs these on its own row; the vectorised engine runs each on every row.
AFTER_PURCHASE: tuple[Phase, ...] = (
    deliver, evaluate, speak_up, count_transaction_costs, learn, book_sales,
    answer_complaints, churn, decay, word_of_mouth, erode_dependency, advance_stages, reconsider,
)

#: A firm's investments, in order (a Supplier runs them on its own column).
INVESTMENTS: tuple[Phase, ...] = (invest_in_dependency, improve_jointly)
