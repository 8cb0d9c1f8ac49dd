"""Suppliers that learn cost little: vector engine with adaptation=reinforcement vs none.

Both models (10,000 buyers × 20 suppliers, 20 timed steps each, same seed) are
built first and then stepped in turns (none, reinforcement, none, …), so that
whatever else the shared machine runs slows both alike. Reported: the median
CPU time per step of each and their ratio (target: reinforcement within 20% of
none, ratio ≤ 1.2), for the default market and for a market whose stock runs
short (``market.supply_capacity=0.8``: the learned serving rules then order
every seller's queue).

    .venv/bin/python -m benchmarks.bench_adaptation [--quick]
"""

from __future__ import annotations

import argparse

from benchmarks.common import make_model, median, table, write

BUYERS, SUPPLIERS, SEED, STEPS = 10_000, 20, 1, 20
TARGET = 1.2
MARKETS = {"default": [], "stock short": ["market.supply_capacity=0.8"]}


def interleaved(extra: list[str], steps: int) -> dict[str, dict[str, float]]:
    """Median CPU and wall seconds per step of each adaptation, stepped in turns."""
    import time

    models = {name: make_model(BUYERS, SUPPLIERS, "vector", SEED, [*extra, f"adaptation={name}"])
              for name in ("none", "reinforcement")}
    for model in models.values():
        model.step()  # warm-up
    cpu = {name: [] for name in models}
    wall = {name: [] for name in models}
    for _ in range(steps):
        for name, model in models.items():
            t0, c0 = time.perf_counter(), time.process_time()
            model.step()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {name: {"step_cpu_s_median": median(cpu[name]), "step_s_median": median(wall[name]),
                   "steps_per_s": 1.0 / median(cpu[name])} for name in models}


def run(steps: int) -> dict:
    out = {}
    for market, extra in MARKETS.items():
        modes = interleaved(extra, steps)
        ratio = modes["reinforcement"]["step_cpu_s_median"] / modes["none"]["step_cpu_s_median"]
        wall = modes["reinforcement"]["step_s_median"] / modes["none"]["step_s_median"]
        out[market] = {"overrides": extra, "modes": modes, "ratio": ratio, "ratio_wall": wall}
    return {"buyers": BUYERS, "suppliers": SUPPLIERS, "seed": SEED, "steps": steps,
            "markets": out, "target_ratio": TARGET,
            "passed": out["default"]["ratio"] <= TARGET,
            "note": "ratio = CPU s/step reinforcement ÷ none (one core), stepped in turns"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 timed steps instead of 20")
    args = parser.parse_args()
    out = run(5 if args.quick else STEPS)
    rows = [{"market": market, "adaptation": name, "CPU s/step": r["step_cpu_s_median"],
             "wall s/step": r["step_s_median"], "steps/s": r["steps_per_s"]}
            for market, m in out["markets"].items() for name, r in m["modes"].items()]
    print(table(rows, f"Vector engine at {BUYERS:,} buyers x {SUPPLIERS} suppliers, "
                      f"{out['steps']} steps, seed {SEED}"))
    for market, m in out["markets"].items():
        print(f"{market}: reinforcement / none = {m['ratio']:.3f} CPU, {m['ratio_wall']:.3f} wall "
              f"(target <= {TARGET})")
    write("adaptation_quick" if args.quick else "adaptation", {"config": {"quick": args.quick},
                                                              **out})


if __name__ == "__main__":
    main()
