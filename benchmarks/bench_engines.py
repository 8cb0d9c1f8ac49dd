"""Target 1: vectorised vs per-agent engine, same config and seed (10,000 buyers × 20 suppliers).

Also measures, for context, agent-steps/s of Mesa's bundled Boltzmann wealth
example on the same machine. ``--quick`` times fewer steps.

    .venv/bin/python -m benchmarks.bench_engines [--quick]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import make_model, median, table, time_steps, write

BUYERS, SUPPLIERS, SEED = 10_000, 20, 1


def mesa_example(n_agents: int = 1_000, steps: int = 50) -> dict[str, float]:
    """Agent-steps/s of Mesa's Boltzmann wealth model (1 agent-step = one agent's step)."""
    from mesa.examples.basic.boltzmann_wealth_model.model import (
        BoltzmannScenario,
        BoltzmannWealth,
    )

    model = BoltzmannWealth(BoltzmannScenario(n=n_agents, width=32, height=32, rng=1))
    model.step()
    t0 = time.process_time()
    for _ in range(steps):
        model.step()
    elapsed = time.process_time() - t0
    return {"model": "mesa.examples boltzmann_wealth_model", "agents": n_agents,
            "steps": steps, "agent_steps_per_s": n_agents * steps / elapsed}


def run(vector_steps: int, agent_steps: int) -> dict:
    results = {}
    for engine, steps in (("vector", vector_steps), ("agent", agent_steps)):
        t0 = time.perf_counter()
        model = make_model(BUYERS, SUPPLIERS, engine, SEED)
        startup = time.perf_counter() - t0
        wall, cpu = time_steps(model, steps)
        per_step = median(cpu)
        results[engine] = {
            "startup_s": startup, "steps": steps, "step_cpu_s_median": per_step,
            "step_s_median": median(wall), "step_s_min": min(wall),
            "steps_per_s": 1.0 / per_step, "agent_steps_per_s": BUYERS / per_step,
            "tie_updates_per_s": BUYERS * SUPPLIERS / per_step,
            "wall_steps_per_s": 1.0 / median(wall),
        }
    ratio = results["agent"]["step_cpu_s_median"] / results["vector"]["step_cpu_s_median"]
    wall_ratio = results["agent"]["step_s_median"] / results["vector"]["step_s_median"]
    return {"buyers": BUYERS, "suppliers": SUPPLIERS, "seed": SEED, "engines": results,
            "ratio": ratio, "ratio_wall": wall_ratio, "target_ratio": 50.0,
            "note": "steps/s from CPU time per step (one core); wall figures alongside"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    out = run(vector_steps=10 if args.quick else 30, agent_steps=2 if args.quick else 5)
    out["mesa_example"] = mesa_example(steps=20 if args.quick else 100)
    rows = [{"engine": e, "startup s": r["startup_s"], "CPU s/step": r["step_cpu_s_median"],
             "wall s/step": r["step_s_median"], "steps/s": r["steps_per_s"],
             "agent-steps/s": r["agent_steps_per_s"]}
            for e, r in out["engines"].items()]
    rows.append({"engine": "mesa boltzmann (context)", "startup s": "", "CPU s/step": "",
                 "wall s/step": "", "steps/s": "",
                 "agent-steps/s": out["mesa_example"]["agent_steps_per_s"]})
    print(table(rows, f"Engines at {BUYERS:,} buyers x {SUPPLIERS} suppliers, seed {SEED}"))
    print(f"ratio vector/agent: {out['ratio']:.1f}x CPU, {out['ratio_wall']:.1f}x wall "
          "(target >= 50x)")
    write("engines_quick" if args.quick else "engines", {"config": {"quick": args.quick}, **out})


if __name__ == "__main__":
    main()
