"""Determinism: same config and seed give bitwise-identical results, however they are run.

- Through the command line, twice, with the global random generators of
  Python and numpy seeded differently and a different ``PYTHONHASHSEED``:
  byte-identical ``steps.parquet`` and ``summary.json``.
- ``collect_every=1`` vs ``collect_every=10``: identical rows at the common
  steps, identical summary (the summary averages every step of its window,
  collected or not).
- No module draws from global random state, and every stream of a run comes
  from its seed (``numpy.random.default_rng(seed)``, i.e. a ``SeedSequence``).

- Alone, in a 1-job sweep and in a 2-job joblib sweep: byte-identical files.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim import RelationshipModel, make_config
from sim.network import word_of_mouth_graph
from sim.tasks import run_name

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["market.n_buyers=120", "steps=40", "scenario=price_war", "scenario.events.0.t=20"]

#: ``python -m sim`` after seeding the global generators from argv[1] (the run's own seed
#: is an override): if any module drew from global state, the two runs would differ
CLI_WITH_GLOBAL_SEED = """
import random, sys
import numpy
random.seed(int(sys.argv[1])); numpy.random.seed(int(sys.argv[1]))
sys.argv = ["sim", *sys.argv[2:]]
from sim.__main__ import main
main()
"""


def _cli(out: Path, global_seed: int) -> None:
    env = {**os.environ, "PYTHONHASHSEED": str(global_seed)}
    proc = subprocess.run(
        [sys.executable, "-c", CLI_WITH_GLOBAL_SEED, str(global_seed), *SMALL, "seed=11",
         "engine=vector", f"hydra.run.dir={out}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def test_alone_one_job_and_two_job_sweeps_give_identical_files(tmp_path):
    def sim(*args: str) -> None:
        proc = subprocess.run([sys.executable, "-m", "sim", *args, *SMALL], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr

    for seed in (3, 4):
        sim(f"seed={seed}", f"hydra.run.dir={tmp_path / f'alone{seed}'}")
    for jobs in (1, 2):
        sim("-m", "seed=3,4", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={jobs}",
            f"hydra.sweep.dir={tmp_path / f'jobs{jobs}'}")
    for seed in (3, 4):
        alone = tmp_path / f"alone{seed}"
        for jobs in (1, 2):
            run = tmp_path / f"jobs{jobs}" / run_name([f"seed={seed}", *SMALL])
            assert (run / "summary.json").read_bytes() == (alone / "summary.json").read_bytes()
            # the same rows; only the run column differs: the run's folder name
            pd.testing.assert_frame_equal(
                pd.read_parquet(run / "steps.parquet").drop(columns="run"),
                pd.read_parquet(alone / "steps.parquet").drop(columns="run"))


def test_cli_runs_are_byte_identical_whatever_the_global_state(tmp_path):
    _cli(tmp_path / "a", global_seed=1)
    _cli(tmp_path / "b", global_seed=987_654)
    for name in ("summary.json", "config.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    steps = [pq.read_table(tmp_path / run / "steps.parquet") for run in ("a", "b")]
    assert steps[0].column("run").to_pylist() != steps[1].column("run").to_pylist()  # folders
    assert steps[0].drop_columns("run").equals(steps[1].drop_columns("run"))
    assert steps[0].schema.metadata == steps[1].schema.metadata


def _run(overrides: list[str]) -> RelationshipModel:
    cfg = make_config(overrides)
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    return model


@pytest.mark.parametrize("engine", ["vector", "agent"])
def test_collect_every_does_not_change_results_or_summary(engine):
    overrides = [*SMALL, "market.n_buyers=80", "seed=3", f"engine={engine}"]
    every = _run([*overrides, "collect_every=1"])
    tenth = _run([*overrides, "collect_every=10"])
    a, b = every.supplier_frame(), tenth.supplier_frame()
    assert sorted(b["step"].unique()) == [0, 10, 20, 30, 40]
    common = a[a["step"].isin(b["step"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(common, b, check_exact=True)
    assert json.dumps(every.summary()) == json.dumps(tenth.summary())
    assert every.summary()["window"] == [33, 40]  # every step of the window, not 40 alone
    for name in vars(every.ties):
        np.testing.assert_array_equal(getattr(every.ties, name), getattr(tenth.ties, name))


def _global_state() -> tuple:
    """Python's global generator state and numpy's legacy global MT19937 key and position."""
    _, key, pos, *_ = np.random.get_state()  # noqa: NPY002 - the global state is the subject
    return random.getstate(), key.copy(), pos


def test_no_module_draws_from_global_random_state():
    random.seed(5)
    np.random.seed(5)  # noqa: NPY002
    py_before, key_before, pos_before = _global_state()
    model = _run([*SMALL, "engine=agent", "network=barabasi_albert", "seed=2"])
    py_after, key_after, pos_after = _global_state()
    assert py_before == py_after
    assert pos_before == pos_after and np.array_equal(key_before, key_after)
    random.seed(6)
    np.random.seed(6)  # noqa: NPY002
    again = _run([*SMALL, "engine=agent", "network=barabasi_albert", "seed=2"])
    assert json.dumps(model.summary()) == json.dumps(again.summary())


def test_every_stream_comes_from_the_seed():
    cfg = make_config([*SMALL, "seed=42"])
    model = RelationshipModel(cfg)
    # numpy: default_rng(seed) = PCG64(SeedSequence(seed)); Python: random.Random(seed)
    assert model.rng.bit_generator.seed_seq.entropy == 42
    assert model._seed == 42
    # the word-of-mouth graph is seeded from the model's generator, so from the seed
    other = RelationshipModel(make_config([*SMALL, "seed=43"]))
    assert sorted(model.grid.G.edges()) != sorted(other.grid.G.edges())
    assert model.grid.G.number_of_nodes() == cfg.market.n_buyers
    rebuilt = RelationshipModel(make_config([*SMALL, "seed=42"]))
    assert sorted(model.grid.G.edges()) == sorted(rebuilt.grid.G.edges())
    assert rebuilt.rng.bit_generator.state == model.rng.bit_generator.state


def test_graph_seed_fixes_the_graph():
    cfg = make_config(SMALL).network
    a = word_of_mouth_graph(100, cfg, seed=7)
    assert sorted(a.edges()) == sorted(word_of_mouth_graph(100, cfg, seed=7).edges())
    assert sorted(a.edges()) != sorted(word_of_mouth_graph(100, cfg, seed=8).edges())
