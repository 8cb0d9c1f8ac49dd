"""The crossover's one-at-a-time sensitivity (sim.validate.crossover.sensitivity) on a tiny grid."""

from __future__ import annotations

import json
import math

import pytest

from sim.constraints import ConfigError
from sim.validate import crossover
from sim.validate.__main__ import main

#: a market small enough for a test, in which both gaps cross inside GRID in seeds 0 and 1
TINY = ("market.n_buyers=80", "steps=40")
GRID = (0.1, 0.3, 0.5)


@pytest.mark.parametrize("factor", [0.25, 0.9])
def test_scaled_values_respect_each_fields_bounds(factor):
    for name in crossover.free_parameters():
        default, bounds = crossover._lookup(name)
        values = crossover.scaled(name, factor)
        if not default:
            assert values is None, name
            continue
        assert values is not None
        low, high = values
        assert bounds.allows(low) and bounds.allows(high), (name, values)
        assert low < default < high or (high == bounds.hi and low < default), (name, values)
        if bounds.integer:
            assert isinstance(low, int) and isinstance(high, int), name
        else:
            assert low == pytest.approx(max(default * (1 - factor), bounds.lo)), name
            assert high == pytest.approx(min(default * (1 + factor), bounds.hi)), name


def test_scaled_clips_to_the_bound_and_moves_integers_by_at_least_one():
    assert crossover.scaled("sales.portability") == (0.675, 1.0)  # 0.9 × 1.25 > 1
    assert crossover.scaled("buyers.quotes") == (1, 3)  # 2 × 0.75 and 2 × 1.25 round to 2
    assert crossover.scaled("strategy.company_wide.monitor_silent_after") == (3, 5)


def test_free_parameters_leave_out_sizes_the_axis_and_wkh_only_fields():
    names = crossover.free_parameters()
    assert set(crossover.NOT_FREE).isdisjoint(names)
    assert "steps" not in names and "relationship.purchase_is_contact" not in names
    assert {"relationship.tc_trust_slope", "strategy.lone_seller.person_share",
            "strategy.company_wide.price_factor", "sales.capacity"} <= set(names)


def test_chain_runs_only_the_points_the_first_crossing_needs(monkeypatch):
    calls: list[float] = []

    def fake_gap(breadth: float, seed: int, overrides: tuple[str, ...] = ()) -> dict:
        calls.append(breadth)
        return {"market_share": breadth - (0.25 if seed == 0 else 0.1), "profit": breadth - 0.45}

    monkeypatch.setattr(crossover, "gap", fake_gap)
    grid = (0.05, 0.15, 0.25, 0.35, 0.45, 0.55)
    # seed 0: every gap < 0 at 0.15, so 0.05 cannot matter; both have crossed at 0.45
    chain = crossover._chain((), 0, grid)
    assert calls == [0.15, 0.25, 0.35, 0.45] and chain[0] is None
    # seed 1: the share gap is ≥ 0 at 0.15 already, so 0.05 is run
    calls.clear()
    chain = crossover._chain((), 1, grid)
    assert calls == [0.15, 0.05, 0.25, 0.35, 0.45]
    full = [fake_gap(b, 1) for b in grid]
    for k in crossover.OUTCOMES:
        assert crossover._cross(grid, chain, k) == pytest.approx(
            crossover.crossing(grid, [g[k] for g in full]))
    assert crossover._cross(grid, chain, "market_share") == pytest.approx(0.1)


def test_a_bogus_parameter_is_named_with_the_allowed_ones():
    with pytest.raises(ConfigError, match="'relationship.bogus'") as err:
        crossover.sensitivity(["relationship.bogus"], seeds=2, progress=False)
    assert "relationship.decay" in str(err.value)
    with pytest.raises(ConfigError, match="factor"):
        crossover.scaled("relationship.decay", 1.5)
    with pytest.raises(ConfigError, match="breadths"):
        crossover.sensitivity(["relationship.decay"], breadths=(0.3,), progress=False)


def test_cli_rejects_a_bogus_parameter_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["crossover", "--sensitivity", "--params", "market.bogus"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "market.bogus" in err and "relationship.trust_gain" in err


def test_sensitivity_on_a_tiny_grid_has_the_baseline_and_both_sides(tmp_path):
    cache = tmp_path / "chains.jsonl"
    result = crossover.sensitivity(["sales.capacity", "market.uncertainty"], seeds=2,
                                   overrides=TINY, breadths=GRID, progress=False,
                                   cache=str(cache))
    # the baseline's early-stopped chains give the crossovers of the whole grid
    full = {r.outcome: r for r in crossover.measure(2, TINY, GRID)}
    for k in crossover.OUTCOMES:
        assert result.baseline[k] == full[k]
        assert result.baseline[k].crossed == 2
    capacity, uncertainty = result.rows
    assert (capacity.low, capacity.high) == (6, 10)
    assert capacity.at_low is not None and capacity.at_high is not None
    for k in crossover.OUTCOMES:  # every seed crosses: the mean change is the change of means
        if capacity.at_high[k].crossed == 2:
            change = capacity.at_high[k].mean - result.baseline[k].mean
            assert capacity.change("high", k) == pytest.approx(change)
    assert uncertainty.at_low is None and uncertainty.note == "not varied: default 0"
    assert math.isnan(uncertainty.change("low", "profit"))

    doc = json.loads(json.dumps(result.as_dict()))
    assert set(doc["baseline"]) == set(crossover.OUTCOMES)
    assert [r["parameter"] for r in doc["rows"]] == ["sales.capacity", "market.uncertainty"]
    assert doc["rows"][1]["profit"] is None
    assert "sales.capacity" in crossover.sensitivity_table(result, "profit")

    # a second run reads every chain from the cache and runs nothing
    lines = cache.read_text().splitlines()
    assert len(lines) == 6  # baseline and two sides, two seeds each
    crossover.gap.cache_clear()
    again = crossover.sensitivity(["sales.capacity"], seeds=2, overrides=TINY, breadths=GRID,
                                  progress=False, cache=str(cache))
    assert crossover.gap.cache_info().misses == 0
    assert again.rows[0].at_low == capacity.at_low
