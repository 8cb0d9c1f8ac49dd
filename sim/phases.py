"""The phases of one step, each applying the rules of :mod:`sim.rules` to a block of ties.

A buyer phase takes ``rows``, a slice of buyers: ``slice(i, i + 1)`` when a
:class:`~sim.agents.Buyer` acts for itself (``engine=agent``) or all buyers
at once (``engine=vector``). A supplier phase takes ``cols``: one supplier's
column or ``slice(None)`` for all. The engines therefore share every line of
the model's logic and differ only in activation order and in how random
numbers are drawn.

Order of a step (see :meth:`sim.model.RelationshipModel.step`): shocks (M15),
salesperson turnover (M2), contact (M5, M9), orders (M6), filling orders (L2),
evaluation (M7, M8, M9, M11, M12), tending ties (M9, M13, word of mouth),
investment (M10, M12), books (M14).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.rules import (
    choice,
    contact,
    delivery,
    dependency,
    evaluation,
    improvement,
    stages,
    transaction,
    voice,
)
from sim.ties import Stage

if TYPE_CHECKING:
    from sim.model import RelationshipModel

Cols = int | slice


def _ties_of(mask: np.ndarray, cols: Cols, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(buyer, supplier) index arrays of the ties set in a column block's mask."""
    if isinstance(cols, slice):
        b, s = np.nonzero(mask)
        return b + offset, s
    b = np.flatnonzero(mask)
    return b, np.full(b.size, cols, dtype=np.intp)


def _add_at(total: np.ndarray, index: np.ndarray, values: np.ndarray | int = 1) -> None:
    """``np.add.at(total, index, values)`` for a 1-D float64 ledger column.

    When the column is still all zero (the vectorised engine adds once per
    step) and the index is long, it is a ``np.bincount``: the same float64 sums in the same order,
    about 10× faster (issue 5). Otherwise (a per-agent engine adding buyer
    after buyer) it is ``np.add.at`` itself.
    """
    if index.size > 256 and total.ndim == 1 and total.dtype == np.float64 and not total.any():
        weights = None if np.isscalar(values) else np.broadcast_to(values, index.shape)
        sums = np.bincount(index, weights=weights, minlength=total.size)
        total += sums if weights is not None else sums * values
    else:
        np.add.at(total, index, values)


def _contact(model: RelationshipModel, b, s, person_bond, firm_bond) -> None:
    """Record a contact on ties (b, s): knowledge grows, bonds grow, silence is uncovered (M5, M9).

    A contact with a buyer who was silently dissatisfied brings the grievance
    into the open: it becomes a pending complaint that the firm can answer.
    """
    t = model.ties
    t.last_contact[b, s] = model.steps
    t.knowledge[b, s] = contact.learn(t.knowledge[b, s], model.cfg.relationship.learning_rate)
    t.loyalty_person[b, s] += person_bond
    t.loyalty_firm[b, s] += firm_bond
    uncovered = t.silent[b, s]
    t.silent[b[uncovered], s[uncovered]] = False
    t.complaint[b[uncovered], s[uncovered]] = True


def sales_visits(model: RelationshipModel, b: np.ndarray, s: np.ndarray) -> None:
    """Salespeople visit their largest, most at-risk accounts up to their capacity (M5).

    ``b, s`` are the candidate ties (active, owned). A visit builds a bond of
    ``contact_bond·skill``, split person/firm by the supplier's ``ρ``.
    """
    if b.size == 0:
        return
    t, force = model.ties, model.salesforce
    owner = t.owner[b, s]
    priority = contact.contact_priority(
        model.buyer_volume[b], t.trust[b, s], model.steps - t.last_contact[b, s]
    )
    pick = contact.top_per_owner(owner, priority, force.capacity, model.rng.random(b.size))
    b, s, owner = b[pick], s[pick], owner[pick]
    bond = model.cfg.sales.contact_bond * force.skill[owner]
    rho = model.firm.person_share[s]
    _contact(model, b, s, rho * bond, (1.0 - rho) * bond)


def department_contacts(model: RelationshipModel, cols: Cols) -> None:
    """Cross-functional contact (F9) and monitoring of silent accounts (M9, F5).

    Each active tie is touched by other departments with the firm's
    ``cross_functional_rate``; a firm with a monitoring policy also calls
    every active account without contact for more than ``m`` steps. Both
    build firm-bound loyalty ``contact_bond·κ``.
    """
    t, firm = model.ties, model.firm
    active = t.active[:, cols]
    touched = active & (model.rng.random(active.shape) < firm.cross_functional_rate[cols])
    overdue = active & contact.silent_too_long(
        t.last_contact[:, cols], model.steps, firm.monitor_after[cols]
    )
    b, s = _ties_of(touched | overdue, cols)
    bond = model.cfg.sales.contact_bond * firm.coordination[s]
    _contact(model, b, s, 0.0, bond)
    _add_at(model.ledger.contacts, s, 1)


def place_orders(model: RelationshipModel, rows: slice) -> None:
    """Buyers with a purchase need choose suppliers by logit (M6, F8, F9)."""
    t, cfg, firm = model.ties, model.cfg, model.firm
    n = rows.stop - rows.start
    need = model.rng.random((n, 1)) < cfg.buyers.purchase_prob * model.demand_factor
    u = choice.utility(
        t.attraction(rows),
        firm.list_price,
        t.dependency[rows],
        firm.health,
        model.buyer_price_sensitivity[rows, None],
        cfg.buyers.switching_weight,
        cfg.market.financial_weight,
    )
    scores = choice.gumbel_scores(u, model.buyer_beta[rows, None], t.active[rows], model.rng)
    model.orders[rows] = choice.allocate_orders(
        scores,
        need,
        model.buyer_volume[rows, None],
        model.buyer_adversarial[rows, None],
        cfg.buyers.quotes,
        t.partner[rows],
        cfg.relationship.partner_share,
    )


def fill_orders(model: RelationshipModel, col: int) -> None:
    """Ship orders within stock; strategic partners, then loyal buyers, first (M6, L2).

    Unfilled orders are a delivery failure (``q = 0``) for the buyer.
    """
    cap = model.supply_capacity
    orders = model.orders[:, col]
    if cap is None or orders.sum() <= cap:
        return
    t = model.ties
    waiting = np.flatnonzero(orders > 0)
    attraction = t.loyalty_person[waiting, col] + t.loyalty_firm[waiting, col]
    order = np.lexsort(
        (model.rng.random(waiting.size), -attraction, ~t.partner[waiting, col])
    )
    queue = waiting[order]
    unfilled = queue[np.cumsum(orders[queue]) > cap]
    model.stockout[unfilled, col] = True


def evaluate_purchases(model: RelationshipModel, rows: slice) -> None:
    """Deliver, compare with the promise, update the tie (M7, M8, M9, M11, M12)."""
    t, cfg, firm, ledger = model.ties, model.cfg, model.firm, model.ledger
    rel, rng = cfg.relationship, model.rng
    orders = model.orders[rows]
    li, s = np.nonzero(orders)  # orders are ≥ 0: the same ties as orders > 0
    b = li + rows.start
    gain = np.zeros_like(orders)
    if b.size:
        volume = orders[li, s]
        short = model.stockout[b, s]
        owner = t.owner[b, s]
        staffed = owner >= 0
        skill = np.where(staffed, model.salesforce.skill[owner], 0.0)
        inflation = np.where(staffed, model.salesforce.inflation[owner], 0.0)
        needs = model.buyer_needs[b]
        knowledge = t.knowledge[b, s]

        sold = delivery.capability_performance(model.capability[s], knowledge, rel.fit_gain)
        promised = delivery.promise(delivery.expected_performance(needs, sold), inflation)
        perf = delivery.department_performance(
            model.capability[s] * (1.0 - model.quality_shock[s]), firm.coordination[s], skill,
            cfg.sales.coverage, knowledge, rel.fit_gain, model.is_product,
        )
        q_real = delivery.expected_performance(needs, perf)
        trust0 = t.trust[b, s]
        partnership = ~model.buyer_adversarial[b]
        quality = delivery.delivered(
            q_real, cfg.market.noise, model.uncertainty, trust0, partnership,
            rel.flexibility, rng.standard_normal(b.size),
        )
        quality = np.where(short, 0.0, quality)
        delta = quality - promised

        sat = t.satisfaction[b, s]
        sat = sat + rel.satisfaction_rate * (
            evaluation.satisfaction_target(quality, delta, rel.disconfirmation_weight) - sat
        )
        trust1 = evaluation.update_trust(
            trust0, delta, rel.trust_gain, rel.trust_loss, rel.tolerance_zone
        )
        t.expectation[b, s] = promised
        t.satisfaction[b, s] = sat
        t.trust[b, s] = trust1
        t.commitment[b, s] = evaluation.update_commitment(
            t.commitment[b, s], trust1, sat, rel.commitment_rate
        )
        price_paid = firm.list_price[s] * (
            1.0 - cfg.buyers.haggle_discount * model.buyer_adversarial[b]
        )
        constant = cfg.market.profit_per_purchase if cfg.market.payoff == "constant" else None
        pi = evaluation.payoff(quality, price_paid, cfg.market.value_per_quality, constant)
        gain[li, s] = np.where(short, 0.0, pi)

        # one serious failure costs strategic-partner status at once (F9)
        failed = evaluation.serious_failure(quality, model.buyer_tolerance[b])
        t.partner[b[failed], s[failed]] = False
        model.failures[b[failed], s[failed]] = True

        # voice or silence (M9, F5)
        dissatisfied = sat < rel.dissatisfied_below
        fresh = dissatisfied & ~t.complaint[b, s] & ~t.silent[b, s]
        complains, quiet = voice.voice_or_silence(
            fresh, model.buyer_voice[b], rng.random(b.size)
        )
        lost = np.maximum(trust0 - trust1, 0.0)
        t.grievance[b[fresh], s[fresh]] = lost[fresh]
        t.complaint[b[complains], s[complains]] = True
        t.silent[b[quiet], s[quiet]] = True
        t.silent[b[~dissatisfied], s[~dissatisfied]] = False
        _add_at(ledger.voiced_episodes, s[complains], 1)
        _add_at(ledger.silent_episodes, s[quiet], 1)

        # transaction cost (M11)
        share = transaction.nonproductive_share(trust0, rel.tc_at_zero_trust, rel.tc_trust_slope)
        _add_at(ledger.nonproductive_time, s, volume * share)
        _add_at(ledger.buyer_cost, s, transaction.transaction_cost(
            volume, trust0, share, rel.tc_cost, rel.inspection_threshold, rel.inspection_cost
        ))

        # learning from the purchase, and joint improvement with trusted partners (F10, M12)
        delivered_ok = ~short
        knowledge = contact.learn(knowledge, rel.learning_rate)
        joint = improvement.qualifies(trust1, delivered_ok, partnership, rel.improvement_threshold)
        knowledge = np.where(joint, contact.learn(knowledge, rel.learning_rate), knowledge)
        t.knowledge[b, s] = knowledge
        t.last_contact[b, s] = model.steps
        np.add.at(ledger.improving_needs, s[joint], volume[joint, None] * needs[joint])

        shipped = np.where(short, 0.0, volume)
        _add_at(ledger.volume, s, shipped)
        _add_at(ledger.revenue, s, shipped * price_paid)
        _add_at(ledger.buyer_value, s, shipped * (cfg.market.value_per_quality * quality
                                                  - price_paid))
        _add_at(ledger.trade_volume, s, volume)

    evaluation.update_attraction(
        t.loyalty_person[rows], t.loyalty_firm[rows], gain,
        model.buyer_memory[rows, None], firm.person_share,
    )
    # share of wallet moves toward this step's shares, for the buyers who bought
    total = orders.sum(axis=1, keepdims=True)
    bought = np.flatnonzero(total[:, 0] > 0)
    wallet = t.wallet[rows]
    held = wallet[bought]
    held += rel.wallet_memory * (orders[bought] / total[bought] - held)
    wallet[bought] = held


def tend_ties(model: RelationshipModel, rows: slice) -> None:
    """Complaints answered, churn, entropy, word of mouth, stages, reconsideration.

    (M9, M10 erosion, M13, F5, F9.)
    """
    t, cfg, firm, ledger = model.ties, model.cfg, model.firm, model.ledger
    rel, rng, now = cfg.relationship, model.rng, model.steps
    off = rows.start

    # the firm answers pending complaints and recovers part of the lost trust (M9)
    li, s = np.nonzero(t.complaint[rows])
    answered = rng.random(li.size) < firm.complaint_handling[s]
    b, s = li[answered] + off, s[answered]
    t.trust[b, s] = voice.recover_trust(t.trust[b, s], t.grievance[b, s], rel.recovery)
    t.complaint[b, s] = False
    t.grievance[b, s] = 0.0
    t.last_contact[b, s] = now

    # churn: silence is deadlier than voice; trust collapse and serious failures end ties (M13)
    active = t.active[rows]
    n_sup = active.shape[1]
    uniform = rng.random(active.shape)
    # the hazard is 0 unless the buyer is silent or complaining: evaluate it only there
    li, s = np.nonzero(active & (t.silent[rows] | t.complaint[rows]))
    b = li + off
    hazard = voice.churn_hazard(
        t.silent[b, s], t.complaint[b, s], t.commitment[b, s],
        rel.silent_churn_hazard, rel.voiced_churn_hazard,
    )
    go = uniform[li, s] < hazard
    li, s, b = li[go], s[go], b[go]  # the ties the buyer leaves
    silent_exit = t.silent[b, s]
    voiced_exit = t.complaint[b, s] & ~silent_exit
    ledger.silent_churn += np.bincount(s[silent_exit], minlength=n_sup)
    ledger.voiced_churn += np.bincount(s[voiced_exit], minlength=n_sup)
    leaves = np.zeros(active.shape, dtype=bool)
    leaves[li, s] = True
    failed = model.failures[rows]
    ends = active & (t.trust[rows] < rel.trust_floor)
    # a serious failure ends the tie with probability failure_exit (draws for every tie)
    uniform = rng.random(active.shape)
    fi, fs = np.nonzero(active & failed)
    exits = uniform[fi, fs] < rel.failure_exit
    ends[fi[exits], fs[exits]] = True
    ledger.other_churn += (ends & ~leaves).sum(axis=0)
    ends |= leaves
    li, s = np.nonzero(ends)
    t.dissolve(li + off, s)

    # entropy: ties without contact this step decay (M9, F5)
    # (flat indices into the row block: one scan of `active` serves the rest of the phase)
    live = np.flatnonzero(t.active[rows])
    quiet = live[t.last_contact[rows].reshape(-1)[live] < now]
    voice.decay_toward(t.trust[rows], rel.initial_trust, rel.decay, quiet)
    voice.decay_toward(t.loyalty_person[rows], 0.0, rel.decay, quiet)
    voice.decay_toward(t.loyalty_firm[rows], 0.0, rel.decay, quiet)
    voice.decay_toward(t.commitment[rows], 0.0, rel.decay, quiet)

    # word of mouth: trust drifts toward what the neighbours think of each supplier
    if rel.word_of_mouth > 0:
        everyone = rows.start == 0 and rows.stop == model.neighbours.shape[0]
        heard = (model.neighbours if everyone else model.neighbours[rows]) @ t.trust
        trust = t.trust[rows].reshape(-1)  # a view: row blocks are contiguous
        trust[live] += rel.word_of_mouth * (heard.reshape(-1)[live] - trust[live])

    dependency.erode(t.dependency[rows], rel.dependency_decay)

    # stages and strategic partners (M13, F9); an inactive tie keeps its stage
    # (awareness, never bought, or dissolution), so only live ties are recomputed
    flat = lambda a: a[rows].reshape(-1)[live]  # noqa: E731
    t.stage[rows].reshape(-1)[live] = stages.next_stage(
        flat(t.stage), flat(model.orders) > 0, flat(t.trust), flat(t.commitment),
        flat(t.wallet), (rel.expansion_trust, rel.expansion_wallet),
        (rel.commitment_trust, rel.commitment_level, rel.commitment_wallet),
    )
    t.partner[rows] = stages.promote_partner(
        t.partner[rows] & t.active[rows], t.stage[rows], t.trust[rows],
        t.attraction(rows),
        ~model.buyer_adversarial[rows, None], rel.partner_trust,
    )

    # a dissolved tie is sometimes reconsidered from scratch
    closed = t.considers[rows] & ~t.active[rows]
    uniform = rng.random(closed.shape)
    li, s = np.nonzero(closed)
    back = uniform[li, s] < rel.reconsider_rate
    model.reopen(li[back] + off, s[back])


def invest_and_improve(model: RelationshipModel, cols: Cols) -> None:
    """Dependency investments in developed accounts (M10, F6) and joint improvement (M12).

    A firm invests with probability ``dependency_investment`` in each active
    tie at the expansion stage or beyond: ``D += s·(1 − D)``, and the shared
    information teaches it about the buyer. Capability grows by
    :func:`sim.rules.improvement.capability_gain`.
    """
    t, rel, firm, ledger = model.ties, model.cfg.relationship, model.firm, model.ledger
    developed = t.active[:, cols] & (t.stage[:, cols] >= Stage.EXPANSION)
    chosen = developed & (model.rng.random(developed.shape) < firm.dependency_investment[cols])
    b, s = _ties_of(chosen, cols)
    t.dependency[b, s] = dependency.invested(t.dependency[b, s], rel.dependency_step)
    t.knowledge[b, s] = contact.learn(t.knowledge[b, s], rel.learning_rate)
    _add_at(ledger.investments, s, 1)
    model.capability[cols] += improvement.capability_gain(
        model.capability[cols], ledger.improving_needs[cols],
        ledger.volume.sum() / ledger.volume.size, rel.improvement_rate,
    )
