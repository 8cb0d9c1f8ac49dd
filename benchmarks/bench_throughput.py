"""Target 2: tie-updates per second of the vectorised engine at 100,000 buyers × 20 suppliers.

A tie-update is one buyer–supplier pair advanced one step through all
phases, so tie-updates/s = buyers × suppliers / (seconds per step). Runs on
one core (BLAS/OpenMP pools at one thread). Also prints where a step's time
goes, phase by phase.

    .venv/bin/python -m benchmarks.bench_throughput [--quick] [--buyers N]
"""

from benchmarks.common import one_core

one_core()

import argparse  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

from benchmarks.common import make_model, median, table, time_steps, write  # noqa: E402

SUPPLIERS = 20


def phase_breakdown(model, steps: int) -> dict[str, float]:
    """Mean CPU seconds per step spent in each phase, the books and data collection."""
    from sim import metrics, phases
    from sim import model as model_module

    spent: Counter[str] = Counter()
    saved = []

    def timed(fn, label):
        def run(*a, **k):
            t0 = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label] += time.process_time() - t0
        return run

    def wrap(owner, name, label=None):
        fn = getattr(owner, name)
        saved.append((owner, name, fn))
        setattr(owner, name, timed(fn, label or name))

    def run_phases(m, sequence, block):  # the vector engine's calls, phase by phase
        for phase in sequence:
            timed(phase, phase.__name__)(m.market, m.cfg, m.rng, block)

    saved.append((model_module, "_run", model_module._run))
    model_module._run = run_phases
    wrap(phases, "sales_visits")
    wrap(metrics, "keep_books", "books")
    wrap(metrics, "measure", "outcomes")
    wrap(model.datacollector, "collect", "data_collection")
    t0 = time.process_time()
    for _ in range(steps):
        model.step()
    total = time.process_time() - t0
    for owner, name, fn in saved:
        if owner is model.datacollector:
            del model.datacollector.collect
        else:
            setattr(owner, name, fn)
    out = {k: v / steps for k, v in spent.items()}
    out["other (shocks, turnover, fill_orders, firm table)"] = (total - sum(spent.values())) / steps
    out["total"] = total / steps
    return out


def run(buyers: int, steps: int) -> dict:
    t0 = time.perf_counter()
    model = make_model(buyers, SUPPLIERS)
    startup = time.perf_counter() - t0
    wall, cpu = time_steps(model, steps)
    per_step = median(cpu)
    breakdown = phase_breakdown(model, max(2, steps // 3))
    return {
        "buyers": buyers, "suppliers": SUPPLIERS, "steps": steps, "startup_s": startup,
        "step_cpu_s_median": per_step, "step_cpu_s": cpu,
        "step_s_median": median(wall), "step_s_min": min(wall), "step_s": wall,
        "tie_updates_per_s": buyers * SUPPLIERS / per_step,
        "tie_updates_per_s_best": buyers * SUPPLIERS / min(cpu),
        "tie_updates_per_s_wall": buyers * SUPPLIERS / median(wall),
        "target_tie_updates_per_s": 5e6, "phases_s_per_step": breakdown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--buyers", type=int, default=100_000)
    args = parser.parse_args()
    out = run(args.buyers, steps=4 if args.quick else 15)
    print(table([{"phase": k, "ms/step": 1000 * v} for k, v in out["phases_s_per_step"].items()],
                f"Where a step goes ({args.buyers:,} x {SUPPLIERS}, vector engine, one core)"))
    print(f"tie-updates/s on one core (CPU time): {out['tie_updates_per_s']:,.0f} median step, "
          f"{out['tie_updates_per_s_best']:,.0f} best step; wall clock "
          f"{out['tie_updates_per_s_wall']:,.0f} (target >= 5,000,000)")
    write("throughput_quick" if args.quick else "throughput", {"config": vars(args), **out})


if __name__ == "__main__":
    main()
