"""Target 5: a 20-run sweep with Hydra's joblib launcher, 1 core vs 2 cores, same results.

Runs ``python -m sim -m seed=range(0,20) hydra/launcher=joblib
hydra.launcher.n_jobs=K`` for K = 1 and 2 (each run: 3,000 buyers × 4
suppliers, 150 steps) and compares wall time and every run's summary.json.
The CPU time of all the sweep's processes shows how many cores it really
got ("cores used"): on a machine shared with other jobs the wall-clock
speed-up says little.

    .venv/bin/python -m benchmarks.bench_sweep [--runs 20] [--buyers 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, table, write


def sweep(n_jobs: int, runs: int, buyers: int, steps: int, out: Path) -> tuple[float, float]:
    """Wall time and CPU time (all processes of the sweep) of one sweep."""
    cmd = [sys.executable, "-m", "sim", "-m", f"seed=range(0,{runs})",
           f"market.n_buyers={buyers}", f"steps={steps}", "hydra/launcher=joblib",
           f"hydra.launcher.n_jobs={n_jobs}", f"hydra.sweep.dir={out}",
           "hydra/job_logging=none", "hydra/hydra_logging=none"]
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env={**os.environ, **env})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def summaries(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text())
            for p in sorted(folder.glob("*/summary.json"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, cpu_one = sweep(1, args.runs, args.buyers, args.steps, Path(tmp) / "one")
        two, cpu_two = sweep(2, args.runs, args.buyers, args.steps, Path(tmp) / "two")
        a, b = summaries(Path(tmp) / "one"), summaries(Path(tmp) / "two")
    identical = len(a) == args.runs and a == b
    out = {"runs": args.runs, "buyers": args.buyers, "suppliers": 4, "steps": args.steps,
           "launcher": "hydra-joblib-launcher (hydra/launcher=joblib)",
           "wall_s_1_job": one, "wall_s_2_jobs": two, "speedup": one / two,
           "cpu_s_1_job": cpu_one, "cpu_s_2_jobs": cpu_two,
           "cores_used_1_job": cpu_one / one, "cores_used_2_jobs": cpu_two / two,
           "load_average_after": list(os.getloadavg()),
           "target_speedup": 1.8, "identical_summaries": identical}
    print(table([{"n_jobs": 1, "wall s": one, "CPU s": cpu_one, "cores used": cpu_one / one,
                  "runs/min": 60 * args.runs / one},
                 {"n_jobs": 2, "wall s": two, "CPU s": cpu_two, "cores used": cpu_two / two,
                  "runs/min": 60 * args.runs / two}],
                f"Sweep of {args.runs} runs ({args.buyers:,} buyers x 4, {args.steps} steps)"))
    print(f"speed-up 2 vs 1 core: {one / two:.2f}x (target >= 1.8x); "
          f"identical summaries: {identical}")
    write("sweep", {"config": vars(args), **out})


if __name__ == "__main__":
    main()
