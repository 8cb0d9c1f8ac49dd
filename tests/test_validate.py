"""``python -m sim.validate``: the WKH transition vs mean-field theory (L1, §4) and the facts.

Fast tests (default suite): theory functions, the CLI's argument errors, WKH
for n = 2 and n = 3 at one (γ, π) each on a coarse β grid, and the fast facts.
Slow tests (``make validate``, ``-m slow``): more (n, γ, π) cases on the full
grid and every fact with the default number of seeds.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.validate import facts, wkh
from sim.validate.__main__ import main

COARSE = tuple(np.round(np.arange(0.8, 1.71, 0.1), 3))  # β/β_c, 10 points around the midpoints


# ---------------------------------------------------------------- theory


@pytest.mark.parametrize("n", [2, 3, 5])
def test_meanfield_searching_state_loses_stability_at_beta_c(n):
    """Below β_c = nγ/π the searching state p = 1/n is stable, above it is not (§4)."""
    gamma, profit = 0.1, 2.0
    beta_c = wkh.critical_beta(n, gamma, profit)
    order = wkh.meanfield_order(np.array([0.95, 1.05]) * beta_c, n, gamma, profit, "searching")
    assert order[0] == pytest.approx(1 / n, abs=1e-6)
    assert order[1] > 1 / n + 0.05


def test_meanfield_midpoint_for_two_sellers_is_the_exact_root():
    """n = 2: Σp² = 3/4 at x = (1 + 1/√2)/2, reached at a = ln(x/(1−x))/(2x−1) ≈ 2.493."""
    x = 0.5 * (1 + 1 / math.sqrt(2))
    a_mid = math.log(x / (1 - x)) / (2 * x - 1)
    betas = np.linspace(0.5, 2.0, 1501) * 0.2
    order = wkh.meanfield_order(betas, 2, 0.1, 1.0, "searching")
    assert wkh.midpoint_crossing(betas, order, 0.75) == pytest.approx(a_mid * 0.1, rel=2e-3)


@pytest.mark.parametrize("n", [3, 4, 8])
def test_saddle_node_bounds_a_hysteresis_window(n):
    """For n > 2 the loyal branch exists below β_c, from β_sn on, and not below β_sn."""
    gamma, profit = 0.1, 1.0
    beta_sn = wkh.saddle_node_beta(n, gamma, profit)
    assert beta_sn < wkh.critical_beta(n, gamma, profit)
    loyal = wkh.meanfield_order(np.array([0.99, 1.01]) * beta_sn, n, gamma, profit, "loyal")
    assert loyal[0] == pytest.approx(1 / n, abs=1e-4)
    assert loyal[1] > 0.5


def test_saddle_node_equals_beta_c_for_two_sellers():
    assert wkh.saddle_node_beta(2, 0.2, 0.5) == pytest.approx(wkh.critical_beta(2, 0.2, 0.5))


def test_midpoint_crossing_interpolates_linearly():
    assert wkh.midpoint_crossing([1, 2, 3], [0.0, 0.4, 0.8], 0.6) == pytest.approx(2.5)
    assert math.isnan(wkh.midpoint_crossing([1, 2], [0.1, 0.2], 0.6))  # never reached
    assert math.isnan(wkh.midpoint_crossing([1, 2], [0.7, 0.9], 0.6))  # crossed below the grid


@pytest.mark.parametrize("bad", [{"sellers": 1}, {"gamma": 0.0}, {"profit": -1.0}])
def test_wkh_case_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        wkh.WKHCase(**bad)


# ---------------------------------------------------------------- command line


@pytest.mark.parametrize(
    "argv",
    [["wkh", "--sellers", "1"], ["wkh", "--gamma", "0"], ["wkh", "--profit", "-2"],
     ["wkh", "--grid", "2:1:0.1"], ["wkh", "--buyers", "many"], ["facts", "--seeds", "1"],
     ["facts", "--only", "F99"], ["nonsense"]],
)
def test_cli_rejects_bad_arguments_with_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli_wkh_prints_json_last_and_writes_the_plot(tmp_path, capsys):
    png = tmp_path / "wkh.png"
    status = main(["wkh", "--sellers", "2", "--gamma", "0.2", "--profit", "1", "--buyers", "200",
                   "--grid", "0.8:1.6:0.4", "--horizon", "10", "--json", "--plot", str(png)])
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status in (0, 1) and last["passed"] == (status == 0)
    for key in ("beta_c_analytic", "beta_mid_meanfield", "beta_mid_measured", "relative_error"):
        assert math.isfinite(last[key])
    assert last["beta_c_analytic"] == pytest.approx(0.4)
    assert png.stat().st_size > 1000


# ---------------------------------------------------------------- the WKH check itself


def test_wkh_rule_is_the_relative_error_for_two_sellers():
    base = {"sellers": 2, "beta_mid_meanfield": 1.0}
    assert wkh.passed({**base, "beta_mid_measured": 1.09, "relative_error": 0.09})
    assert not wkh.passed({**base, "beta_mid_measured": 0.89, "relative_error": 0.11})
    assert not wkh.passed({**base, "beta_mid_measured": math.nan, "relative_error": math.nan})


def test_wkh_rule_for_more_sellers_is_the_widened_meanfield_window():
    """n > 2: inside [0.9·mid down, 1.1·mid up], whatever the relative error to mid up."""
    base = {"sellers": 5, "beta_mid_meanfield": 1.0, "beta_mid_meanfield_down": 0.73}
    assert wkh.window(base) == pytest.approx((0.657, 1.1))
    for measured, ok in [(0.743, True), (0.66, True), (0.65, False), (1.09, True),
                         (1.11, False)]:
        result = {**base, "beta_mid_measured": measured,
                  "relative_error": wkh.relative_error(measured, 1.0)}
        assert wkh.passed(result) is ok, measured


def _check_wkh(case: wkh.WKHCase) -> dict:
    result = wkh.run_wkh(case)
    assert result["passed"], result
    low, high = result["window"]
    assert low <= result["beta_mid_measured"] <= high, result
    if case.sellers == 2:
        assert result["relative_error"] <= 0.10, result
    else:  # the loop: mean-field window, and a down-sweep never above the up-sweep
        assert result["beta_mid_meanfield_down"] < result["beta_mid_meanfield"], result
        assert result["beta_mid_measured_down"] <= 1.02 * result["beta_mid_measured"], result
        assert result["beta_saddle_node"] < result["beta_mid_meanfield_down"], result
    return result


def test_wkh_two_sellers_matches_meanfield():
    _check_wkh(wkh.WKHCase(sellers=2, gamma=0.2, profit=1.0, grid=COARSE))


def test_wkh_three_sellers_matches_meanfield_with_hysteresis():
    _check_wkh(wkh.WKHCase(sellers=3, gamma=0.2, profit=2.0, grid=COARSE))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "gamma", "profit"),
    [(2, 0.1, 1.0), (2, 0.05, 3.0), (3, 0.1, 1.0), (3, 0.2, 0.5), (4, 0.1, 1.0), (5, 0.2, 1.0)],
)
def test_wkh_full_grid(n, gamma, profit):
    """n ≥ 4: noise carries searching buyers over the mean-field barrier, so the up-sweep
    crosses near the loyal branch's midpoint, inside the window (docs/validation.md)."""
    _check_wkh(wkh.WKHCase(sellers=n, gamma=gamma, profit=profit))


# ---------------------------------------------------------------- facts

FAST_FACTS = ("F4", "F5", "F9", "F12", "L2")


def test_fact_table_has_every_fact_of_the_brief():
    expected = {f"F{k}" for k in range(1, 13)} | {"L2", "L3"}
    assert {i.rstrip("abc") for i in facts.ids()} == expected


def test_mean_ci_is_a_t_interval():
    mean, lo, hi = facts.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and hi - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)


@pytest.mark.parametrize("fact", FAST_FACTS)
def test_fast_fact(fact):
    (row,) = facts.run_facts(seeds=4, only=[fact])
    assert row.passed, row


def test_every_fact_says_its_kind_and_source():
    """Every check measures an emergent consequence; L2 too, now that sellers learn it."""
    kinds = {f.fact: f.kind for f in facts.FACTS}
    assert set(kinds.values()) == {"emergent"}
    for f in facts.FACTS:
        assert f.source.startswith(("seeds/", "Dyer", "Kirman", "Palmatier")), f
    row = facts.FactResult("F0", "claim", "seeds/x", "emergent", "pair", "> 0", 1.0, 0.5, 1.5,
                           True).as_dict()
    assert row["kind"] == "emergent" and row["source"] == "seeds/x"


@pytest.mark.slow
@pytest.mark.parametrize("fact", facts.ids())
def test_fact_with_default_seeds(fact):
    (row,) = facts.run_facts(only=[fact])
    assert row.passed, row
