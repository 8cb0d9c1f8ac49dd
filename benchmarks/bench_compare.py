"""``make bench-compare REF=<commit>``: tie-updates/s of REF and of the working tree, same run.

Both checkouts run the same measurement in alternation (REF, tree, REF,
tree, …), each round in a fresh process on one core, so that background
load hits both alike: a 100,000 × 20 market of the default config (vector
engine), one untimed step, then the CPU time of each of ``--steps`` steps.
Tie-updates/s = buyers × suppliers / median CPU seconds per step. It also
times ``import sim`` and building a 1,000-buyer model in each. REF is
checked out into a temporary folder (``git worktree``) and run with this
virtual environment, its own ``sim`` first on the path.

    .venv/bin/python -m benchmarks.bench_compare 0414eb2 [--rounds 3] [--steps 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, median, table, write

PROBE = r"""
import json, os, sys, time
t0 = time.perf_counter(); import sim; import_s = time.perf_counter() - t0
from sim import RelationshipModel, make_config
t0 = time.perf_counter()
RelationshipModel(make_config(["market.n_buyers=1000", "seed=1"]))
build_s = time.perf_counter() - t0
buyers, suppliers, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
model = RelationshipModel(make_config([f"market.n_buyers={buyers}",
    f"market.n_suppliers={suppliers}", "engine=vector", "seed=1", "steps=1000"]))
model.step()
cpu = []
for _ in range(steps):
    c0 = time.process_time(); model.step(); cpu.append(time.process_time() - c0)
print(json.dumps({"import_s": import_s, "build_1000_s": build_s, "step_cpu_s": cpu}))
"""


def measure(tree: Path, buyers: int, suppliers: int, steps: int) -> dict:
    """One fresh-process measurement of the checkout at ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(buyers), str(suppliers), str(steps)],
                         cwd=tree, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ref", help="commit to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--buyers", type=int, default=100_000)
    parser.add_argument("--suppliers", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        ref_tree = Path(tmp) / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(ref_tree), args.ref], check=True)
        try:
            runs: dict[str, list[dict]] = {"ref": [], "tree": []}
            for _ in range(args.rounds):
                for name, tree in (("ref", ref_tree), ("tree", ROOT)):
                    runs[name].append(measure(tree, args.buyers, args.suppliers, args.steps))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(ref_tree)], check=False)
    ties = args.buyers * args.suppliers
    rows = []
    for name, results in runs.items():
        step = median([s for r in results for s in r["step_cpu_s"]])
        rows.append({"checkout": args.ref if name == "ref" else "working tree",
                     "tie-updates/s": ties / step, "CPU s/step": step,
                     "import sim s": median([r["import_s"] for r in results]),
                     "build 1,000 s": median([r["build_1000_s"] for r in results])})
    ratio = rows[1]["tie-updates/s"] / rows[0]["tie-updates/s"]
    print(table(rows, f"{args.buyers:,} x {args.suppliers}, vector engine, one core, "
                      f"{args.rounds} alternating rounds x {args.steps} steps"))
    print(f"throughput ratio, working tree / {args.ref}: {ratio:.3f}")
    write(f"compare_{args.ref}", {"config": vars(args), "rows": rows, "ratio": ratio,
                                  "runs": runs})


if __name__ == "__main__":
    main()
