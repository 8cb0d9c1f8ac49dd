"""Outcomes (M14): retention over a window, CLV from window means, intervals inside an
outcome's range, counts as integers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import RelationshipModel, metrics, report
from sim.market import AccountHistory
from sim.results import write_run
from sim.rules import economics

W = 12


def _history_market(n_buyers: int, n_suppliers: int) -> SimpleNamespace:
    """The part of a market that the retention functions read."""
    return SimpleNamespace(accounts=AccountHistory.empty(n_buyers, n_suppliers),
                           orders=np.zeros((n_buyers, n_suppliers), dtype=np.float32),
                           n_suppliers=n_suppliers)


def _brute_retention(log: list[np.ndarray], now: int, n_suppliers: int) -> np.ndarray:
    """r_j(t) by definition, from the full log ``log[t][i]`` = supplier bought from as main (−1)."""
    history = np.array(log)  # (steps + 1, buyers)
    held, had = np.zeros(n_suppliers), np.zeros(n_suppliers)
    for j in range(n_suppliers):
        before = (history[max(0, now - 2 * W + 1):max(0, now - W + 1)] == j).any(axis=0)
        after = (history[max(0, now - W + 1):now + 1] == j).any(axis=0)
        had[j], held[j] = before.sum(), (before & after).sum()
    return np.divide(held, had, out=np.full(n_suppliers, np.nan), where=had > 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_windowed_retention_equals_its_definition(seed):
    """The spell records give exactly the share of the previous window's buyers who buy again,
    for buyers who buy irregularly and switch among three suppliers."""
    rng = np.random.default_rng(seed)
    n, m, steps = 400, 3, 120
    market = _history_market(n, m)
    log = [np.full(n, -1)]
    loyal = rng.integers(0, m, n)
    for t in range(1, steps + 1):
        switch = rng.random(n) < 0.03
        loyal[switch] = rng.integers(0, m, switch.sum())
        # buying probability changes over time so that gaps longer than W occur
        buys = rng.random(n) < (0.9 if (t // 30) % 2 == 0 else 0.05)
        main = np.where(buys, loyal, rng.integers(0, m, n))
        market.orders[:] = 0.0
        market.orders[np.arange(n)[buys], main[buys]] = 1.0
        metrics.record_purchases(market, main, t, W)
        log.append(np.where(buys, main, -1))
        got = metrics.windowed_retention(market, t, W)
        np.testing.assert_allclose(got, _brute_retention(log, t, m), equal_nan=True)


def test_retention_of_a_buyer_who_stops_buying_drops():
    """One account buys every step, then stops: it counts as kept for W steps after its last
    purchase, then as lost (whereas 'still main supplier' would keep it forever)."""
    market = _history_market(1, 2)
    main = np.array([0])
    for t in range(1, 20 + 2 * W):
        market.orders[0, 0] = 1.0 if t <= 20 else 0.0
        metrics.record_purchases(market, main, t, W)
        r = metrics.windowed_retention(market, t, W)[0]
        if t < W + 1:
            assert math.isnan(r)  # no previous window yet
        elif t <= 20 + W - 1:
            assert r == 1.0, t
        else:
            assert r == 0.0, t


def test_model_retention_falls_when_buyers_stop_buying():
    """In the model: after a total demand stop, retention over the window falls to 0 within
    W steps although almost every buyer keeps its main supplier (the old per-step reading,
    share of main accounts still main accounts, stayed near 1)."""
    model = RelationshipModel(n_buyers=300, steps=80, seed=3)
    model.run_for(40)
    before = model.market.firms.metrics["retention"]
    main = model.market.buyers.main_supplier.copy()
    assert np.nanmin(before) > 0.5
    model.market.demand_cut = 1.0  # nobody buys any more
    model.run_for(W)
    had = main >= 0
    assert np.mean(model.market.buyers.main_supplier[had] == main[had]) > 0.95
    assert np.all(np.nan_to_num(model.market.firms.metrics["retention"]) == 0.0)


def test_summary_clv_is_the_lifetime_formula_on_the_window_means():
    model = RelationshipModel(n_buyers=300, steps=60, seed=1)
    model.run_model()
    summary, cfg = model.summary(), model.cfg
    frame = model.supplier_frame()
    window = frame[frame["step"] > cfg.warmup_share * cfg.steps]
    d = cfg.market.discount_rate
    for name, rows in window.groupby("strategy"):
        margin = rows["profit"].mean() / rows["accounts"].mean()
        r = rows["retention"].mean() ** (1 / cfg.market.retention_window)
        expected = margin * r / (1 + d - r)
        assert summary["strategies"][name]["clv"] == pytest.approx(expected, rel=1e-12)
        assert expected == pytest.approx(float(economics.lifetime_value(margin, r, d)))
    for row in summary["suppliers"]:
        own = window[window["supplier"] == row["id"]]
        r = own["retention"].mean() ** (1 / cfg.market.retention_window)
        margin = own["profit"].mean() / own["accounts"].mean()
        assert row["clv"] == pytest.approx(margin * r / (1 + d - r), rel=1e-12)


def test_counts_are_integer_columns_in_the_frame_and_the_saved_steps(tmp_path):
    model = RelationshipModel(n_buyers=200, steps=20, seed=2, collect_every=3)
    model.run_model()
    frame = model.supplier_frame()
    for name in metrics.COUNTS:
        assert frame[name].dtype == np.int64, name
    for name in ("market_share", "retention", "profit"):
        assert frame[name].dtype == np.float64, name
    write_run(tmp_path / "run", "seed: 2\n", frame, model.summary(),
              {"seed": 2, "complete": True, "overrides": []})
    schema = pq.read_schema(tmp_path / "run" / "steps.parquet")
    assert {name: str(schema.field(name).type) for name in metrics.COUNTS} == \
        dict.fromkeys(metrics.COUNTS, "int64")


def test_every_outcome_declares_a_range():
    declared = set(metrics.OUTCOME_KIND)
    assert set(metrics.SUPPLIER_METRICS) | set(metrics.WINDOW_METRICS) \
        | set(metrics.MARKET_METRICS) <= declared
    assert set(metrics.OUTCOME_KIND.values()) <= set(metrics.RANGES)


# ---------------------------------------------------------------- intervals


#: A count averaged per step, near zero in most runs (the default run's company-wide
#: silent churn): the Student-t interval went to −0.0033.
NEAR_ZERO = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.0, 0.0333, 0.0]


def test_t_interval_of_a_count_near_zero_leaves_the_range_and_the_bootstrap_does_not():
    _, low_t, _, _ = report.mean_ci(NEAR_ZERO)  # "real": Student t
    assert low_t < 0
    mean, low, high, n = report.mean_ci(NEAR_ZERO, kind="count")
    assert n == 10 and 0.0 <= low <= mean <= high
    assert high > mean  # an interval, not a point


def test_interval_of_a_share_near_one_stays_below_one():
    values = [1.0, 1.0, 0.97, 1.0, 1.0, 0.99, 1.0, 0.9, 1.0, 1.0]
    assert report.mean_ci(values)[2] > 1.0
    _, low, high, _ = report.mean_ci(values, kind="share")
    assert 0.0 <= low < high <= 1.0


def test_bootstrap_interval_is_seeded_and_covers_like_the_t_interval():
    rng = np.random.default_rng(0)
    values = rng.gamma(4.0, 1.0, 30)
    assert report.mean_ci(values, kind="amount") == report.mean_ci(values, kind="amount")
    _, lo_b, hi_b, _ = report.mean_ci(values, kind="amount")
    _, lo_t, hi_t, _ = report.mean_ci(values)
    assert abs(lo_b - lo_t) < 0.15 * (hi_t - lo_t) and abs(hi_b - hi_t) < 0.15 * (hi_t - lo_t)


def test_outcome_table_intervals_stay_in_each_outcomes_range():
    rng = np.random.default_rng(1)
    runs = pd.DataFrame({"strategy": ["a"] * 10 + ["b"] * 10,
                         "silent_churn": NEAR_ZERO + list(rng.poisson(1.5, 10) / 3),
                         "retention": [1.0] * 9 + [0.95] + list(rng.uniform(0.85, 1, 10)),
                         "profit": rng.normal(0, 5, 20)})
    table = report.outcome_table(runs)
    for row in table.itertuples():
        lo, hi = metrics.RANGES[metrics.OUTCOME_KIND[row.outcome]]
        assert lo <= row.ci_low <= row.mean <= row.ci_high <= hi, row


@pytest.mark.parametrize("kind", ["share", "count", "amount", "real"])
def test_time_bands_stay_in_range(kind):
    mean = np.array([0.0, 0.001, 0.2, 0.5, 0.999, 1.0])
    se = np.array([0.0, 0.01, 0.3, 0.2, 0.01, 0.0])
    low, high = report.band_limits(mean, se, np.full(6, 10), kind)
    lo, hi = metrics.RANGES[kind]
    assert np.all(low <= mean) and np.all(mean <= high)
    if kind != "real":
        assert np.all(low >= lo) and np.all(high <= (hi if kind == "share" else np.inf))
    else:
        assert low[1] < 0  # the plain band goes below zero here
