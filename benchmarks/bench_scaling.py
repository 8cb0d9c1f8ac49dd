"""Target 3: time per step and peak memory from 10⁴ to 10⁶ buyers × 20 suppliers.

Each size runs in its own subprocess (one core), so its peak resident set
size (``ru_maxrss``) is its own. Start-up is split into its parts (graph,
Mesa network, Buyer agents, the rest). The log–log slope of time per step
against buyers is fitted by least squares. Writes a figure with
``--figure PATH``.

    .venv/bin/python -m benchmarks.bench_scaling [--quick] [--figure docs/scaling.png]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys

from benchmarks.common import ROOT, table, write

SUPPLIERS = 20
FULL = (10_000, 31_623, 100_000, 316_228, 1_000_000)
QUICK = (10_000, 31_623, 100_000)


def measure(buyers: int, steps: int) -> dict:
    """Run in this process: build (timing the parts of start-up), step, report RSS."""
    import time

    from benchmarks.common import make_model, median, peak_rss_gb, time_steps
    from sim import agents, network
    from sim import model as model_module

    parts: dict[str, float] = {}

    def timed(owner, name, label):
        fn = getattr(owner, name)

        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)

    timed(model_module, "word_of_mouth_graph", "graph")
    timed(model_module, "Network", "mesa_network")
    timed(model_module, "neighbour_average", "neighbour_matrix")
    timed(agents.Buyer, "__init__", "buyer_agents")
    del network
    rss_before = peak_rss_gb()
    t0 = time.perf_counter()
    model = make_model(buyers, SUPPLIERS)
    startup = time.perf_counter() - t0  # wall clock
    parts["other"] = startup - sum(parts.values())
    wall, cpu = time_steps(model, steps)
    return {
        "buyers": buyers, "suppliers": SUPPLIERS, "steps": steps, "startup_s": startup,
        "startup_parts_s": parts, "step_cpu_s_median": median(cpu),
        "step_s_median": median(wall), "step_s_min": min(wall),
        "tie_updates_per_s": buyers * SUPPLIERS / median(cpu),
        "peak_rss_gb": peak_rss_gb(), "rss_before_model_gb": rss_before,
        "agents": len(model.agents),
    }


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def figure(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["buyers"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=90)
    a.loglog(n, [r["step_cpu_s_median"] for r in rows], "o-", label="vector engine, per step")
    ref = rows[0]["step_s_median"]
    a.loglog(n, [ref * x / n[0] for x in n], ":", color="grey", label="linear")
    a.set_xlabel("buyers (× 20 suppliers)")
    a.set_ylabel("seconds")
    a.set_title(f"CPU time per step (slope {slope(n, [r['step_cpu_s_median'] for r in rows]):.2f})",
                fontsize=10)
    a.legend(fontsize=8)
    b.loglog(n, [r["peak_rss_gb"] for r in rows], "s-", color="C1", label="peak RSS")
    b.axhline(8, ls="--", color="red", lw=1, label="8 GB target")
    b.set_xlabel("buyers (× 20 suppliers)")
    b.set_ylabel("GB")
    b.set_title("peak memory (build + 10 steps)", fontsize=10)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f"figure -> {path} ({os.path.getsize(path) / 1024:.0f} KB)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--figure", default=None)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.steps)))
        return
    sizes = QUICK if args.quick else FULL
    steps = 3 if args.quick else args.steps
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    rows = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_scaling", "--one", str(n), "--steps",
             str(steps)], cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  {n:>9,} buyers: start-up {r['startup_s']:.1f} s, "
              f"{r['step_cpu_s_median']:.3f} CPU s/step,"
              f" peak {r['peak_rss_gb']:.2f} GB", file=sys.stderr)
    fit = slope([r["buyers"] for r in rows], [r["step_cpu_s_median"] for r in rows])
    fit_wall = slope([r["buyers"] for r in rows], [r["step_s_median"] for r in rows])
    print(table([{"buyers": r["buyers"], "start-up s": r["startup_s"],
                  "  agents s": r["startup_parts_s"].get("buyer_agents", 0.0),
                  "  network s": r["startup_parts_s"].get("mesa_network", 0.0),
                  "CPU s/step": r["step_cpu_s_median"], "wall s/step": r["step_s_median"],
                  "tie-upd/s": r["tie_updates_per_s"],
                  "peak GB": r["peak_rss_gb"]} for r in rows],
                f"Scaling, vector engine, {SUPPLIERS} suppliers, {steps} steps, one core"))
    print(f"log-log slope of CPU time per step: {fit:.3f}, wall {fit_wall:.3f} (target 0.9-1.1);"
          f"peak memory at {rows[-1]['buyers']:,}: {rows[-1]['peak_rss_gb']:.2f} GB (target <= 8)")
    if args.figure:
        figure(rows, args.figure)
    write("scaling_quick" if args.quick else "scaling",
          {"config": {"sizes": list(sizes), "steps": steps}, "rows": rows, "slope": fit,
           "slope_wall": fit_wall})


if __name__ == "__main__":
    main()
