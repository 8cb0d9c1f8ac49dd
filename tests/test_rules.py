"""Unit tests for the rule functions in :mod:`sim.rules` (mechanisms M5–M14).

Each test checks one function against its docstring equation at hand-computed
points, against its documented bounds, against the direction the brief asks
for, or checks that a buyer's row ``(M,)`` and the whole matrix ``(N, M)``
give the same result per row.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from sim.rules import (
    choice,
    contact,
    delivery,
    dependency,
    economics,
    evaluation,
    improvement,
    services,
    stages,
    transaction,
    voice,
)
from sim.ties import Stage

# Default parameters of RelationshipConfig, used where realistic values help.
GAIN, LOSS, TOL = 0.5, 0.9, 0.1
SILENT_H, VOICED_H = 0.25, 0.06
EXPANSION = (0.5, 0.3)  # t_e, w_e
COMMITMENT = (0.65, 0.4, 0.5)  # t_c, c_c, w_c

unit = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


def unit_arrays(shape):
    return hnp.arrays(np.float64, shape, elements=unit)


# ---------------------------------------------------------------------------
# contact.py (M5, M9 monitoring, F10 learning)
# ---------------------------------------------------------------------------


def priority(volume, trust, silence, dependency=0.0, risk=1.0, steps=10, dep_weight=1.0):
    return contact.contact_priority(np.asarray(volume), np.asarray(trust), np.asarray(silence),
                                    np.asarray(dependency), risk, steps, dep_weight)


def test_contact_priority_known_points():
    # 2·(1 + 0.75 + 0.5) and, with silence capped at 1, 2·(1 + 0.75 + 1); + D = 0.5 on the last
    got = priority([2.0, 2.0, 2.0], [0.25, 0.25, 0.25], [5.0, 30.0, 30.0], [0.0, 0.0, 0.5])
    assert_allclose(got, [4.5, 5.5, 6.5])
    # weights: distrust counts twice, silence saturates at 5 steps, dependency not at all
    got = priority([2.0], [0.25], [5.0], [0.5], risk=2.0, steps=5, dep_weight=0.0)
    assert_allclose(got, [2.0 * (1 + 1.5 + 1.0)])


def test_contact_priority_favours_large_at_risk_silent_invested_accounts():
    base = priority(1.0, 0.8, 0.0)
    assert priority(2.0, 0.8, 0.0) > base
    assert priority(1.0, 0.2, 0.0) > base
    assert priority(1.0, 0.8, 4.0) > base
    assert priority(1.0, 0.8, 0.0, dependency=0.3) > base  # invested accounts first (F6)


def test_top_per_owner_picks_highest_priority_up_to_capacity():
    owner = np.array([0, 0, 0, 1, 1, 2])
    priority = np.array([1.0, 5.0, 3.0, 2.0, 4.0, 9.0])
    capacity = np.array([2, 1, 0])
    tiebreak = np.zeros(owner.size)
    picked = contact.top_per_owner(owner, priority, capacity, tiebreak)
    assert sorted(picked.tolist()) == [1, 2, 4]


def test_top_per_owner_capacity_above_count_takes_all():
    owner = np.array([1, 0, 1])
    picked = contact.top_per_owner(owner, np.array([1.0, 2.0, 3.0]), np.array([5, 5]), np.zeros(3))
    assert sorted(picked.tolist()) == [0, 1, 2]


def test_top_per_owner_breaks_ties_by_tiebreak():
    owner = np.zeros(3, dtype=int)
    priority = np.ones(3)
    picked = contact.top_per_owner(owner, priority, np.array([1]), np.array([0.9, 0.1, 0.5]))
    assert_array_equal(picked, [1])


def test_top_per_owner_empty():
    picked = contact.top_per_owner(
        np.array([], dtype=int), np.array([]), np.array([3]), np.array([])
    )
    assert picked.size == 0
    assert picked.dtype == np.intp


def test_top_per_owner_random_matches_bruteforce():
    rng = np.random.default_rng(7)
    owner = rng.integers(0, 5, size=200)
    priority = rng.random(200)
    capacity = rng.integers(0, 8, size=5)
    picked = set(contact.top_per_owner(owner, priority, capacity, rng.random(200)).tolist())
    expected = set()
    for o in range(5):
        idx = np.flatnonzero(owner == o)
        expected |= set(idx[np.argsort(-priority[idx])][: capacity[o]].tolist())
    assert picked == expected


def test_silent_too_long():
    last = np.array([0, 5, 8, 7, 0])
    after = np.array([3, 3, 0, 3, 0])
    # now − last = 10, 5, 2, 3 (not more than 3), 10 with no monitoring policy
    got = contact.silent_too_long(last, 10, after)
    assert_array_equal(got, [True, True, False, False, False])


def test_learn_known_point_and_bounds():
    assert_allclose(contact.learn(np.array([0.2, 0.0, 1.0]), 0.1), [0.28, 0.1, 1.0])


# ---------------------------------------------------------------------------
# choice.py (M6)
# ---------------------------------------------------------------------------


def test_utility_formula():
    got = choice.utility(
        attraction=np.array([[1.0, 2.0]]),
        price=np.array([0.5, 1.0]),
        dependency=np.array([[0.2, 0.4]]),
        health=np.array([0.5, 0.9]),
        price_sensitivity=np.array([[2.0]]),
        switching_weight=0.5,
        financial_weight=0.1,
    )
    # 1 − 1 + 0.1 + 0.05 ; 2 − 2 + 0.2 + 0.09
    assert_allclose(got, [[0.15, 0.29]])


def test_bonded_attraction_weighs_the_salesperson_bond():
    lp, lf = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert_allclose(choice.bonded_attraction(lp, lf, 0.5), [1.5, 1.0])
    assert_allclose(choice.bonded_attraction(lp, lf, 0.0), [1.0, 1.0])  # WKH: J = Lp + Lf


def test_price_weight_falls_with_person_bound_loyalty():
    got = choice.price_weight(np.array([4.0, 4.0]), np.array([0.0, 2.0]), 0.3)
    assert_allclose(got, [4.0, 4.0 * np.exp(-0.6)])
    assert choice.price_weight(4.0, np.array([2.0]), 0.0) == 4.0


def test_choice_probabilities_known_point():
    u = np.array([0.0, math.log(2.0), 5.0])
    p = choice.choice_probabilities(u, 1.0, np.array([True, True, False]))
    assert_allclose(p, [1 / 3, 2 / 3, 0.0])


def test_choice_probabilities_beta_zero_is_uniform_over_active():
    p = choice.choice_probabilities(
        np.array([3.0, -1.0, 0.0, 9.0]), 0.0, np.array([True, True, True, False])
    )
    assert_allclose(p, [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_choice_probabilities_no_active_tie_gives_zeros():
    p = choice.choice_probabilities(np.array([1.0, 2.0]), 1.0, np.array([False, False]))
    assert_array_equal(p, [0.0, 0.0])


def test_choice_probabilities_large_utilities_do_not_overflow():
    p = choice.choice_probabilities(np.array([1000.0, 1001.0]), 10.0, np.array([True, True]))
    assert np.all(np.isfinite(p))
    assert_allclose(p, [1 / (1 + math.exp(10.0)), 1 / (1 + math.exp(-10.0))])


def test_choice_probabilities_rows_sum_to_one_and_more_utility_more_likely():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(20, 5))
    active = rng.random((20, 5)) < 0.7
    active[:, 0] = True
    p = choice.choice_probabilities(u, 2.0, active)
    assert_allclose(p.sum(axis=-1), 1.0)
    assert np.all(p[~active] == 0.0)
    # within a row, the order of probabilities over active ties follows utility
    for i in range(20):
        a = np.flatnonzero(active[i])
        assert_array_equal(np.argsort(p[i, a], kind="stable"), np.argsort(u[i, a], kind="stable"))


def test_choice_probabilities_row_equals_matrix_row():
    rng = np.random.default_rng(2)
    u = rng.normal(size=(6, 4))
    beta = rng.uniform(0.5, 5.0, size=(6, 1))
    active = rng.random((6, 4)) < 0.8
    whole = choice.choice_probabilities(u, beta, active)
    for i in range(6):
        row = choice.choice_probabilities(u[i], beta[i, 0], active[i])
        assert row.shape == (4,)
        assert_allclose(row, whole[i])


def test_gumbel_scores_inactive_are_minus_inf_and_dtype_kept():
    rng = np.random.default_rng(3)
    u = np.zeros((4, 3), dtype=np.float32)
    active = np.array([[True, False, True]] * 4)
    s = choice.gumbel_scores(u, 1.0, active, rng)
    assert s.dtype == np.float32
    assert np.all(np.isneginf(s[:, 1]))
    assert np.all(np.isfinite(s[:, [0, 2]]))


def test_gumbel_argmax_frequencies_match_logit():
    rng = np.random.default_rng(12345)
    u = np.array([0.0, 0.5, 1.0, 3.0])
    active = np.array([True, True, True, False])
    beta = 2.0
    n = 200_000
    scores = choice.gumbel_scores(np.tile(u, (n, 1)), beta, np.tile(active, (n, 1)), rng)
    freq = np.bincount(np.argmax(scores, axis=-1), minlength=4) / n
    p = choice.choice_probabilities(u, beta, active)
    assert freq[3] == 0.0
    assert_allclose(freq, p, atol=0.005)


def test_gumbel_top_two_is_a_draw_without_replacement():
    # Gumbel-top-k: P(first = j, second = k) = p_j · p_k / (1 − p_j)
    rng = np.random.default_rng(54321)
    u = np.array([0.0, 0.4, 1.0])
    active = np.ones(3, dtype=bool)
    n = 200_000
    scores = choice.gumbel_scores(np.tile(u, (n, 1)), 1.5, np.tile(active, (n, 1)), rng)
    order = np.argsort(-scores, axis=-1)
    p = choice.choice_probabilities(u, 1.5, active)
    for j in range(3):
        for k in range(3):
            if j == k:
                continue
            freq = np.mean((order[:, 0] == j) & (order[:, 1] == k))
            assert freq == pytest.approx(p[j] * p[k] / (1 - p[j]), abs=0.005)


def _allocate(
    scores, need=True, volume=10.0, adversarial=False, quotes=2, partner=None, partner_share=0.7
):
    scores = np.asarray(scores, dtype=float)
    if partner is None:
        partner = np.zeros(scores.shape, dtype=bool)
    return choice.allocate_orders(
        scores,
        np.array([need]),
        np.array([volume]),
        np.array([adversarial]),
        quotes,
        np.asarray(partner, dtype=bool),
        partner_share,
    )


def test_allocate_partner_gets_share_rest_to_best_score():
    got = _allocate([3.0, 1.0, 2.0, 0.0], partner=[False, False, True, False])
    assert_allclose(got, [3.0, 0.0, 7.0, 0.0])


def test_allocate_partner_that_is_also_best_gets_everything():
    got = _allocate([1.0, 5.0, 2.0], partner=[False, True, False])
    assert_allclose(got, [0.0, 10.0, 0.0])


def test_allocate_partnership_without_partner_gives_all_to_best():
    got = _allocate([1.0, 5.0, 2.0])
    assert_allclose(got, [0.0, 10.0, 0.0])


def test_allocate_adversarial_splits_equally_over_best_quotes():
    got = _allocate([1.0, 3.0, 2.0, -np.inf], adversarial=True, quotes=2)
    assert_allclose(got, [0.0, 5.0, 5.0, 0.0])
    got = _allocate([1.0, 3.0, 2.0, 0.0], adversarial=True, quotes=3)
    assert_allclose(got, [10 / 3, 10 / 3, 10 / 3, 0.0])


def test_allocate_adversarial_ignores_partner_flag():
    got = _allocate([1.0, 3.0, 2.0], adversarial=True, quotes=2, partner=[True, False, False])
    assert_allclose(got, [0.0, 5.0, 5.0])


def test_allocate_adversarial_with_fewer_active_than_quotes():
    got = _allocate([1.0, -np.inf, 2.0, -np.inf], adversarial=True, quotes=3)
    assert_allclose(got, [5.0, 0.0, 5.0, 0.0])


def test_allocate_no_need_no_volume():
    assert_array_equal(_allocate([1.0, 3.0], need=False, partner=[True, False]), [0.0, 0.0])
    assert_array_equal(_allocate([1.0, 3.0], need=False, adversarial=True), [0.0, 0.0])


def test_allocate_inactive_partner_gets_nothing():
    got = _allocate([-np.inf, 1.0, 2.0], partner=[True, False, False])
    assert_allclose(got, [0.0, 0.0, 10.0])


def test_allocate_all_inactive_gets_nothing():
    s = [-np.inf, -np.inf]
    assert_array_equal(_allocate(s), [0.0, 0.0])
    assert_array_equal(_allocate(s, adversarial=True), [0.0, 0.0])
    assert_array_equal(_allocate(s, partner=[True, False]), [0.0, 0.0])


def test_allocate_matrix_conserves_volume_and_skips_inactive():
    rng = np.random.default_rng(11)
    n, m = 300, 5
    scores = rng.normal(size=(n, m))
    scores[rng.random((n, m)) < 0.4] = -np.inf
    need = rng.random((n, 1)) < 0.7
    volume = rng.lognormal(size=(n, 1))
    adversarial = rng.random((n, 1)) < 0.4
    partner = np.zeros((n, m), dtype=bool)
    partner[np.arange(n), rng.integers(0, m, n)] = rng.random(n) < 0.5
    got = choice.allocate_orders(scores, need, volume, adversarial, 2, partner, 0.7)
    assert got.shape == (n, m)
    assert np.all(got[np.isneginf(scores)] == 0.0)
    assert np.all(got >= 0.0)
    any_active = np.isfinite(scores).any(axis=-1, keepdims=True)
    assert_allclose(got.sum(axis=-1, keepdims=True), np.where(any_active, need * volume, 0.0))
    # each row equals the same call on that row alone
    for i in range(0, n, 37):
        row = choice.allocate_orders(
            scores[i], need[i], volume[i], adversarial[i], 2, partner[i], 0.7
        )
        assert_allclose(row, got[i])


# ---------------------------------------------------------------------------
# delivery.py (M7)
# ---------------------------------------------------------------------------

IS_PRODUCT = np.array([True, False, False])


def test_department_performance_known_point():
    got = delivery.department_performance(
        capability=np.array([0.6, 0.4, 0.8]),
        coordination=np.array(0.5),
        skill=np.array(0.6),
        coverage=0.5,
        knowledge=np.array(0.5),
        fit_gain=0.2,
        is_product=IS_PRODUCT,
    )
    # base = [0.6, 0.2 + 0.15, 0.4 + 0.15], times 1 + 0.2·0.5
    assert_allclose(got, [0.66, 0.385, 0.605])


def test_department_performance_coordination_extremes():
    cap = np.array([[0.6, 0.4, 0.8]])
    kw = dict(
        skill=np.array([0.9]),
        coverage=0.5,
        knowledge=np.array([0.0]),
        fit_gain=0.3,
        is_product=IS_PRODUCT,
    )
    full = delivery.department_performance(cap, np.array([1.0]), **kw)
    assert_allclose(full, cap)  # a fully coordinated firm brings its departments
    lone = delivery.department_performance(cap, np.array([0.0]), **kw)
    assert_allclose(lone, [[0.6, 0.45, 0.45]])  # the salesperson stands in: θ·skill


def test_department_performance_capped_at_one():
    got = delivery.department_performance(
        np.array([0.95, 0.9, 0.9]),
        np.array(1.0),
        np.array(0.0),
        0.5,
        np.array(1.0),
        0.3,
        IS_PRODUCT,
    )
    assert_allclose(got, [1.0, 1.0, 1.0])


@settings(max_examples=200, deadline=None)
@given(
    cap=unit_arrays((2, 3, 3)),
    kappa=unit_arrays((2, 3)),
    skill=unit_arrays((2, 3)),
    knowledge=unit_arrays((2, 3)),
    coverage=unit,
    fit_gain=st.floats(0.0, 2.0),
)
def test_department_performance_in_unit_interval(cap, kappa, skill, knowledge, coverage, fit_gain):
    got = delivery.department_performance(
        cap, kappa, skill, coverage, knowledge, fit_gain, IS_PRODUCT
    )
    assert got.shape == (2, 3, 3)
    assert np.all((got >= 0.0) & (got <= 1.0))


def test_expected_performance_is_needs_weighted_sum():
    needs = np.array([0.5, 0.3, 0.2])
    perf = np.array([0.66, 0.385, 0.605])
    assert delivery.expected_performance(needs, perf) == pytest.approx(0.5665)
    # a buyer's needs (N, 1, D) broadcast over its suppliers (N, M, D)
    rng = np.random.default_rng(4)
    w = rng.dirichlet(np.ones(3), size=(4, 1))
    p = rng.random((4, 2, 3))
    got = delivery.expected_performance(w, p)
    assert got.shape == (4, 2)
    assert_allclose(got, (w * p).sum(axis=-1))


def test_promise():
    got = delivery.promise(np.array([0.6, 0.9, 0.4]), np.array([0.2, 0.2, 0.0]))
    assert_allclose(got, [0.72, 1.0, 0.4])


def test_delivered_known_points():
    kw = dict(
        noise=0.05,
        uncertainty=0.2,
        trust=np.array([0.5, 0.5]),
        flexibility=0.6,
        standard_normal=np.array([1.0, 1.0]),
    )
    got = delivery.delivered(np.array([0.5, 0.5]), partnership=np.array([True, False]), **kw)
    # sd = 0.05 + 0.2·(1 − 0.6·0.5) = 0.19 for the partnership, 0.25 without
    assert_allclose(got, [0.69, 0.75])


def test_delivered_trusted_partnership_absorbs_uncertainty():
    z = np.full(5, -1.5)
    trust = np.linspace(0.0, 1.0, 5)
    q = delivery.delivered(np.full(5, 0.6), 0.05, 0.3, trust, np.ones(5, dtype=bool), 0.6, z)
    assert np.all(np.diff(np.abs(q - 0.6)) < 0)


@settings(max_examples=200, deadline=None)
@given(
    expected=unit_arrays(6),
    trust=unit_arrays(6),
    z=hnp.arrays(np.float64, 6, elements=st.floats(-50, 50)),
    noise=st.floats(0.0, 1.0),
    uncertainty=st.floats(0.0, 1.0),
)
def test_delivered_in_unit_interval(expected, trust, z, noise, uncertainty):
    q = delivery.delivered(expected, noise, uncertainty, trust, np.ones(6, dtype=bool), 0.6, z)
    assert np.all((q >= 0.0) & (q <= 1.0))


# ---------------------------------------------------------------------------
# evaluation.py (M8)
# ---------------------------------------------------------------------------


def test_satisfaction_target():
    got = evaluation.satisfaction_target(
        np.array([0.6, 0.9, 0.1]), np.array([-0.2, 0.5, -0.5]), 1.0
    )
    assert_allclose(got, [0.4, 1.0, 0.0])


@pytest.mark.parametrize(
    ("trust", "delta", "tolerance", "expected"),
    [
        (0.5, 0.2, 0.1, 0.5 + 0.5 * 0.2 * 0.5),  # gain: the band does not add to it
        (0.5, -0.3, 0.1, 0.5 - 0.9 * 0.2 * 0.5),  # loss: 0.41
        (0.5, -0.1, 0.1, 0.5),  # shortfall equal to ν counts as kept: unchanged
        (0.5, -0.05, 0.1, 0.5),  # inside the dead band: neither gain nor loss
        (0.5, -0.25, 0.1, 0.5 - 0.9 * 0.15 * 0.5),  # beyond it: only the excess counts
        (0.5, -0.05, 0.0, 0.5 - 0.9 * 0.05 * 0.5),  # ν = 0 is the brief's form
        (0.0, 0.4, 0.0, 0.5 * 0.4),  # from no trust
        (1.0, -0.4, 0.0, 1.0 - 0.9 * 0.4),  # from full trust
        (1.0, 0.5, 0.1, 1.0),  # full trust cannot grow
        (0.0, -0.5, 0.1, 0.0),  # no trust cannot fall
    ],
)
def test_update_trust_known_points(trust, delta, tolerance, expected):
    got = evaluation.update_trust(np.array(trust), np.array(delta), GAIN, LOSS, tolerance)
    assert float(got) == pytest.approx(expected)


def test_update_trust_has_no_ceiling_from_noise_inside_the_band():
    """Honest delivery with noise inside ν: trust climbs toward 1 (no strategy is capped, M8)."""
    deltas = np.random.default_rng(3).uniform(-0.1, 0.05, 2000)
    banded = shifted = np.array(0.3)
    for delta in deltas:
        banded = evaluation.update_trust(banded, np.array(delta), GAIN, LOSS, 0.1)
        shifted = evaluation.update_trust(shifted, np.array(delta), GAIN, LOSS, 0.0)
    assert float(banded) > 0.95
    assert float(shifted) < 0.3  # without the band, the same honest noise caps trust


def test_haggling_erodes_only_adversarial_trust():
    got = evaluation.haggling_erodes(np.array([0.5, 0.5]), np.array([True, False]), 0.1)
    assert_allclose(got, [0.45, 0.5])


def test_update_trust_violations_weigh_more():
    up = evaluation.update_trust(np.array(0.5), np.array(0.2), GAIN, LOSS, 0.0) - 0.5
    down = 0.5 - evaluation.update_trust(np.array(0.5), np.array(-0.2), GAIN, LOSS, 0.0)
    assert down > up > 0


def test_update_trust_larger_negative_disconfirmation_lowers_trust_more():
    delta = -np.linspace(0.0, 1.0, 21)
    t = evaluation.update_trust(np.full(21, 0.6), delta, GAIN, LOSS, TOL)
    assert np.all(np.diff(t) <= 0)
    beyond = delta < -TOL - 1e-12
    assert np.all(np.diff(t[beyond]) < 0)
    assert np.all(t[beyond] < 0.6)


@settings(max_examples=300, deadline=None)
@given(
    trust=unit_arrays((3, 4)),
    delta=hnp.arrays(np.float64, (3, 4), elements=st.floats(-1.0, 1.0)),
    gain=st.floats(0.0, 5.0),
    loss=st.floats(0.0, 5.0),
    tolerance=st.floats(0.0, 0.5),
)
def test_update_trust_in_unit_interval(trust, delta, gain, loss, tolerance):
    t = evaluation.update_trust(trust, delta, gain, loss, tolerance)
    assert t.shape == (3, 4)
    assert np.all((t >= 0.0) & (t <= 1.0))


def test_update_trust_row_equals_matrix_row():
    rng = np.random.default_rng(5)
    trust = rng.random((5, 4))
    delta = rng.uniform(-0.6, 0.6, size=(5, 4))
    whole = evaluation.update_trust(trust, delta, GAIN, LOSS, TOL)
    for i in range(5):
        row = evaluation.update_trust(trust[i], delta[i], GAIN, LOSS, TOL)
        assert row.shape == (4,)
        assert_allclose(row, whole[i])


def test_payoff():
    q = np.array([0.7, 0.2])
    assert_allclose(evaluation.payoff(q, np.array([1.0, 0.1]), 2.0, None), [0.4, 0.3])
    const = evaluation.payoff(q, np.array([1.0, 0.1]), 2.0, 0.5)
    assert const.shape == q.shape
    assert_allclose(const, [0.5, 0.5])
    assert_allclose(evaluation.payoff(q, np.array([1.0, 0.1]), 2.0, 0.0), [0.0, 0.0])


def test_update_attraction_known_point_in_place():
    lp = np.array([1.0, 2.0])
    lf = np.array([3.0, 4.0])
    out = evaluation.update_attraction(lp, lf, np.array([0.5, 0.0]), 0.1, np.array([0.8, 0.2]))
    assert out is None
    assert_allclose(lp, [0.9 + 0.4, 1.8])
    assert_allclose(lf, [2.7 + 0.1, 3.6])


def test_update_attraction_sums_to_wkh_update():
    rng = np.random.default_rng(6)
    n, m = 8, 3
    lp, lf = rng.random((n, m)), rng.random((n, m))
    j = lp + lf
    gain = np.where(rng.random((n, m)) < 0.5, rng.normal(size=(n, m)), 0.0)
    gamma = rng.uniform(0.05, 1.0, size=(n, 1))
    rho = rng.random(m)
    evaluation.update_attraction(lp, lf, gain, gamma, rho)
    assert_allclose(lp + lf, (1.0 - gamma) * j + gain)


def test_update_attraction_row_equals_matrix_row():
    rng = np.random.default_rng(8)
    n, m = 5, 4
    lp, lf = rng.random((n, m)), rng.random((n, m))
    gain = rng.random((n, m))
    gamma = rng.uniform(0.05, 0.5, size=(n, 1))
    rho = rng.random(m)
    lp_m, lf_m = lp.copy(), lf.copy()
    evaluation.update_attraction(lp_m, lf_m, gain, gamma, rho)
    for i in range(n):
        lp_r, lf_r = lp[i].copy(), lf[i].copy()
        evaluation.update_attraction(lp_r, lf_r, gain[i], gamma[i, 0], rho)
        assert_allclose(lp_r, lp_m[i])
        assert_allclose(lf_r, lf_m[i])


def test_update_attraction_updates_a_view_of_the_matrix():
    lp = np.ones((3, 2))
    lf = np.ones((3, 2))
    evaluation.update_attraction(lp[1], lf[1], np.array([1.0, 0.0]), 0.5, np.array([1.0, 1.0]))
    assert_allclose(lp, [[1.0, 1.0], [1.5, 0.5], [1.0, 1.0]])
    assert_allclose(lf, [[1.0, 1.0], [0.5, 0.5], [1.0, 1.0]])


def test_update_commitment():
    got = evaluation.update_commitment(
        np.array([0.2, 0.9]), np.array([0.8, 0.5]), np.array([0.5, 0.5]), 0.1
    )
    assert_allclose(got, [0.22, 0.9 + 0.1 * (0.25 - 0.9)])


def test_serious_failure():
    got = evaluation.serious_failure(np.array([0.2, 0.3, 0.5]), 0.3)
    assert_array_equal(got, [True, False, False])


# ---------------------------------------------------------------------------
# voice.py (M9)
# ---------------------------------------------------------------------------


def test_voice_or_silence_known_point():
    dissatisfied = np.array([True, True, False, True])
    complains, silent = voice.voice_or_silence(dissatisfied, 0.5, np.array([0.1, 0.9, 0.1, 0.5]))
    assert_array_equal(complains, [True, False, False, False])
    assert_array_equal(silent, [False, True, False, True])


def test_voice_or_silence_partitions_the_dissatisfied():
    rng = np.random.default_rng(9)
    dissatisfied = rng.random((50, 4)) < 0.5
    propensity = rng.random((50, 1))
    complains, silent = voice.voice_or_silence(dissatisfied, propensity, rng.random((50, 4)))
    assert not np.any(complains & silent)
    assert_array_equal(complains | silent, dissatisfied)
    assert_array_equal(
        voice.voice_or_silence(dissatisfied, 1.0, rng.random((50, 4)))[0], dissatisfied
    )
    assert_array_equal(
        voice.voice_or_silence(dissatisfied, 0.0, rng.random((50, 4)))[1], dissatisfied
    )


def hazard(silent, complaint, commitment, dependency=0.0, binding=0.8):
    return voice.churn_hazard(silent, complaint, commitment, np.asarray(dependency), SILENT_H,
                              VOICED_H, binding)


def test_churn_hazard_known_points():
    silent = np.array([True, False, False, True, True, True])
    complaint = np.array([False, True, False, False, True, False])
    commitment = np.array([0.2, 0.2, 0.2, 1.0, 0.0, 0.0])
    dependency = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.5])
    h = hazard(silent, complaint, commitment, dependency)
    assert_allclose(h, [0.25 * 0.8, 0.06 * 0.8, 0.0, 0.0, 0.31, 0.25 * 0.6])


@pytest.mark.parametrize("held_by", ["commitment", "dependency"])
def test_churn_hazard_commitment_and_dependency_hold_back(held_by):
    x = np.linspace(0.0, 1.0, 6)
    zero = np.zeros(6)
    h = hazard(np.ones(6, dtype=bool), np.zeros(6, dtype=bool),
               x if held_by == "commitment" else zero, x if held_by == "dependency" else zero)
    assert np.all(np.diff(h) < 0)


def test_failure_exit_falls_with_dependency():
    assert_allclose(voice.failure_exit(0.3, np.array([0.0, 0.5, 1.0]), 0.8),
                    [0.3, 0.18, 0.3 * 0.2])


def test_churn_hazard_row_equals_matrix_row():
    rng = np.random.default_rng(10)
    silent = rng.random((5, 4)) < 0.5
    complaint = rng.random((5, 4)) < 0.5
    c = rng.random((5, 4))
    whole = hazard(silent, complaint, c, c / 2)
    for i in range(5):
        row = hazard(silent[i], complaint[i], c[i], c[i] / 2)
        assert row.shape == (4,)
        assert_allclose(row, whole[i])


def test_recover_trust():
    got = voice.recover_trust(np.array([0.4, 0.9]), np.array([0.5, 0.5]), 0.6)
    assert_allclose(got, [0.7, 1.0])


def test_decay_toward_only_where_mask():
    v = np.array([0.8, 0.1, 0.5])
    out = voice.decay_toward(v, 0.3, 0.5, np.array([True, True, False]))
    assert out is None
    assert_allclose(v, [0.55, 0.2, 0.5])


def test_decay_toward_moves_closer_to_rest_in_a_matrix_view():
    rng = np.random.default_rng(12)
    full = rng.random((6, 4))
    before = full.copy()
    mask = rng.random((3, 4)) < 0.5
    voice.decay_toward(full[2:5], 0.3, 0.02, mask)
    changed = np.zeros((6, 4), dtype=bool)
    changed[2:5] = mask
    assert_array_equal(full[~changed], before[~changed])
    assert np.all(np.abs(full[changed] - 0.3) < np.abs(before[changed] - 0.3))
    assert_allclose(full[changed], before[changed] - 0.02 * (before[changed] - 0.3))


# ---------------------------------------------------------------------------
# dependency.py (M10)
# ---------------------------------------------------------------------------


def test_invested():
    assert_allclose(dependency.invested(np.array([0.2, 0.0, 1.0]), 0.15), [0.32, 0.15, 1.0])


def test_erode_in_place():
    d = np.array([[0.5, 0.0], [1.0, 0.2]])
    out = dependency.erode(d[0], 0.1)
    assert out is None
    assert_allclose(d, [[0.45, 0.0], [1.0, 0.2]])


# ---------------------------------------------------------------------------
# transaction.py (M11, F7)
# ---------------------------------------------------------------------------


def test_nonproductive_share_calibration():
    tau = transaction.nonproductive_share(np.array([0.0, 0.5, 1.0]), 0.5, 0.25)
    assert_allclose(tau, [0.5, 0.375, 0.25])
    assert tau[2] / tau[0] == pytest.approx(0.5)  # the most trusted need half (F7, corrected)


def test_transaction_cost_known_points():
    trust = np.array([0.5, 0.8])
    share = transaction.nonproductive_share(trust, 0.5, 0.25)
    got = transaction.transaction_cost(np.array([10.0, 10.0]), trust, share, 0.2, 0.7, 0.15)
    # 10·(0.2·0.375 + 0.15) with inspection; 10·(0.2·0.3) without
    assert_allclose(got, [2.25, 0.6])


def test_more_trust_lower_transaction_cost_five_fold_at_the_extremes():
    trust = np.linspace(0.0, 1.0, 41)
    share = transaction.nonproductive_share(trust, 0.5, 0.25)
    cost = transaction.transaction_cost(np.full(41, 3.0), trust, share, 0.2, 0.7, 0.15)
    assert np.all(np.diff(cost) <= 0)
    assert cost[0] / cost[-1] == pytest.approx(5.0)  # L4 at the default costs


def test_cost_to_serve_falls_with_trust_and_share_of_wallet():
    share = transaction.nonproductive_share(np.array([0.2, 0.9, 0.9]), 0.5, 0.25)
    got = transaction.cost_to_serve(np.full(3, 2.0), share, 0.1, np.array([0.0, 0.0, 1.0]), 0.5)
    assert_allclose(got, [2 * 0.1 * 0.45, 2 * 0.1 * 0.275, 2 * 0.1 * 0.275 * 0.5])


# ---------------------------------------------------------------------------
# improvement.py (M12)
# ---------------------------------------------------------------------------


def test_qualifies():
    got = improvement.qualifies(
        np.array([0.7, 0.7, 0.5, 0.7, 0.6]),
        np.array([True, False, True, True, True]),
        np.array([True, True, True, False, True]),
        0.6,
    )
    assert_array_equal(got, [True, False, False, False, False])


def test_openness_needs_trust_and_partnership():
    got = improvement.openness(np.array([0.0, 1.0, 1.0, 0.5]),
                               np.array([False, False, True, False]), 0.5, 0.7)
    assert_allclose(got, [0.5, 1.0, 0.3, 0.75])


def test_capability_gain_known_point():
    cap = np.array([[0.5, 0.8], [1.0, 0.0]])
    needs = np.array([[2.0, 0.0], [3.0, 1.0]])
    got = improvement.capability_gain(cap, needs, 4.0, 0.1)
    assert_allclose(got, [[0.025, 0.0], [0.0, 0.025]])


@pytest.mark.parametrize("mean_volume", [0.0, -1.0])
def test_capability_gain_zero_without_volume(mean_volume):
    cap = np.array([[0.5, 0.8]])
    got = improvement.capability_gain(cap, np.array([[2.0, 1.0]]), mean_volume, 0.1)
    assert got.shape == cap.shape
    assert_array_equal(got, 0.0)


# ---------------------------------------------------------------------------
# stages.py (M13, F9)
# ---------------------------------------------------------------------------

A, X, E, C, D = (
    Stage.AWARENESS,
    Stage.EXPLORATION,
    Stage.EXPANSION,
    Stage.COMMITMENT,
    Stage.DISSOLUTION,
)


def _next(stage, bought, trust, commitment, wallet):
    return stages.next_stage(
        np.array(stage, dtype=np.int8),
        np.array(bought),
        np.array(trust, dtype=float),
        np.array(commitment, dtype=float),
        np.array(wallet, dtype=float),
        EXPANSION,
        COMMITMENT,
    )


@pytest.mark.parametrize(
    ("stage", "bought", "trust", "commitment", "wallet", "expected"),
    [
        (A, False, 0.3, 0.0, 0.0, A),  # no purchase: still aware only
        (A, True, 0.3, 0.0, 0.2, X),  # first purchase
        (X, False, 0.3, 0.0, 0.2, X),  # an engaged tie stays engaged without buying
        (X, True, 0.5, 0.0, 0.3, E),  # thresholds are inclusive
        (X, True, 0.49, 0.0, 0.9, X),  # trust short of t_e
        (X, True, 0.9, 0.0, 0.29, X),  # share short of w_e
        (E, True, 0.65, 0.4, 0.5, C),  # all commitment thresholds met
        (E, True, 0.9, 0.39, 0.9, E),  # commitment short of c_c
        (C, True, 0.6, 0.9, 0.9, E),  # trust falls below t_c: back to expansion
        (C, False, 0.9, 0.9, 0.45, E),  # share falls below w_c
        (E, False, 0.9, 0.9, 0.2, X),  # share falls below w_e: back to exploration
        (D, True, 0.9, 0.9, 0.9, D),  # dissolution is left to Ties.dissolve
        (D, False, 0.0, 0.0, 0.0, D),
    ],
)
def test_next_stage_transitions(stage, bought, trust, commitment, wallet, expected):
    got = _next([stage], [bought], [trust], [commitment], [wallet])
    assert got.dtype == np.int8
    assert got[0] == expected


def test_next_stage_is_highest_stage_whose_thresholds_hold():
    # Current semantics: the stage is recomputed from the thresholds each step, so a
    # committed tie whose trust collapses below t_e falls to exploration in one step.
    got = _next([C], [True], [0.3], [0.9], [0.9])
    assert got[0] == X


def test_next_stage_row_equals_matrix_row():
    rng = np.random.default_rng(13)
    shape = (40, 5)
    stage = rng.integers(0, 5, size=shape).astype(np.int8)
    bought = rng.random(shape) < 0.5
    trust, commitment, wallet = rng.random(shape), rng.random(shape), rng.random(shape)
    whole = stages.next_stage(stage, bought, trust, commitment, wallet, EXPANSION, COMMITMENT)
    assert whole.shape == shape
    assert set(np.unique(whole).tolist()) <= {0, 1, 2, 3, 4}
    for i in range(shape[0]):
        row = stages.next_stage(
            stage[i], bought[i], trust[i], commitment[i], wallet[i], EXPANSION, COMMITMENT
        )
        assert_array_equal(row, whole[i])


def _promote(partner, stage, trust, attraction, partnership, threshold=0.75):
    return stages.promote_partner(
        np.array(partner, dtype=bool),
        np.array(stage, dtype=np.int8),
        np.array(trust, dtype=float),
        np.array(attraction, dtype=float),
        np.array(partnership, dtype=bool),
        threshold,
    )


def test_promote_partner_picks_most_attractive_eligible():
    got = _promote(
        [[False] * 4], [[C, C, C, E]], [[0.8, 0.9, 0.7, 0.9]], [[1.0, 2.0, 5.0, 9.0]], [[True]]
    )
    # index 2 has trust below the threshold, index 3 is not committed
    assert_array_equal(got, [[False, True, False, False]])


def test_promote_partner_keeps_existing_partner_only():
    got = _promote(
        [[True, False, False]], [[C, C, C]], [[0.9, 0.9, 0.9]], [[1.0, 5.0, 3.0]], [[True]]
    )
    assert_array_equal(got, [[True, False, False]])


def test_promote_partner_never_promotes_for_adversarial_buyer():
    got = _promote([[False, False]], [[C, C]], [[0.9, 0.9]], [[1.0, 2.0]], [[False]])
    assert_array_equal(got, [[False, False]])


def test_promote_partner_no_eligible_tie_no_partner():
    # the most attractive tie (index 0) is not eligible; argmax must not leak it through
    got = _promote(
        [[False, False, False]], [[E, X, C]], [[0.9, 0.9, 0.5]], [[9.0, 1.0, 2.0]], [[True]]
    )
    assert_array_equal(got, [[False, False, False]])


def test_promote_partner_random_at_most_one_and_only_partnership():
    rng = np.random.default_rng(14)
    n, m = 200, 5
    partner = np.zeros((n, m), dtype=bool)
    partner[np.arange(n), rng.integers(0, m, n)] = rng.random(n) < 0.3
    stage = rng.integers(0, 5, size=(n, m)).astype(np.int8)
    trust, attraction = rng.random((n, m)), rng.normal(size=(n, m))
    partnership = rng.random((n, 1)) < 0.6
    got = stages.promote_partner(partner, stage, trust, attraction, partnership, 0.5)
    assert np.all(got.sum(axis=-1) <= 1)
    assert np.all(got[partner])  # existing partners are kept
    new = got & ~partner
    assert not np.any(new & ~partnership)
    assert np.all(stage[new] == Stage.COMMITMENT)
    assert np.all(trust[new] >= 0.5)
    # every partnership buyer without a partner but with an eligible tie gets one
    eligible = (stage == Stage.COMMITMENT) & (trust >= 0.5) & partnership
    should = eligible.any(axis=-1) & ~partner.any(axis=-1)
    assert_array_equal(new.any(axis=-1), should)
    for i in range(0, n, 23):
        row = stages.promote_partner(
            partner[i], stage[i], trust[i], attraction[i], partnership[i, 0], 0.5
        )
        assert_array_equal(row, got[i])


# ---------------------------------------------------------------------------
# economics.py (M14, F11)
# ---------------------------------------------------------------------------


def test_supplier_costs_formula():
    got = economics.supplier_costs(
        volume=np.array([100.0, 50.0]),
        unit_cost=0.5,
        salespeople=np.array([2.0, 0.0]),
        salary=3.0,
        coordination=np.array([0.2, 0.9]),
        overhead_per_account=np.array([0.1, 0.1]),
        active_accounts=np.array([10.0, 20.0]),
        contacts=np.array([5.0, 50.0]),
        contact_cost=0.02,
        investments=np.array([0.0, 4.0]),
        investment_cost=0.3,
    )
    assert_allclose(got, [50 + 6 + 0.2 + 0.1 + 0, 25 + 0 + 1.8 + 1.0 + 1.2])


def test_lifetime_value_formula():
    got = economics.lifetime_value(np.array([10.0, 10.0, 4.0]), np.array([0.8, 0.0, 0.5]), 0.1)
    assert_allclose(got, [10 * 0.8 / 0.3, 0.0, 4 * 0.5 / 0.6])


def test_lifetime_value_grows_with_retention():
    r = np.linspace(0.0, 0.99, 20)
    clv = economics.lifetime_value(np.full(20, 1.0), r, 0.05)
    assert np.all(np.diff(clv) > 0)


def test_financial_health():
    got = economics.financial_health(
        np.array([0.5, 0.4, 0.9, 0.1]), np.array([0.0, 0.2, 5.0, -5.0]), 0.5
    )
    assert_allclose(got, [0.5, 0.55, 1.0, 0.0])


@settings(max_examples=200, deadline=None)
@given(
    health=unit_arrays(5),
    margin=hnp.arrays(np.float64, 5, elements=st.floats(-10.0, 10.0)),
    rate=unit,
)
def test_financial_health_in_unit_interval(health, margin, rate):
    h = economics.financial_health(health, margin, rate)
    assert np.all((h >= 0.0) & (h <= 1.0))


# ---------------------------------------------------------------------------
# services.py (F11)
# ---------------------------------------------------------------------------


def test_service_reach_and_adoption_known_points():
    reach = services.reach(np.array([1.0, 0.25]), np.array([0.7, 0.7]), 0.5)
    assert_allclose(reach, [1.0, 0.25 + 0.75 * 0.35])
    got = services.adoption(np.array([0.5, 1.0]), np.array([1.0, 0.0]), np.array([1.0, 1.0]), 0.3)
    assert_allclose(got, [0.5, 1.0 / 1.3])


def test_service_spend_needs_trust_and_needs_beyond_the_product():
    spend = services.service_spend(np.full(3, 2.0), np.full(3, 1.0), np.array([0.5, 0.0, 0.5]),
                                   0.6, np.array([0.5, 0.5, 0.0]))
    assert_allclose(spend, [2 * 0.6 * 0.5 * 0.5, 0.0, 0.0])


def test_a_broken_promise_adds_blame_to_the_nonproductive_share():
    tau = transaction.nonproductive_share(np.array([0.5, 0.5, 0.0]), 0.5, 0.25,
                                          np.array([False, True, True]), 0.6)
    assert_allclose(tau, [0.375, 0.975, 1.0])  # capped at all of the face time
