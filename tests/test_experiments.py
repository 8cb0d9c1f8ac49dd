"""Named experiments and resumable sweeps (issue 4): specs, end to end, resume, failures,
reports, the submitit launcher and sensitivity designs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from sim import design, experiments, load_results
from sim.api import CONFIG_DIR
from sim.config import ConfigError, register_configs
from sim.report import mean_ci, report
from sim.results import manifest, now, write_run
from sim.sweep import check_cells, job_overrides, register_resolvers
from sim.tasks import run_name
from tests.conftest import sweep_in_process

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("strategy_comparison", "salesperson_turnover", "buyer_stance",
               "silence_and_monitoring", "share_of_wallet", "wkh_transition", "sensitivity",
               "coevolution")
TINY = ("steps=12", "market.n_buyers=60")


def sim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def hydra_config(*overrides: str):
    register_configs()
    register_resolvers()
    experiments.register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=True)


def only_sweep(root: Path) -> Path:
    (folder,) = [p.parent for p in root.glob("results/*/*/sweep.json")]
    return folder


def runs_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


# ---------------------------------------------------------------- specs


def test_the_eight_experiments_are_registered():
    assert set(EXPERIMENTS) <= set(experiments.names())
    for name in EXPERIMENTS:
        assert (ROOT / "experiments" / name / "README.md").is_file(), name
        assert experiments.analysis(name) is not None, name


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_cell_of_every_experiment_is_a_valid_config(name):
    cfg = hydra_config(f"+experiment={name}")
    jobs = job_overrides(cfg)
    assert jobs and len(jobs) == len({tuple(sorted(j)) for j in jobs})  # no duplicate runs
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        check_cells(jobs)  # raises ConfigError for a bad cell
    assert str(cfg.hydra.launcher._target_).endswith("JoblibLauncher")  # all local cores
    assert f"/{name}/" in str(cfg.hydra.sweep.dir).replace("\\", "/") + "/"


def test_seeds_override_sets_the_seeds_per_cell():
    ten = job_overrides(hydra_config("+experiment=strategy_comparison"))
    three = job_overrides(hydra_config("+experiment=strategy_comparison", "seeds=3"))
    assert len(ten) == 5 * 10 and len(three) == 5 * 3
    assert {o for j in three for o in j if o.startswith("seed=")} == {"seed=0", "seed=1",
                                                                       "seed=2"}


def test_a_bad_cell_stops_the_sweep_before_anything_is_written(tmp_path):
    proc = sim("-m", "+experiment=strategy_comparison", "seeds=1", "buyers.needs_breadth=0.5,1.5",
               *TINY, cwd=tmp_path)
    assert proc.returncode == 2
    assert "buyers.needs_breadth=1.5" in proc.stderr and "[0.0, 1.0]" in proc.stderr
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------- end to end


def test_tiny_experiment_end_to_end(tmp_path):
    proc = sim("-m", "+experiment=strategy_comparison", "seeds=2", *TINY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = only_sweep(tmp_path)
    assert folder.parent.name == "strategy_comparison"
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["total"] == info["complete"] == 10
    assert info["failed"] == [] and info["experiment"] == "strategy_comparison"
    assert len(runs_of(folder)) == 10
    runs = load_results(folder)
    assert len(runs) == 10 * 3  # runs × strategies (three_way)
    assert sorted(runs["buyers.needs_breadth"].unique()) == [0.1, 0.3, 0.5, 0.7, 0.9]
    for name in ("report.md", "runs.parquet", "cells.parquet", "outcomes.png",
                 "timeseries.png", "gaps.png"):
        assert (folder / name).stat().st_size > 0, name
    text = (folder / "report.md").read_text()
    assert "## strategy_comparison" in text and "crossover breadth" in text


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", "-m", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def test_sigkilled_sweep_resumes_without_losing_or_duplicating_runs(tmp_path):
    args = ("seed=range(0,12)", "market.n_buyers=300", "steps=60", "hydra.launcher.n_jobs=2",
            "hydra/launcher=joblib")
    killed, fresh = tmp_path / "killed", tmp_path / "fresh"
    killed.mkdir()
    fresh.mkdir()
    proc = _start(killed, *args)
    deadline = time.monotonic() + 240
    done: list[Path] = []
    while time.monotonic() < deadline and len(done) < 2:
        done = list(killed.glob("results/sweeps/*/*/manifest.json"))
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    folder = only_sweep(killed)
    before = {p.parent.name: p.read_text() for p in folder.glob("*/manifest.json")}
    assert 2 <= len(before) < 12, "the sweep was not interrupted mid-way"
    assert json.loads((folder / "sweep.json").read_text())["status"] == "running"

    again = sim("-m", *args, cwd=killed)
    assert again.returncode == 0, again.stderr
    assert only_sweep(killed) == folder  # the same folder is found again
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 12 and info["attempts"] == 2
    assert [p.name for p in runs_of(folder)] == sorted(
        run_name(["market.n_buyers=300", f"seed={k}", "steps=60"]) for k in range(12))
    for name, text in before.items():  # finished runs were skipped, not run again
        assert (folder / name / "manifest.json").read_text() == text

    assert sim("-m", *args, cwd=fresh).returncode == 0
    uninterrupted = only_sweep(fresh)
    for run in runs_of(folder):
        assert (run / "summary.json").read_bytes() == (
            uninterrupted / run.name / "summary.json").read_bytes()
        pd.testing.assert_frame_equal(pd.read_parquet(run / "steps.parquet"),
                                      pd.read_parquet(uninterrupted / run.name / "steps.parquet"))


def test_a_run_that_raises_is_recorded_and_the_rest_finish(tmp_path, monkeypatch):
    from sim.model import RelationshipModel

    run_for = RelationshipModel.run_for

    def broken(self, steps):
        if self.cfg.seed == 1:
            raise FloatingPointError("deliberately invalid state")
        return run_for(self, steps)

    monkeypatch.setattr(RelationshipModel, "run_for", broken)
    assert sweep_in_process(tmp_path, monkeypatch, ["seed=0,1,2", *TINY]) == 1
    folder = only_sweep(tmp_path)
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "failed" and info["complete"] == 2
    (failure,) = info["failed"]
    assert failure["run"] == run_name(["seed=1", *TINY])
    assert "FloatingPointError: deliberately invalid state" in failure["error"]
    assert "Traceback" in failure["traceback"] and "broken" in failure["traceback"]
    assert sorted(load_results(folder)["seed"].unique()) == [0, 2]


@pytest.mark.parametrize("launcher", ["submitit_local"])
def test_submitit_launcher_runs_a_sweep(tmp_path, launcher):
    proc = sim("-m", "seed=0,1", *TINY, f"hydra/launcher={launcher}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = only_sweep(tmp_path)
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 2
    assert info["launcher"].endswith("LocalLauncher")
    assert sorted(load_results(folder)["seed"].unique()) == [0, 1]


# ---------------------------------------------------------------- report on a fixture


def _fixture_sweep(folder: Path) -> pd.DataFrame:
    """A sweep of 2 breadths × 3 seeds with known outcomes, written as run folders."""
    rows = []
    rng = np.random.default_rng(0)
    for breadth in (0.2, 0.8):
        for seed in range(3):
            outcomes = {s: {"market_share": float(rng.random()), "profit": float(rng.normal())}
                        for s in ("company_wide", "lone_seller")}
            steps = pd.DataFrame([{"step": t, "supplier": j, "strategy": s, "mean_trust": 0.1 * t,
                                   "loyalty_person": 0.0, "loyalty_firm": 1.0,
                                   **outcomes[s]}
                                  for t in (1, 2) for j, s in enumerate(outcomes)])
            summary = {"steps": 2, "window": [2, 2], "strategies": outcomes, "suppliers": []}
            overrides = [f"buyers.needs_breadth={breadth}", f"seed={seed}"]
            write_run(folder / ",".join(overrides), "seed: 0\n", steps, summary,
                      manifest(seed, now(), now(), overrides=overrides))
            rows += [{"breadth": breadth, "strategy": s, **v} for s, v in outcomes.items()]
    (folder / "unfinished").mkdir()  # an interrupted run: no manifest, ignored
    return pd.DataFrame(rows)


def test_report_on_a_fixture_sweep(tmp_path):
    truth = _fixture_sweep(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "sim.report", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cells = pd.read_parquet(tmp_path / "cells.parquet")
    row = cells[(cells["buyers.needs_breadth"] == 0.8) & (cells["strategy"] == "lone_seller")
                & (cells["outcome"] == "profit")].iloc[0]
    expect = mean_ci(truth[(truth["breadth"] == 0.8) & (truth["strategy"] == "lone_seller")]
                     ["profit"])
    assert (row["mean"], row["ci_low"], row["ci_high"], row["n"]) == pytest.approx(expect)
    assert len(pd.read_parquet(tmp_path / "runs.parquet")) == 12  # 6 runs × 2 strategies
    text = (tmp_path / "report.md").read_text()
    assert "Swept: buyers.needs_breadth" in text and f"{expect[0]:.3g}" in text
    for name in ("outcomes.png", "timeseries.png"):
        assert (tmp_path / name).stat().st_size > 5_000


def test_report_without_runs_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no complete runs"):
        report(tmp_path)


# ---------------------------------------------------------------- sensitivity designs


LINEAR = {"method": "sobol", "samples": 256, "seed": 1,
          "parameters": {"buyers.needs_breadth": [0.0, 1.0], "market.noise": [0.0, 1.0]}}


def test_sobol_indices_of_a_known_linear_function():
    x = design.matrix("sobol", 256, LINEAR["parameters"], 1)
    assert len(x) == design.rows(LINEAR) == 256 * 4
    y = pd.Series(4 * x[:, 0] + x[:, 1])  # variance shares 16/17 and 1/17
    table = design.analyse(LINEAR, y).set_index("parameter")
    assert table.loc["buyers.needs_breadth", "S1"] == pytest.approx(16 / 17, abs=0.05)
    assert table.loc["market.noise", "ST"] == pytest.approx(1 / 17, abs=0.03)
    assert (table["S1_conf"] > 0).all()
    with pytest.raises(ValueError, match="1 of 1024 design rows have no result"):
        design.analyse(LINEAR, y.drop(5))


def test_sensitivity_intervals_are_reproducible_with_seed_zero():
    spec = {**LINEAR, "seed": 0}
    y = pd.Series(design.matrix("sobol", 256, LINEAR["parameters"], 0) @ np.array([4.0, 1.0]))
    first, again = design.analyse(spec, y), design.analyse(spec, y)
    pd.testing.assert_frame_equal(first, again)


def test_design_row_sets_the_parameters_of_the_config():
    cfg = hydra_config("+experiment=sensitivity", "design.row=7")
    applied = design.apply(cfg)
    spec = cfg.design
    row = design.matrix(spec.method, spec.samples, dict(spec.parameters), spec.seed)[7]
    assert applied.buyers.needs_breadth == pytest.approx(row[0])
    assert applied.relationship.decay == pytest.approx(row[6])


@pytest.mark.parametrize(
    ("change", "message"),
    [({"method": "latin"}, "design.method='latin'"),
     ({"samples": 48}, "power of 2"),
     ({"parameters": {"buyers.needs_breadth": [0.5, 0.1], "market.noise": [0, 1]}},
      "low < high"),
     ({"parameters": {"buyers.no_such_field": [0, 1], "market.noise": [0, 1]}, "row": 0},
      "buyers.no_such_field"),
     ({"row": 10_000}, "design.row=10000")],
)
def test_bad_designs_name_the_field(change, message):
    cfg = hydra_config("+experiment=sensitivity", "design.row=0")
    bad = {**dict(cfg.design), **change}
    cfg.design = bad
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        design.apply(cfg)
