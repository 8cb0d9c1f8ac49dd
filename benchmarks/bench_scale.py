"""Issue 19: sweep efficiency per launcher, the progress poll at 10,000 runs, the report's
peak memory at 10,000 runs. A table per part; JSON in benchmarks/results/scale_*.json.

    .venv/bin/python -m benchmarks.bench_scale efficiency [--runs 200] [--runs-per-task 10]
        [--launchers joblib,dask,ray,slurm]
    .venv/bin/python -m benchmarks.bench_scale overhead [--runs 20] [--runs-per-task 10]
    .venv/bin/python -m benchmarks.bench_scale poll [--runs 10000]
    .venv/bin/python -m benchmarks.bench_scale report [--runs 10000] [--experiment buyer_stance]

*Efficiency* is the share of the sweep's CPU time spent simulating: the CPU time of the
runs' simulation (build, step, summarise), as each run measured it in the thread that ran
it (``cpu_seconds`` of its manifest), over the CPU time of every process of the sweep:
the launcher and everything it started (workers, Dask's scheduler and nannies, Ray's
daemons and workers), counted by a cgroup of its own (root; every process started in it,
reaped or not) and, for ``slurm``, the SLURM daemons (slurmctld, slurmd and the job steps
it starts, slurmdbd, MariaDB, munged) moved into a second cgroup for the sweep. Without
cgroups the total is the launcher's reaped children only (plus ``sacct``'s TotalCPU on
SLURM) and is marked a lower bound. The table also shows the efficiency against the CPU
of a run simulated alone in this process (times the number of runs). ``slurm`` needs the
cluster of tests/cluster/slurm_up.sh.

*Overhead* is a task's CPU per run besides simulating, step by step: a sweep run in a
child process with the basic launcher (tasks in that process), each step of a run timed
in the thread that runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, ROOT, one_core, table, write

one_core()

DEFAULT = ("market.n_buyers=1000", "steps=150")  # the default size of the issue
LAUNCHERS = {
    "joblib": ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
    "dask": ("hydra/launcher=distributed", "hydra.launcher.backend=dask",
             "hydra.launcher.n_workers=2"),
    "ray": ("hydra/launcher=distributed", "hydra.launcher.backend=ray",
            "hydra.launcher.n_workers=2"),
    "slurm": ("hydra/launcher=submitit_slurm", "hydra.launcher.timeout_min=120",
              "hydra.launcher.mem_gb=2", "hydra.launcher.cpus_per_task=1"),
}


def run_cpu(seeds: int = 3) -> float:
    """Mean CPU seconds of one run at the default size, simulated in this process."""
    from sim import RelationshipModel, make_config

    cpu = []
    for seed in range(seeds):
        cfg = make_config([*DEFAULT, f"seed={seed}"])
        tic = time.process_time()
        model = RelationshipModel(cfg)
        model.run_for(cfg.steps)
        model.summary()
        model.supplier_frame()
        cpu.append(time.process_time() - tic)
    return sum(cpu) / len(cpu)


def slurm_cpu(folder: Path) -> float:
    """TotalCPU (seconds) of the SLURM jobs of a sweep folder's tasks, from sacct, once
    slurmdbd has recorded every one of them (it does so a few seconds after they end)."""
    ids = [json.loads(p.read_text())["job_id"] for p in folder.glob(".tasks/*/job.json")]
    total = 0.0
    for _ in range(60):
        # the array tasks by their own ids: sacct -X of an array's id reports no CPU
        out = subprocess.run(["sacct", "-n", "-P", "-o", "JobID,TotalCPU", "-j", ",".join(ids)],
                             capture_output=True, text=True, check=True).stdout
        cpu = dict(line.split("|") for line in out.splitlines() if "|" in line)
        total = sum(_seconds(cpu[job]) for job in ids if job in cpu)
        if all(_seconds(cpu.get(job, "0")) > 0 for job in ids):
            break
        time.sleep(1.0)
    return total


def _seconds(text: str) -> float:
    """sacct's [D-]HH:MM:SS(.sss) or MM:SS.sss as seconds."""
    days, _, rest = text.rpartition("-")
    parts = [float(p) for p in rest.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return (int(days) if days else 0) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2]


class CpuGroup:
    """A cgroup that counts the CPU time of every process in it and of all they start,
    whether or not anyone waits for them (daemons included): cgroup v1's ``cpuacct``
    controller, or a cgroup v2 hierarchy's ``cpu.stat``. Root only."""

    V1 = Path("/sys/fs/cgroup/cpuacct")
    V2 = Path("/sys/fs/cgroup")

    def __init__(self, name: str) -> None:
        v1 = self.V1 / "cpuacct.usage"
        root = self.V1 if v1.is_file() else self.V2
        self.v1 = root == self.V1
        self.path = root / name
        self.path.mkdir(exist_ok=True)
        self.root = root

    @classmethod
    def available(cls) -> bool:
        """True if this process may make cgroups that count CPU time."""
        if os.geteuid() != 0:
            return False
        return (cls.V1 / "cpuacct.usage").is_file() or (cls.V2 / "cgroup.controllers").is_file()

    def add(self, pid: int) -> None:
        """Move a process (and so its future children) into the group."""
        (self.path / "cgroup.procs").write_text(f"{pid}\n")

    def pids(self) -> list[int]:
        return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]

    def seconds(self) -> float:
        """CPU seconds of the processes in the group since it was made."""
        if self.v1:
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    def remove(self, back: dict[int, Path] | None = None) -> None:
        """Move the processes left in the group back (``back``: pid → its former cgroup,
        else the root), then delete the group."""
        for pid in self.pids():
            with contextlib.suppress(OSError):
                ((back or {}).get(pid, self.root) / "cgroup.procs").write_text(f"{pid}\n")
        for _ in range(50):  # a process killed just now may take a moment to leave
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)
        print(f"warning: cgroup {self.path} not removed", file=sys.stderr)


#: SLURM's daemons on the single-node cluster, and what they need (accounting and auth).
SLURM_DAEMONS = ("slurmctld", "slurmd", "slurmstepd", "slurmdbd", "mariadbd", "munged")


def _pids(name: str) -> list[int]:
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _cgroup_of(pid: int, root: Path) -> Path:
    """The cgroup of ``pid`` in the hierarchy of ``root`` (v1 cpuacct, or v2)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if ("cpuacct" in controllers.split(",")) == (root.name == "cpuacct"):
            return root / path.lstrip("/")
    return root


def sweep(launcher: str, runs: int, per_task: int, folder: Path) -> dict[str, Any]:
    """Wall and CPU seconds of one sweep, its processes' CPU and its runs' simulating CPU."""
    cmd = [sys.executable, "-m", "sim", "-m", f"seed=range(0,{runs})", *DEFAULT,
           *LAUNCHERS[launcher], f"sweep.runs_per_task={per_task}",
           f"hydra.sweep.dir={folder}", "hydra/job_logging=none", "hydra/hydra_logging=none"]
    tag = f"sim-bench-{os.getpid()}-{launcher}"
    group = CpuGroup(tag) if CpuGroup.available() else None
    daemons, back = None, {}
    if group is not None and launcher == "slurm":
        daemons = CpuGroup(f"{tag}-daemons")
        for pid in [p for name in SLURM_DAEMONS for p in _pids(name)]:
            back[pid] = _cgroup_of(pid, daemons.root)
            daemons.add(pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    tic = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              preexec_fn=None if group is None else lambda: group.add(os.getpid()))
        wall = time.perf_counter() - tic
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode:
            print(f"{launcher}: exit {proc.returncode}\n{proc.stderr[-3000:]}", file=sys.stderr)
        row: dict[str, Any] = {"exit": proc.returncode, "wall s": wall,
                               "load": [load, os.getloadavg()[0]]}
        reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if group is not None:
            time.sleep(1.0)  # daemons still exiting (Ray's) add their last CPU
            row["sweep processes CPU s"] = group.seconds()
            row["CPU s"] = row["sweep processes CPU s"]
        else:
            row["CPU s"] = reaped
            row["lower bound"] = True  # processes not reaped by the launcher are not counted
        if launcher == "slurm":
            row["sacct TotalCPU s"] = slurm_cpu(folder)
            if daemons is not None:
                row["SLURM daemons and jobs CPU s"] = daemons.seconds()
                row["CPU s"] += row["SLURM daemons and jobs CPU s"]
            else:
                row["CPU s"] += row["sacct TotalCPU s"]
    finally:
        if daemons is not None:
            daemons.remove(back)
        if group is not None:
            for pid in group.pids():  # what the sweep left running (none, normally)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            group.remove()
    row["simulating CPU s"] = sum(json.loads(p.read_text())["cpu_seconds"]
                                  for p in folder.glob("*/manifest.json"))
    row["complete"] = len(list(folder.glob("*/manifest.json")))
    return row


def efficiency(args: argparse.Namespace) -> None:
    alone = run_cpu()
    rows = []
    with tempfile.TemporaryDirectory(dir=ROOT / "results") as tmp:
        for launcher in args.launchers.split(","):
            row = sweep(launcher, args.runs, args.runs_per_task, Path(tmp) / launcher)
            rows.append({"launcher": launcher, "runs": args.runs,
                         "runs_per_task": args.runs_per_task, **row,
                         "efficiency": row["simulating CPU s"] / row["CPU s"],
                         "efficiency vs alone": alone * args.runs / row["CPU s"]})
            print(rows[-1], flush=True)
            write("scale_efficiency", {"cpu_s_per_run_alone": alone,
                                       "rows": _merged(rows), "target": 0.8})
    print(table(rows, f"Sweep efficiency: {args.runs} runs at 1,000 buyers x 150 steps, "
                      f"{alone:.2f} CPU s per run simulated alone"))


#: The steps of a run of a task besides simulating, timed by :func:`overhead` (module,
#: attribute, label).
RUN_STEPS = (("sim.tasks", "RunConfigs.__call__", "compose the run's config"),
             ("hydra.core.hydra_config", "HydraConfig.set_config", "set HydraConfig"),
             ("sim.config", "to_config", "check the config"),
             ("sim.results", "config_yaml", "config.yaml text"),
             ("sim.results", "steps_table", "steps table"),
             ("sim.results", "write_run", "write the run folder"))

OVERHEAD_CHILD = """
import collections, functools, importlib, json, sys, time
from pathlib import Path
folder, steps = sys.argv[1], json.loads(sys.argv[2])
spent, calls = collections.Counter(), collections.Counter()
def timed(owner, name, label):
    inner = getattr(owner, name)
    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        tic = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - tic
            calls[label] += 1
    setattr(owner, name, wrapper)
import sim.__main__ as main, sim.tasks as tasks
timed(tasks.RunBatch, "_run", "run")
for module, attribute, label in steps:
    owner = importlib.import_module(module)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    timed(owner, name, label)
    if owner is importlib.import_module(module) and hasattr(main, name):
        setattr(main, name, getattr(owner, name))  # imported by name into sim.__main__
sys.argv = ["sim", *sys.argv[3:]]
try:
    main.cli()
except SystemExit:
    pass
simulating = sum(json.loads(p.read_text())["cpu_seconds"]
                 for p in Path(folder).glob("*/manifest.json"))
print(json.dumps({"runs": calls["run"], "run": spent["run"], "simulating": simulating,
                  "steps": {label: spent[label] for _, _, label in steps}}))
"""


def overhead(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=ROOT / "results") as tmp:
        cmd = [sys.executable, "-c", OVERHEAD_CHILD, tmp,
               json.dumps([list(s) for s in RUN_STEPS]), "-m", f"seed=range(0,{args.runs})",
               *DEFAULT, f"sweep.runs_per_task={args.runs_per_task}", f"hydra.sweep.dir={tmp}",
               "hydra/job_logging=none", "hydra/hydra_logging=none"]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    n = got["runs"]
    rows = [{"step": label, "CPU ms per run": 1000 * got["steps"][label] / n}
            for _, _, label in RUN_STEPS]
    rows.append({"step": "all but simulating",
                 "CPU ms per run": 1000 * (got["run"] - got["simulating"]) / n})
    rows.append({"step": "simulating", "CPU ms per run": 1000 * got["simulating"] / n})
    print(table(rows, f"A task's CPU per run, {n} runs at 1,000 buyers x 150 steps, "
                      f"{args.runs_per_task} per task (load average {os.getloadavg()[0]:.1f})"))
    write("scale_overhead", {"runs": n, "runs_per_task": args.runs_per_task,
                             "ms_per_run": {r["step"]: r["CPU ms per run"] for r in rows}})


#: The cells of ``--experiment buyer_stance`` (its experiment.yaml), seeds after them.
STANCE_CELLS = [(b, u) for b in ("adversarial", "partnership") for u in (0.0, 0.15, 0.3)]


def _merged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` after the rows of earlier runs of this benchmark (benchmarks/results/
    scale_efficiency.json) that measured other launchers, sizes or runs per task."""
    key = ("launcher", "runs", "runs_per_task")
    try:
        earlier = json.loads((RESULTS / "scale_efficiency.json").read_text())["rows"]
    except (OSError, ValueError, KeyError):
        earlier = []
    mine = {tuple(r[k] for k in key) for r in rows}
    return [r for r in earlier if tuple(r.get(k) for k in key) not in mine] + rows


def synthetic_runs(folder: Path, runs: int, steps: int = 150,
                   experiment: str | None = None) -> None:
    """``runs`` complete run folders: one real run at 1,000 buyers x ``steps`` steps, its
    files copied (byte for byte: the same rows and sizes as a real sweep) with a manifest
    of its own per folder. Minutes instead of hours of simulation.

    ``experiment=None``: a sweep over seeds. ``"buyer_stance"``: that experiment's six
    cells (stance x uncertainty) in the manifests, ``runs / 6`` seeds each, and its name in
    ``sweep.json``, so that the report adds its analysis (every run's steps once more).
    """
    from sim import RelationshipModel, make_config
    from sim.results import manifest, now, write_json, write_run
    from sim.tasks import run_name

    def overrides(k: int) -> list[str]:
        if experiment is None:
            return [f"seed={k}"]
        stance, uncertainty = STANCE_CELLS[k % len(STANCE_CELLS)]
        return [f"buyers={stance}", f"market.uncertainty={uncertainty}",
                f"seed={k // len(STANCE_CELLS)}", f"+experiment={experiment}"]

    cfg = make_config(["market.n_buyers=1000", f"steps={steps}"])
    model = RelationshipModel(cfg)
    model.run_for(steps)
    first = folder / run_name(overrides(0))
    write_run(first, "market:\n  n_buyers: 1000\nseed: 0\n", model.supplier_frame(),
              model.summary(), manifest(0, now(), now(), overrides=overrides(0)))
    for k in range(1, runs):
        run = folder / run_name(overrides(k))
        run.mkdir()
        for name in ("config.yaml", "steps.parquet", "summary.json"):
            shutil.copyfile(first / name, run / name)
        write_json(run / "manifest.json", manifest(k, now(), now(), overrides=overrides(k)))
    if experiment is not None:
        write_json(folder / "sweep.json", {"experiment": experiment, "total": runs})


def poll(args: argparse.Namespace) -> None:
    from sim.sweep import Progress

    with tempfile.TemporaryDirectory(dir=ROOT / "results") as tmp:
        folder = Path(tmp)
        names = [f"{k:010d}" for k in range(args.runs)]
        for k, name in enumerate(names):  # half done, as in the middle of a sweep
            (folder / name).mkdir()
            if k % 2 == 0:
                (folder / name / "manifest.json").write_text('{"complete": true}\n')
        progress = Progress(folder, args.runs, "poll")
        progress.close()
        fresh = Progress.__new__(Progress)
        fresh.folder, fresh.started, fresh.names, fresh.done = folder, time.time(), names, set()
        first = _timed(fresh._done)   # every run checked once
        later = [_timed(fresh._done) for _ in range(5)]  # only the runs not done yet
        unwatched = Progress.__new__(Progress)
        unwatched.folder, unwatched.started, unwatched.names = folder, time.time(), None
        scan = _timed(unwatched._done)  # no plan: every folder listed and checked
    later_s, later_cpu = sorted(w for w, _ in later)[2], sorted(c for _, c in later)[2]
    rows = [{"poll": "first (all runs checked)", "wall s": first[0], "CPU s": first[1]},
            {"poll": "later (runs not done only), median of 5", "wall s": later_s,
             "CPU s": later_cpu},
            {"poll": "without the sweeper's plan (scan)", "wall s": scan[0], "CPU s": scan[1]}]
    print(table(rows, f"Progress poll at {args.runs:,} runs, half complete "
                      f"(load average {os.getloadavg()[0]:.1f})"))
    write("scale_poll", {"runs": args.runs, "first_s": first[0], "first_cpu_s": first[1],
                         "later_s": later_s, "later_cpu_s": later_cpu, "scan_s": scan[0],
                         "scan_cpu_s": scan[1], "interval_s": max(1.0, 50 * later_s)})


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``fn()``."""
    tic, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - tic, time.process_time() - cpu


def report(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=ROOT / "results") as tmp:
        folder = Path(tmp)
        tic = time.perf_counter()
        synthetic_runs(folder, args.runs, experiment=args.experiment)
        made = time.perf_counter() - tic
        tic = time.perf_counter()
        # the peak of the report's own process (VmHWM): ru_maxrss would start from this
        # process's resident memory at the fork
        proc = subprocess.run(
            [sys.executable, "-c", "import re, sys, time; from sim.report import main; "
             "tic = time.process_time(); code = main([sys.argv[1]]); "
             "print(time.process_time() - tic, file=sys.stderr); "
             "print(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1], "
             "file=sys.stderr); sys.exit(code)", str(folder)],
            cwd=ROOT, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - tic
        cpu, peak = proc.stderr.strip().splitlines()[-2:]
        peak_gb = int(peak) / 1024**2
        size_gb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1024**3
    rows = [{"runs": args.runs, "experiment": args.experiment or "-", "steps": 150,
             "suppliers": 4, "data GB": size_gb, "report s": wall, "report CPU s": float(cpu),
             "peak RSS GB": peak_gb, "load": os.getloadavg()[0]}]
    print(table(rows, f"python -m sim.report on {args.runs:,} runs (synthesised in {made:.0f} s)"))
    write(f"scale_report{'_' + args.experiment if args.experiment else ''}",
          {"runs": args.runs, "experiment": args.experiment, "report_s": wall,
           "report_cpu_s": float(cpu), "peak_rss_gb": peak_gb, "data_gb": size_gb,
           "limit_gb": 2.0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("efficiency", "overhead", "poll", "report"))
    parser.add_argument("--runs", type=int)
    parser.add_argument("--runs-per-task", type=int, default=10)
    parser.add_argument("--launchers", default="joblib,dask,ray,slurm")
    parser.add_argument("--experiment", choices=("buyer_stance",),
                        help="report: runs laid out as this experiment's cells, its analysis too")
    args = parser.parse_args()
    args.runs = args.runs or {"efficiency": 200, "overhead": 20}.get(args.part, 10_000)
    (ROOT / "results").mkdir(exist_ok=True)
    {"efficiency": efficiency, "overhead": overhead, "poll": poll,
     "report": report}[args.part](args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
