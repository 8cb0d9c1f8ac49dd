"""Issue 19: sweep efficiency per launcher, the progress poll at 10,000 runs, the report's
peak memory at 10,000 runs. A table per part; JSON in benchmarks/results/scale_*.json.

    .venv/bin/python -m benchmarks.bench_scale efficiency [--runs 200] [--runs-per-task 10]
        [--launchers joblib,dask,ray,slurm]
    .venv/bin/python -m benchmarks.bench_scale poll [--runs 10000]
    .venv/bin/python -m benchmarks.bench_scale report [--runs 10000]

*Efficiency* is the share of the sweep's CPU time spent simulating: the CPU time of the
runs alone (build, step, summarise; measured in this process on a few seeds, times the
number of runs) over the CPU time of every process of the sweep (launcher, workers,
scheduler daemons it started; on SLURM ``sacct``'s TotalCPU of its jobs plus the
launcher). ``slurm`` needs the cluster of tests/cluster/slurm_up.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, one_core, table, write

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
    """TotalCPU (seconds) of the SLURM jobs of a sweep folder's tasks, from sacct."""
    ids = {json.loads(p.read_text())["job_id"].split("_")[0]
           for p in folder.glob(".tasks/*/job.json")}
    out = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "TotalCPU", "-j", ",".join(ids)],
                         capture_output=True, text=True, check=True).stdout
    return sum(_seconds(line) for line in out.split())


def _seconds(text: str) -> float:
    """sacct's [D-]HH:MM:SS(.sss) or MM:SS.sss as seconds."""
    days, _, rest = text.rpartition("-")
    parts = [float(p) for p in rest.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return (int(days) if days else 0) * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2]


def sweep(launcher: str, runs: int, per_task: int, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one sweep."""
    cmd = [sys.executable, "-m", "sim", "-m", f"seed=range(0,{runs})", *DEFAULT,
           *LAUNCHERS[launcher], f"hydra.sweeper.runs_per_task={per_task}",
           f"hydra.sweep.dir={folder}", "hydra/job_logging=none", "hydra/hydra_logging=none"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tic = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - tic
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if launcher == "slurm":
        cpu += slurm_cpu(folder)
    return wall, cpu


def efficiency(args: argparse.Namespace) -> None:
    per_run = run_cpu()
    rows = []
    with tempfile.TemporaryDirectory(dir=ROOT / "results") as tmp:
        for launcher in args.launchers.split(","):
            wall, cpu = sweep(launcher, args.runs, args.runs_per_task, Path(tmp) / launcher)
            rows.append({"launcher": launcher, "runs": args.runs,
                         "runs_per_task": args.runs_per_task, "wall s": wall, "CPU s": cpu,
                         "simulating CPU s": per_run * args.runs,
                         "efficiency": per_run * args.runs / cpu})
            print(rows[-1], flush=True)
            write("scale_efficiency", {"cpu_s_per_run": per_run, "rows": rows, "target": 0.8})
    print(table(rows, f"Sweep efficiency: {args.runs} runs at 1,000 buyers x 150 steps, "
                      f"{per_run:.2f} CPU s per run simulated alone"))
    write("scale_efficiency", {"cpu_s_per_run": per_run, "rows": rows, "target": 0.8})


def synthetic_runs(folder: Path, runs: int, steps: int = 150) -> None:
    """``runs`` complete run folders: one real run at 1,000 buyers x ``steps`` steps, its
    files copied (byte for byte: the same rows and sizes as a real sweep) with a manifest
    of its own seed per folder. Minutes instead of hours of simulation."""
    from sim import RelationshipModel, make_config
    from sim.results import manifest, now, write_json, write_run

    cfg = make_config(["market.n_buyers=1000", f"steps={steps}"])
    model = RelationshipModel(cfg)
    model.run_for(steps)
    first = folder / f"{0:010d}"
    write_run(first, "seed: 0\n", model.supplier_frame(), model.summary(),
              manifest(0, now(), now(), overrides=["seed=0"]))
    for seed in range(1, runs):
        run = folder / f"{seed:010d}"
        run.mkdir()
        for name in ("config.yaml", "steps.parquet", "summary.json"):
            shutil.copyfile(first / name, run / name)
        write_json(run / "manifest.json", manifest(seed, now(), now(), overrides=[f"seed={seed}"]))


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
        later = _timed(fresh._done)   # only the runs not done yet
        unwatched = Progress.__new__(Progress)
        unwatched.folder, unwatched.started, unwatched.names = folder, time.time(), None
        scan = _timed(unwatched._done)  # no plan: every folder listed and checked
    rows = [{"poll": "first (all runs checked)", "seconds": first},
            {"poll": "later (runs not done only)", "seconds": later},
            {"poll": "without the sweeper's plan (scan)", "seconds": scan}]
    print(table(rows, f"Progress poll at {args.runs:,} runs, half complete"))
    write("scale_poll", {"runs": args.runs, "first_s": first, "later_s": later,
                         "scan_s": scan, "interval_s": max(1.0, 50 * later)})


def _timed(fn) -> float:
    tic = time.perf_counter()
    fn()
    return time.perf_counter() - tic


def report(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=ROOT / "results") as tmp:
        folder = Path(tmp)
        tic = time.perf_counter()
        synthetic_runs(folder, args.runs)
        made = time.perf_counter() - tic
        tic = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", "import resource, sys; from sim.report import main; "
             "code = main([sys.argv[1]]); "
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
             "sys.exit(code)", str(folder)],
            cwd=ROOT, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - tic
        peak_gb = int(proc.stderr.strip().splitlines()[-1]) / 1024**2
        size_gb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1024**3
    rows = [{"runs": args.runs, "steps": 150, "suppliers": 4, "data GB": size_gb,
             "report s": wall, "peak RSS GB": peak_gb}]
    print(table(rows, f"python -m sim.report on {args.runs:,} runs (synthesised in {made:.0f} s)"))
    write("scale_report", {"runs": args.runs, "report_s": wall, "peak_rss_gb": peak_gb,
                           "data_gb": size_gb, "limit_gb": 2.0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("efficiency", "poll", "report"))
    parser.add_argument("--runs", type=int)
    parser.add_argument("--runs-per-task", type=int, default=10)
    parser.add_argument("--launchers", default="joblib,dask,ray,slurm")
    args = parser.parse_args()
    args.runs = args.runs or (200 if args.part == "efficiency" else 10_000)
    (ROOT / "results").mkdir(exist_ok=True)
    {"efficiency": efficiency, "poll": poll, "report": report}[args.part](args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
