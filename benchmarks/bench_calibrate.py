"""A 2-parameter calibration at the default size (1,000 buyers × 150 steps) on 2 cores.

Fits τ(0) and the τ slope (``relationship.tc_at_zero_trust``,
``relationship.tc_trust_slope``) to Dyer & Chu's face-time figures (F7's
least- and most-trusted shares, 0.47 and 0.25) with
:func:`sim.calibrate.fit.calibrate`: ``budget`` search candidates, then the
Jacobian and refinement steps, every candidate on the same ``seeds`` seeds,
spread over ``jobs`` processes. In the same run, one model run at that size
is timed alone (one process), so the calibration's cost reads as
``runs × one run / jobs`` plus overhead ("efficiency"); the machine's load
is recorded, since on a shared machine the wall time says little alone.

    .venv/bin/python -m benchmarks.bench_calibrate [--budget 20] [--seeds 4] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import machine, one_core, table, write


def main() -> None:
    """Time the calibration and one run; print a table; write benchmarks/results JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=150)
    args = parser.parse_args()
    one_core()
    from sim.calibrate.fit import calibrate
    from sim.calibrate.simulate import simulate
    from sim.calibrate.targets import Problem, Target, make_param

    market = (f"market.n_buyers={args.buyers}", f"steps={args.steps}")
    targets = (Target("F7.share_least_trusted", 0.47, 0.04),
               Target("F7.share_most_trusted", 0.25, 0.04))
    params = (make_param("relationship.tc_at_zero_trust", 0.3, 0.7),
              make_param("relationship.tc_trust_slope", 0.1, 0.3))
    problem = Problem(targets, params, market)

    simulate(market, 0, targets)  # imports and caches warm
    t0, c0 = time.perf_counter(), time.process_time()
    simulate(market, 1, targets)
    one_wall, one_cpu = time.perf_counter() - t0, time.process_time() - c0

    load_before = machine()["load_average"]
    t0 = time.perf_counter()
    fit = calibrate(problem, budget=args.budget, seeds=args.seeds, seed=0, jobs=args.jobs)
    wall = time.perf_counter() - t0
    ideal = fit.runs * one_wall / args.jobs
    row = {"buyers": args.buyers, "steps": args.steps, "params": len(params),
           "budget": args.budget, "seeds": args.seeds, "jobs": args.jobs, "runs": fit.runs,
           "wall_s": wall, "one_run_s": one_wall, "one_run_cpu_s": one_cpu,
           "runs_per_s": fit.runs / wall, "efficiency": ideal / wall, "distance": fit.distance}
    print(table([row], "2-parameter calibration at default size"))
    for e in fit.estimates:
        print(f"  {e.key}: {e.value:.4g} [{e.low:.4g}, {e.high:.4g}]")
    path = write("calibrate", {"machine": machine(), "load_before": load_before,
                               "result": row, "estimates": [
                                   {"key": e.key, "value": e.value, "low": e.low,
                                    "high": e.high} for e in fit.estimates]})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
