"""Sweeps on real schedulers (issue 19): a local Dask and a local Ray cluster, and a
single-node SLURM cluster (tests/cluster/slurm_up.sh, as root). Slow: ``make test`` runs
them on CI (CI=true); the SLURM test needs root and CI=true or SIM_SLURM=1, else it skips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.tasks import TASKS

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[2]
SLURM_UP = Path(__file__).with_name("slurm_up.sh")
TINY = ("steps=12", "market.n_buyers=60")


def sim(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def summaries(folder: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(folder.glob("*/summary.json"))}


def only_sweep(root: Path) -> Path:
    (folder,) = [p.parent for p in root.glob("results/*/*/sweep.json")]
    return folder


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory) -> Path:
    """The reference: 20 tiny runs with Hydra's joblib launcher."""
    cwd = tmp_path_factory.mktemp("joblib")
    proc = sim("-m", "seed=range(0,20)", *TINY, "hydra/launcher=joblib",
               "hydra.launcher.n_jobs=2", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return only_sweep(cwd)


@pytest.mark.parametrize("backend", ["dask", "ray"])
def test_a_distributed_backend_gives_the_runs_of_joblib(backend, joblib_sweep, tmp_path):
    """Launched from tmp_path: the workers switch there, so results land below it."""
    proc = sim("-m", "seed=range(0,20)", *TINY, "hydra/launcher=distributed",
               f"hydra.launcher.backend={backend}", "hydra.launcher.n_workers=2",
               "sweep.runs_per_task=5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = only_sweep(tmp_path)
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 20
    assert info["launcher"].endswith("DistributedLauncher")
    assert len(list((folder / TASKS).glob("001-*"))) == 4
    assert summaries(folder) == summaries(joblib_sweep)
    assert_sweep_command(folder)


def assert_sweep_command(folder: Path) -> None:
    """Every run's manifest records the sweep's command line (python -m sim -m …)."""
    for path in folder.glob("*/manifest.json"):
        argv = json.loads(path.read_text())["argv"]
        assert argv[0].endswith(os.path.join("sim", "__main__.py")) and argv[1] == "-m", argv


def _slurm_wanted() -> str | None:
    """Why the SLURM test cannot run here, or None."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return "needs root (tests/cluster/slurm_up.sh installs and starts SLURM)"
    if os.environ.get("CI") != "true" and os.environ.get("SIM_SLURM") != "1":
        return "runs on CI (CI=true) or with SIM_SLURM=1: it installs SLURM with apt"
    return None


@pytest.fixture(scope="module")
def slurm() -> None:
    reason = _slurm_wanted()
    if reason:
        pytest.skip(reason)
    up = subprocess.run(["bash", str(SLURM_UP)], capture_output=True, text=True, timeout=900)
    assert up.returncode == 0, up.stdout + up.stderr


def slurm_args(*extra: str) -> tuple[str, ...]:
    return ("hydra/launcher=submitit_slurm", "hydra.launcher.timeout_min=20",
            "hydra.launcher.mem_gb=2", "hydra.launcher.cpus_per_task=1",
            "sweep.runs_per_task=5", *extra)


def sacct_states(job_ids: list[str]) -> dict[str, str]:
    out = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j",
                          ",".join(sorted({j.split("_")[0] for j in job_ids}))],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("|", 1) for line in out.splitlines() if "|" in line)


def test_a_sweep_on_slurm_gives_the_runs_of_joblib(slurm, joblib_sweep, tmp_path):
    proc = sim("-m", "seed=range(0,20)", *TINY, *slurm_args(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = only_sweep(tmp_path)
    jobs = [json.loads(p.read_text())["job_id"] for p in folder.glob(f"{TASKS}/*/job.json")]
    assert len(jobs) == 4  # 20 runs, 5 per task: one array of 4 tasks went through sbatch
    states = sacct_states(jobs)
    assert all(states.get(j, "").startswith("COMPLETED") for j in jobs), states
    assert summaries(folder) == summaries(joblib_sweep)
    assert_sweep_command(folder)
    manifest = json.loads(next(folder.glob("*/manifest.json")).read_text())
    assert "submitit" in " ".join(manifest["worker_argv"])  # the SLURM job's own command


def test_a_scancelled_task_is_recorded_as_failed_and_resume_runs_it(slurm, tmp_path):
    args = ("-m", "seed=range(0,10)", "market.n_buyers=300", "steps=60", *slurm_args())
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, jobs = time.monotonic() + 300, []
    while time.monotonic() < deadline and len(jobs) < 2:
        jobs = sorted(tmp_path.glob(f"results/*/*/{TASKS}/*/job.json"))
        time.sleep(0.05)
    assert len(jobs) == 2, "the sweep did not submit its two tasks"
    cancelled = json.loads(jobs[1].read_text())["job_id"]
    subprocess.run(["scancel", cancelled], check=True)
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 1, err
    folder = only_sweep(tmp_path)
    info = json.loads((folder / "sweep.json").read_text())
    lost = {r["name"] for r in json.loads((jobs[1].parent / "runs.json").read_text())}
    failed = {f["run"]: f for f in info["failed"]}
    assert info["status"] == "failed" and info["complete"] + len(failed) == 10
    assert failed and set(failed) <= lost
    assert all("task lost" in f["error"] for f in failed.values()), failed
    assert "Traceback" not in err or "UncompletedJobError" not in err

    again = sim(*args, cwd=tmp_path)  # resume: only the lost runs go out again
    assert again.returncode == 0, again.stderr
    info = json.loads((folder / "sweep.json").read_text())
    assert info["status"] == "complete" and info["complete"] == 10 and info["attempts"] == 2
    resubmitted = [r["name"] for p in folder.glob(f"{TASKS}/002-*/runs.json")
                   for r in json.loads(p.read_text())]
    assert sorted(resubmitted) == sorted(failed)

