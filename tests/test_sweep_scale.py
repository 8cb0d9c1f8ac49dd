"""Sweeps at scale (issue 19) and faults in sweeps (issue 20): tasks of K runs, resume that
submits only what is missing, short run names, unique sweep folders, a failed error.json
write, SIGTERM, and the sweep's steps as one dataset for pyarrow, polars and duckdb."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf, open_dict

from sim import load_results, sweep, tasks
from sim.results import COUNTS, UNITS, steps_files
from sim.tasks import TASKS, run_name
from tests.conftest import sweep_in_process

ROOT = Path(__file__).resolve().parents[1]
TINY = ("steps=12", "market.n_buyers=60")
#: Six strategy fields at once: named by the overrides, this run's folder name was too long.
SIX = ("strategy.company_wide.coordination=0.85", "strategy.company_wide.person_share=0.25",
       "strategy.company_wide.cross_functional_rate=0.2",
       "strategy.company_wide.dependency_investment=0.04",
       "strategy.company_wide.complaint_handling=0.7",
       "strategy.company_wide.overhead_per_account=0.09")
SEEDS = "seed=range(0,6)"


def sim(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def tasks_of(folder: Path, attempt: int) -> list[list[str]]:
    """The run names of each task of one attempt, from its runs.json files."""
    return [[r["name"] for r in json.loads((t / "runs.json").read_text())]
            for t in sorted((folder / TASKS).glob(f"{attempt:03d}-*"))]


@pytest.fixture(scope="module")
def batched(tmp_path_factory) -> dict[int, Path]:
    """The same 6-run sweep with one run per task and with four runs per task (the sweeper's
    own key, and the top-level key of the command line)."""
    root = tmp_path_factory.mktemp("batched")
    folders = {}
    for k, key in ((1, "hydra.sweeper.runs_per_task"), (4, "sweep.runs_per_task")):
        folder = root / f"k{k}"
        proc = sim("-m", SEEDS, *TINY, *SIX, f"hydra.sweep.dir={folder}", f"{key}={k}",
                   "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", cwd=root)
        assert proc.returncode == 0, proc.stderr
        folders[k] = folder
    return folders


def test_runs_per_task_batches_runs_and_changes_no_result(batched):
    one, four = batched[1], batched[4]
    assert [len(t) for t in tasks_of(one, 1)] == [1] * 6
    assert [len(t) for t in tasks_of(four, 1)] == [4, 2]
    names = sorted(run_name([f"seed={s}", *TINY, *SIX]) for s in range(6))
    assert sorted(p.parent.name for p in one.glob("*/manifest.json")) == names
    for name in names:
        assert len(name) == 10  # six swept fields, still a short folder name
        assert (one / name / "summary.json").read_bytes() == \
            (four / name / "summary.json").read_bytes()
        assert (one / name / "steps.parquet").read_bytes() == \
            (four / name / "steps.parquet").read_bytes()
    info = json.loads((four / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 6 and info["missing"] == 0


def test_resume_submits_only_the_runs_that_are_not_complete(batched, tmp_path):
    folder = tmp_path / "sweep"
    subprocess.run(["cp", "-a", str(batched[4]), str(folder)], check=True)
    lost = sorted(p.parent for p in folder.glob("*/manifest.json"))[:3]
    for run in lost:
        (run / "manifest.json").unlink()  # as if killed before the run finished
    kept = {p.parent.name: p.read_bytes() for p in folder.glob("*/manifest.json")}
    proc = sim("-m", SEEDS, *TINY, *SIX, f"hydra.sweep.dir={folder}",
               "hydra.sweeper.runs_per_task=2", "hydra/launcher=joblib", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(n for t in tasks_of(folder, 2) for n in t) == sorted(r.name for r in lost)
    assert [len(t) for t in tasks_of(folder, 2)] == [2, 1]
    for name, data in kept.items():  # complete runs were not submitted, not rewritten
        assert (folder / name / "manifest.json").read_bytes() == data
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 6 and info["attempts"] == 2


def test_the_steps_of_a_sweep_are_one_dataset_for_pyarrow_polars_and_duckdb(batched):
    import duckdb
    import polars as pl

    folder = batched[4]
    table = ds.dataset(steps_files(folder)).to_table()
    frame = pl.scan_parquet(f"{folder}/*/steps.parquet").collect()
    count, runs, seeds = duckdb.sql(
        f"SELECT count(*), count(DISTINCT run), count(DISTINCT seed) "
        f"FROM '{folder}/*/steps.parquet'").fetchall()[0]
    assert table.num_rows == frame.height == count == 6 * (12 + 1) * 4  # runs, steps, suppliers
    assert runs == 6 and seeds == 6
    for name in ("run", "seed", *(o.partition("=")[0] for o in SIX), *COUNTS):
        assert name in table.column_names and name in frame.columns, name
    schema = table.schema
    assert all(schema.field(c).type == "int64" for c in COUNTS)
    assert schema.field("strategy.company_wide.coordination").type == "double"
    units = json.loads(pq.read_schema(steps_files(folder)[0]).metadata[b"units"])
    assert units["profit"] == UNITS["profit"] and units["accounts"] == "buyers"
    joined = duckdb.sql(f"""SELECT count(*) FROM '{folder}/*/steps.parquet' s
        JOIN '{folder}/runs.parquet' r USING (run, seed, strategy)""").fetchall()[0][0]
    assert joined == count  # runs.parquet and the steps share run, seed and strategy


def test_sweep_folders_differ_per_command_within_one_second(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fixed = pd.Timestamp("2026-01-01T00:00:00", tz="UTC").to_pydatetime()
    monkeypatch.setattr(sweep, "now", lambda: fixed)
    a, b = (sweep.sweep_dir("sweeps", _root_=OmegaConf.create(
        {"hydra": {"overrides": {"task": overrides}}})) for overrides in (["seed=1"], ["seed=2"]))
    assert a != b and Path(a).is_absolute() and Path(a).parent == Path(b).parent


def test_a_failed_error_json_write_does_not_stop_the_sweep(tmp_path, monkeypatch):
    """A run fails on a disk that is full by then: its error.json cannot be written either.
    The other runs go on; the failed one is recorded in sweep.json; exit status 1."""
    import sim.__main__ as cli
    from sim.model import RelationshipModel
    from sim.results import write_json

    run_for = RelationshipModel.run_for

    def broken(self, steps):
        if self.cfg.seed == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return run_for(self, steps)

    def no_space(path, obj):
        if Path(path).name == "error.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        write_json(path, obj)

    monkeypatch.setattr(RelationshipModel, "run_for", broken)
    monkeypatch.setattr(cli, "write_json", no_space)
    monkeypatch.setattr(sweep, "write_json", no_space)
    assert sweep_in_process(tmp_path, monkeypatch, ["seed=0,1,2", *TINY]) == 1
    (folder,) = [p.parent for p in tmp_path.glob("results/sweeps/*/sweep.json")]
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "failed" and info["complete"] == 2 and info["missing"] == 0
    (failure,) = info["failed"]
    assert failure["run"] == run_name(["seed=1", *TINY])
    assert "No space left on device" in failure["error"]
    assert not (folder / failure["run"] / "error.json").exists()
    assert sorted(load_results(folder)["seed"].unique()) == [0, 2]


def test_sigterm_marks_the_sweep_interrupted_with_the_command_to_resume(tmp_path):
    args = ("-m", "seed=range(0,8)", "market.n_buyers=300", "steps=60",
            "hydra/launcher=joblib", "hydra.launcher.n_jobs=1")
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(tmp_path.glob("results/*/*/*/manifest.json")):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    (folder,) = [p.parent for p in tmp_path.glob("results/sweeps/*/sweep.json")]
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "interrupted" and 1 <= info["complete"] < 8
    assert info["resume"] == "python -m sim " + " ".join(args[:1] + (
        "'seed=range(0,8)'",) + args[2:])
    assert "resume with:" in err and info["resume"] in err
    assert "Traceback" not in err
    if os.environ.get("CI") == "true":  # resuming finishes the sweep in the same folder
        again = sim(*args, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert json.loads((folder / "sweep.json").read_text())["status"] == "complete"


def test_sigterm_during_a_runs_composition_still_interrupts(tmp_path, monkeypatch):
    """SIGTERM can reach the launching process while Hydra composes a run's config in it
    (basic launcher, joblib with one job); Hydra wraps the handler's exception in a
    ConfigCompositionException. The sweep must still stop as interrupted, not record the
    remaining runs as failed."""
    from hydra.errors import ConfigCompositionException

    compose, calls = tasks.RunConfigs.__call__, []

    def interrupted_second(self, overrides, name):
        calls.append(name)
        if len(calls) == 2:
            try:
                signal.raise_signal(signal.SIGTERM)
            except BaseException as err:  # as Hydra's composition does
                raise ConfigCompositionException("") from err
        return compose(self, overrides, name)

    monkeypatch.setattr(tasks.RunConfigs, "__call__", interrupted_second)
    status = sweep_in_process(tmp_path, monkeypatch, ["seed=range(0,4)", *TINY,
                                                      "hydra.sweeper.runs_per_task=4"])
    assert status == 128 + signal.SIGTERM
    (folder,) = [p.parent for p in tmp_path.glob("results/sweeps/*/sweep.json")]
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "interrupted" and info["complete"] == 1
    assert not info.get("failed"), info.get("failed")
    assert len(calls) == 2  # no run composed after the signal


def test_tasks_hold_runs_per_task_runs_and_reject_zero():
    runs = tasks.plan([[f"seed={s}"] for s in range(7)])
    assert [len(b) for b in tasks.batches(runs, 3)] == [3, 3, 1]
    assert [r for b in tasks.batches(runs, 3) for r in b] == runs
    with pytest.raises(ValueError, match=r"runs_per_task=0 .*expected an integer >= 1"):
        tasks.batches(runs, 0)


def test_runs_of_a_task_still_queued_in_slurm_are_not_launched_again(tmp_path, monkeypatch):
    runs = tasks.plan([[f"seed={s}"] for s in range(6)])
    names = tasks.write_tasks(tmp_path, 1, tasks.batches(runs, 2))
    tasks.record_jobs(tmp_path, names, ["41_0", "41_1", "41_2"], "slurm")
    asked: list[list[str]] = []

    def squeue(job_ids):
        asked.append(sorted(job_ids))
        return {"41_1"}  # still pending or running; 41_0 and 41_2 are gone

    monkeypatch.setattr(tasks, "slurm_active", squeue)
    todo, busy = tasks.pending(tmp_path, runs)
    assert asked == [["41_0", "41_1", "41_2"]]
    assert busy == runs[2:4] and todo == runs[:2] + runs[4:]


@pytest.mark.parametrize("overrides", [
    ["seed=3", *TINY],
    ["buyers=adversarial", "market.uncertainty=0.15", "seed=1", "+experiment=buyer_stance",
     "seeds=2", *TINY],
    ["design.row=5", "seed=0", "+experiment=sensitivity", "design.samples=2", *TINY],
    [*SIX, "strategy=company_wide", "seed=2"],
])
def test_a_run_config_is_hydras_own_composition(overrides, tmp_path):
    """RunConfigs composes the groups once and applies the rest: the same config and the same
    hydra node as Hydra's load_sweep_config of the run's overrides, with the job id and
    output folder that the task used to set afterwards."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim import experiments
    from sim.api import CONFIG_DIR
    from sim.config import register_configs

    register_configs()
    sweep.register_resolvers()
    experiments.register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config", [f"hydra.sweep.dir={tmp_path}", "hydra.mode=MULTIRUN"], RunMode.MULTIRUN)
        name = run_name(overrides)
        expected = loader.load_sweep_config(
            master, [*overrides, f"hydra.sweep.subdir={name}", "hydra.output_subdir=null"])
        with open_dict(expected):
            expected.hydra.job.id = name
            expected.hydra.runtime.output_dir = str(tmp_path / name)
        configs = tasks.RunConfigs(loader, master)
        configs(["seed=99", *overrides[1:]], "other")  # a run before it, sharing the groups
        got, hydra = configs(overrides, name)
        # in a task, the task's own composition (no group chosen) is reused
        task = loader.load_sweep_config(master, ["hydra.sweep.subdir=.tasks/001-000000",
                                                 "hydra.output_subdir=null"])
        previous = HydraConfig.instance().cfg
        HydraConfig.instance().set_config(task)
        try:
            task_cfg = OmegaConf.masked_copy(task, [k for k in task if k != "hydra"])
            in_task = tasks.RunConfigs(loader, master)
            in_task.bases[()] = in_task.base(tasks._job_config(task_cfg))
            seeded = in_task(overrides, name).config
        finally:
            HydraConfig.instance().cfg = previous
    assert OmegaConf.to_container(expected) == OmegaConf.to_container(got) == \
        OmegaConf.to_container(seeded)
    assert OmegaConf.to_container(hydra) == {"hydra": OmegaConf.to_container(expected.hydra)}
    assert OmegaConf.to_yaml({k: v for k, v in expected.items() if k != "hydra"},
                             resolve=True) == \
        OmegaConf.to_yaml({k: v for k, v in got.items() if k != "hydra"}, resolve=True)


def test_the_hydra_node_shared_by_runs_resolves_against_each_run(tmp_path):
    """The runs of one choice of groups share HydraConfig's node (no copy per run): its
    per-run fields and an interpolation into the run's config (``${seed}``) are each run's
    own while that run runs, as with Hydra's own node; a run that overrides a ``hydra.``
    key gets a node of its own and leaves the shared one as it was."""
    from hydra import initialize_config_dir
    from hydra._internal.callbacks import Callbacks
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobStatus
    from hydra.types import HydraContext, RunMode

    from sim import experiments
    from sim.api import CONFIG_DIR
    from sim.config import register_configs

    register_configs()
    sweep.register_resolvers()
    experiments.register()
    seen: list[tuple[str, str, str]] = []

    def task_function(cfg):
        hc = HydraConfig.get()
        seen.append((hc.job.id, hc.job.env_set.SEED, str(cfg.seed)))

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config", [f"hydra.sweep.dir={tmp_path}", "hydra.mode=MULTIRUN",
                       "+hydra.job.env_set.SEED='${seed}'"], RunMode.MULTIRUN)
        configs = tasks.RunConfigs(loader, master)
        batch = tasks.RunBatch(task_function, master, HydraContext(loader, Callbacks()))
        for seed, extra in ((1, []), (2, []), (3, ["hydra.job.env_set.SEED=own"]), (4, [])):
            ret = batch.job(*configs([f"seed={seed}", *TINY, *extra], f"run{seed}"))
            assert ret.status == JobStatus.COMPLETED, ret._return_value
    assert seen == [("run1", "1", "1"), ("run2", "2", "2"), ("run3", "own", "3"),
                    ("run4", "4", "4")]
    assert len({id(configs(["seed=5", *TINY], "a").hydra),
                id(configs(["seed=6", *TINY], "b").hydra)}) == 1
    assert configs(["seed=7", *TINY, "hydra.job.env_set.SEED=x"], "c").hydra is None


def test_a_run_of_a_sweep_records_the_sweeps_command_line(batched):
    """Each run's manifest: argv is the launching command (the workers' own is worker_argv
    where it differs, as on SLURM or Ray), and the CPU time of its simulation."""
    folder = batched[4]
    for path in folder.glob("*/manifest.json"):
        meta = json.loads(path.read_text())
        assert 0 < meta["cpu_seconds"] < meta["seconds"] + 0.1
        argv = meta["argv"]
        assert argv[0].endswith(os.path.join("sim", "__main__.py"))
        assert argv[1:] == ["-m", SEEDS, *TINY, *SIX, f"hydra.sweep.dir={folder}",
                            "sweep.runs_per_task=4", "hydra/launcher=joblib",
                            "hydra.launcher.n_jobs=2"]


def test_the_manifest_labels_the_sweeps_command_and_the_workers():
    from datetime import UTC, datetime

    from sim.results import SWEEP_ARGV, manifest

    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert manifest(0, when, when)["argv"] == sys.argv and \
        "worker_argv" not in manifest(0, when, when)
    token = SWEEP_ARGV.set(["sim/__main__.py", "-m", "seed=range(0,10)"])
    try:
        meta = manifest(0, when, when)
    finally:
        SWEEP_ARGV.reset(token)
    assert meta["argv"] == ["sim/__main__.py", "-m", "seed=range(0,10)"]
    assert meta["worker_argv"] == sys.argv


def test_sweep_options_are_top_level_keys_of_the_command_line():
    from sim.__main__ import sweep_options

    assert sweep_options(["-m", "seed=range(0,9)", "sweep.runs_per_task=10",
                          "sweep.max_array=500", "steps=5"]) == \
        ["-m", "seed=range(0,9)", "hydra.sweeper.runs_per_task=10",
         "hydra.sweeper.max_array=500", "steps=5"]


def test_max_array_caps_the_tasks_of_each_launch(tmp_path, monkeypatch):
    assert tasks.launches([f"t{k}" for k in range(5)], 2) == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    with pytest.raises(ValueError, match=r"max_array=0 .*expected an integer >= 1"):
        tasks.launches(["t0"], 0)
    assert sweep_in_process(tmp_path, monkeypatch, ["seed=range(0,5)", *TINY,
                                                    "hydra.sweeper.max_array=2"]) == 0
    (folder,) = [p.parent for p in tmp_path.glob("results/sweeps/*/sweep.json")]
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 5
    assert len(list((folder / TASKS).glob("001-*"))) == 5  # five tasks, in three launches


@pytest.fixture(scope="module")
def stance(tmp_path_factory) -> Path:
    """A tiny buyer_stance sweep: two stances × three uncertainties, one seed."""
    root = tmp_path_factory.mktemp("stance")
    proc = sim("-m", "+experiment=buyer_stance", "seeds=1", *TINY,
               f"hydra.sweep.dir={root / 'sweep'}", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return root / "sweep"


def test_buyer_stance_reads_one_run_at_a_time_and_gives_the_in_memory_table(stance,
                                                                            monkeypatch):
    import sim.report
    from sim import experiments, load_steps

    per_run = experiments.analysis("buyer_stance").__globals__["per_run"]
    runs = load_results(stance)
    reads: list[int] = []
    read_parquet = sim.report.read_parquet

    def counting(path, columns=None):
        frame = read_parquet(path, columns)
        reads.append(len(frame))
        return frame

    monkeypatch.setattr(sim.report, "read_parquet", counting)
    got = per_run(stance, runs, 60)
    assert len(reads) == 6 and max(reads) == (12 + 1) * 4  # one run's rows per read
    steps = load_steps(stance).merge(runs[["run", "buyers", "market.uncertainty"]]
                                     .drop_duplicates("run"), on="run")
    steps["product"] = steps["revenue"] - steps["service_revenue"]  # revenue has service lines
    steps["volume"] = steps["product"] / steps["unit_price"]
    early = steps[steps["step"] <= 10].groupby("run")[["product", "volume"]].sum()
    expected = pd.DataFrame({
        "run": early.index,
        "early_price": (early["product"] / early["volume"]).to_numpy(),
        "value_per_buyer": (steps.groupby("run")["buyer_value"].sum() / 60).to_numpy()})
    pd.testing.assert_frame_equal(got[["run", "early_price", "value_per_buyer"]], expected)
    assert set(zip(got["buyers"], got["market.uncertainty"], strict=True)) == {
        (b, u) for b in ("adversarial", "partnership") for u in (0.0, 0.15, 0.3)}


def test_an_unreadable_steps_file_is_left_out_of_a_streamed_analysis(stance, tmp_path):
    from sim.report import run_steps
    from sim.results import ResultsWarning

    folder = tmp_path / "sweep"
    subprocess.run(["cp", "-a", str(stance), str(folder)], check=True)
    runs = load_results(folder)
    broken = sorted(runs["run"].unique())[2]
    (folder / broken / "steps.parquet").write_bytes(b"not parquet")
    with pytest.warns(ResultsWarning, match=f"run skipped in the test.*{broken}"):
        names = [run for run, _ in run_steps(folder, runs, ["step"], "the test")]
    assert names == [r for r in sorted(runs["run"].unique()) if r != broken]


def test_the_local_dask_clusters_settings_are_dasks_own_keys():
    """A misspelt key would be ignored silently, and the dashboard's checks would run."""
    import dask
    import distributed  # noqa: F401  (loads distributed's defaults into dask.config)

    from hydra_plugins.sim_launcher.distributed import LOCAL_DASK_CONFIG

    for key, value in LOCAL_DASK_CONFIG.items():
        assert type(dask.config.get(key)) is type(value), key


def test_the_command_line_as_typed_is_the_one_hydra_was_given(monkeypatch):
    """cli() keeps the typed command (sweep.runs_per_task) for manifests and the resume
    command; a process whose sys.argv is another (a later run, a worker) has its own."""
    from sim.results import TYPED_ARGV, command_line

    typed = ["sim/__main__.py", "-m", "seed=range(0,4)", "sweep.runs_per_task=2"]
    given = ["sim/__main__.py", "-m", "seed=range(0,4)", "hydra.sweeper.runs_per_task=2"]
    monkeypatch.setitem(TYPED_ARGV, tuple(given), typed)
    monkeypatch.setattr(sys, "argv", given)
    assert command_line() == typed
    monkeypatch.setattr(sys, "argv", ["worker.py"])
    assert command_line() == ["worker.py"]


@pytest.mark.parametrize("name", ["1234e56789", "0000000001"])
def test_a_run_name_that_reads_as_a_number_stays_the_folder_name(name, tmp_path, monkeypatch):
    """Run names are 10 hex digits; some read as numbers (``1234e56789`` as 1.234e+56792,
    i.e. inf): the folder must still be the name, and the only run folder."""
    monkeypatch.setattr(tasks, "run_name", lambda overrides: name)
    assert sweep_in_process(tmp_path, monkeypatch, ["seed=0", *TINY]) == 0
    (folder,) = [p.parent for p in tmp_path.glob("results/sweeps/*/sweep.json")]
    assert (folder / name / "summary.json").is_file()
    assert sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name != TASKS) == [name]
