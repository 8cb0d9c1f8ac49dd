"""python -m sim.calibrate: recovery of known parameters, reproducibility, bad input (exit 2).

The recovery tests simulate "observed" data at known parameter values on seeds the fit
never uses (100–103), then calibrate on seeds 0–1 and require every known value inside
its reported 95% interval.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.api import make_config
from sim.calibrate.__main__ import main
from sim.calibrate.fit import calibrate
from sim.calibrate.simulate import simulate
from sim.calibrate.targets import (
    CalibrationError,
    Problem,
    Target,
    load_problem,
    parse_param,
    split_list,
)

SMALL = ("market.n_buyers=200", "steps=50")
ROOT = Path(__file__).resolve().parents[1]


def observed(names: list[str], truth: dict[str, float], overrides: tuple[str, ...] = SMALL,
             seeds: range = range(100, 104)) -> dict[str, dict[str, float]]:
    """Targets simulated at ``truth`` on seeds the fit does not use: mean ± s.e. of the mean."""
    targets = [Target(n, 0.0, 1.0) for n in names]
    extra = tuple(f"{k}={v}" for k, v in truth.items())
    runs = np.array([simulate((*overrides, *extra), s, targets) for s in seeds])
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(seeds))
    return {n: {"value": float(m), "se": float(max(e, 1e-3))}
            for n, m, e in zip(names, runs.mean(axis=0), se, strict=True)}


def write_targets(path: Path, targets: dict, params: dict | None = None,
                  overrides: tuple[str, ...] = SMALL) -> Path:
    node = {"targets": targets, "overrides": list(overrides)}
    if params:
        node["params"] = params
    path.write_text(yaml.safe_dump(node))
    return path


def test_recovers_two_known_parameters(tmp_path):
    """τ(0) and the τ slope, set to 0.58 and 0.18, come back within their intervals."""
    truth = {"relationship.tc_at_zero_trust": 0.58, "relationship.tc_trust_slope": 0.18}
    data = observed(["F7.share_least_trusted", "F7.share_most_trusted"], truth)
    problem = load_problem(write_targets(tmp_path / "t.yaml", data), [
        "relationship.tc_at_zero_trust:[0.4,0.7]", "relationship.tc_trust_slope:[0.1,0.35]"])
    fit = calibrate(problem, budget=12, seeds=4, seed=0, jobs=1)
    for e in fit.estimates:
        assert e.identified
        assert e.low <= truth[e.key] <= e.high, (e, truth[e.key])
        assert e.high - e.low < 0.6 * (e.bounds[1] - e.bounds[0])  # informative, not the box
    assert all(t.within for t in fit.targets)
    assert fit.distance < fit.default_distance  # the default (0.5, 0.25) is not the truth


@pytest.mark.slow
def test_recovers_three_known_parameters(tmp_path):
    """τ(0), the τ slope and the inspection cost from F7's shares and its cost ratio.

    Observed on 8 seeds, fitted on 4: with 4 and 3 the seeds' noise put the observed
    least-trusted share 2σ from the fit seeds' mean, and τ(0) and the slope missed their
    intervals by 2.4 sd (docs/calibration.md §6).
    """
    truth = {"relationship.tc_at_zero_trust": 0.45, "relationship.tc_trust_slope": 0.3,
             "relationship.inspection_cost": 0.3}
    market = ("market.n_buyers=600", "steps=80")
    names = ["F7.share_least_trusted", "F7.share_most_trusted", "F7.cost_ratio"]
    data = observed(names, truth, market, range(100, 108))
    problem = load_problem(write_targets(tmp_path / "t.yaml", data, overrides=market), [
        "relationship.tc_at_zero_trust:[0.35,0.7]", "relationship.tc_trust_slope:[0.1,0.34]",
        "relationship.inspection_cost:[0.05,0.5]"])
    fit = calibrate(problem, budget=30, seeds=4, seed=1, jobs=2)
    for e in fit.estimates:
        assert e.low <= truth[e.key] <= e.high, (e, truth[e.key])


def test_same_seed_same_result_whatever_the_jobs(tmp_path):
    data = {"F7.share_least_trusted": {"value": 0.45, "se": 0.02}}
    problem = load_problem(write_targets(tmp_path / "t.yaml", data),
                           ["relationship.tc_at_zero_trust:[0.3,0.7]"])
    one = calibrate(problem, budget=5, seeds=2, seed=3, jobs=1, refine=1)
    two = calibrate(problem, budget=5, seeds=2, seed=3, jobs=2, refine=1)
    assert one.calibrated() == two.calibrated()
    assert [t["distance"] for t in one.trials] == [t["distance"] for t in two.trials]
    other = calibrate(problem, budget=5, seeds=2, seed=4, jobs=1, refine=0)
    assert [t["relationship.tc_at_zero_trust"] for t in other.trials[1:5]] != [
        t["relationship.tc_at_zero_trust"] for t in one.trials[1:5]]


def test_a_parameter_the_targets_do_not_move_is_not_identified(tmp_path):
    """The CLV discount rate enters no F7 measure: reported as not identified."""
    data = {"F7.share_least_trusted": {"value": 0.45, "se": 0.02}}
    problem = load_problem(write_targets(tmp_path / "t.yaml", data), [
        "relationship.tc_at_zero_trust:[0.3,0.7]", "market.discount_rate:[0.01,0.05]"])
    fit = calibrate(problem, budget=4, seeds=2, seed=0, jobs=1, refine=1)
    ident = {e.key: e.identified for e in fit.estimates}
    assert ident == {"relationship.tc_at_zero_trust": True, "market.discount_rate": False}
    assert any("discount_rate" in note for note in fit.notes)


def test_cli_writes_calibrated_yaml_usable_as_override(tmp_path):
    data = {"F7.share_least_trusted": {"value": 0.45, "se": 0.02},
            "company_wide.market_share": {"value": 0.3, "se": 0.05}}
    targets = write_targets(tmp_path / "t.yaml", data,
                            {"relationship.tc_at_zero_trust": [0.3, 0.7]})
    out = tmp_path / "out"
    assert main([f"targets={targets}", "budget=4", "seeds=2", "jobs=1", "refine=1",
                 f"out={out}"]) == 0
    for name in ("calibrated.yaml", "report.md", "fit.json", "trials.csv", "convergence.png",
                 "identifiability.png", "fit.png"):
        assert (out / name).is_file(), name
    value = yaml.safe_load((out / "calibrated.yaml").read_text())["relationship"][
        "tc_at_zero_trust"]
    cfg = make_config([f"+calibrated={out / 'calibrated.yaml'}", "seed=1"])
    assert cfg.relationship.tc_at_zero_trust == pytest.approx(value)
    assert make_config([f"+calibrated={out / 'calibrated.yaml'}",
                        "relationship.tc_at_zero_trust=0.6"]).relationship.tc_at_zero_trust == 0.6
    report = (out / "report.md").read_text()
    assert "company_wide.market_share" in report and "default config" in report


def test_hydra_cli_reads_calibrated_yaml(tmp_path):
    calibrated = tmp_path / "calibrated.yaml"
    calibrated.write_text("relationship:\n  decay: 0.037\n")
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "sim", f"+calibrated={calibrated}", "market.n_buyers=20",
         "steps=2", f"hydra.run.dir={run}", "hydra/job_logging=none",
         "hydra/hydra_logging=none"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((run / "config.yaml").read_text())["relationship"]["decay"] == 0.037


def test_params_syntax():
    assert split_list("[relationship.decay:[0.005,0.1],buyers.memory:[0.05,0.3]]") == [
        "relationship.decay:[0.005,0.1]", "buyers.memory:[0.05,0.3]"]
    p = parse_param("sales.capacity:[4,12]")
    assert (p.key, p.low, p.high, p.integer) == ("sales.capacity", 4, 12, True)
    assert Problem((), (p,), ("steps=3",)).overrides_for([7.6]) == ("steps=3", "sales.capacity=8")


BAD = [
    (["nonsense=1"], "unknown key 'nonsense'"),
    (["params=[relationship.nope:[0,1]]"], "has no key 'nope'"),
    (["params=[relationship.decay:[0.1,0.05]]"], "low < high"),
    (["params=[relationship.decay:[0,2]]"], "decay must be a finite number in [0.0, 1.0]"),
    (["params=[buyers.name:[0,1]]"], "only numeric fields"),
    (["params=[relationship.decay]"], "expected key:[low,high]"),
    (["params=[relationship.decay:[0.01,0.1],relationship.decay:[0.02,0.2]]"], "given twice"),
    (["params=[relationship.decay:[0.01,0.1]]", "relationship.decay=0.03"], "also fixed"),
    (["params=[relationship.decay:[0.01,0.1]]", "budget=0"], "budget=0 is not allowed"),
    (["params=[relationship.decay:[0.01,0.1]]", "market.n_buyers=-5"], "market.n_buyers"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    targets = write_targets(tmp_path / "t.yaml", {"market.mean_trust": {"value": 0.4,
                                                                         "se": 0.05}})
    assert main([f"targets={targets}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]


BAD_TARGETS = [
    ({"market.mean_trust": {"value": 1.4, "se": 0.05}}, "unreachable"),
    ({"company_wide.retention": {"value": -0.1, "se": 0.05}}, "unreachable"),
    ({"hybrid.market_share": {"value": 0.3, "se": 0.05}}, "no supplier follows hybrid"),
    ({"company_wide.happiness": {"value": 0.3, "se": 0.05}}, "'happiness' is not measured"),
    ({"F1.effect": {"value": 0.3, "se": 0.05}}, "pair of markets"),
    ({"F7.ratio": {"value": 0.5, "se": 0}}, "standard error > 0"),
    ({"F7.ratio": {"value": 0.5}}, "expected {value"),
    ({"market.mean_trust": {"value": "high", "se": 0.1}}, "finite number"),
    ({}, "expected a mapping"),
]


@pytest.mark.parametrize(("targets", "message"), BAD_TARGETS)
def test_bad_targets_exit_2_and_write_nothing(tmp_path, monkeypatch, capsys, targets, message):
    monkeypatch.chdir(tmp_path)
    path = write_targets(tmp_path / "t.yaml", targets)
    out = tmp_path / "out"
    assert main([f"targets={path}", "params=[relationship.decay:[0.01,0.1]]",
                 f"out={out}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]


def test_missing_targets_file_exits_2_from_the_shell(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim.calibrate", "targets=nowhere.yaml",
                           "params=[relationship.decay:[0.01,0.1]]"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: targets=nowhere.yaml: cannot read it")
    assert list(tmp_path.iterdir()) == []


def test_sources_targets_load_with_their_parameters():
    problem = load_problem(ROOT / "configs" / "targets" / "sources.yaml")
    assert {t.name for t in problem.targets} == {"F7.ratio", "F7.cost_ratio",
                                                  "F7.share_least_trusted"}
    assert [p.key for p in problem.params] == [
        "relationship.tc_at_zero_trust", "relationship.tc_trust_slope",
        "relationship.inspection_cost"]
    with pytest.raises(CalibrationError, match="has no key 'x'"):
        load_problem(ROOT / "configs" / "targets" / "sources.yaml", ["relationship.x:[0,1]"])


def test_f7_also_is_the_cost_ratio(tmp_path):
    path = write_targets(tmp_path / "t.yaml", {"F7.also": {"value": 5, "se": 1}})
    problem = load_problem(path, ["relationship.inspection_cost:[0.05,0.5]"])
    assert problem.targets[0].name == "F7.cost_ratio"


def test_the_calibration_library_loads_only_when_fitting():
    code = ("import sys, sim, sim.calibrate.targets, sim.calibrate.fit, sim.whatif.history; "
            "from sim import make_config; make_config(['seed=1']); "
            "print('optuna' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_unreadable_calibrated_file_is_one_config_error(tmp_path):
    from sim.config import ConfigError

    with pytest.raises(ConfigError, match="cannot read"):
        make_config([f"+calibrated={tmp_path / 'missing.yaml'}"])
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a YAML mapping"):
        make_config([f"+calibrated={bad}"])
    done = subprocess.run([sys.executable, "-m", "sim", f"+calibrated={bad}"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error: +calibrated=")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.yaml"]
