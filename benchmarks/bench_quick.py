"""``make bench-quick``: the headline figures in under two minutes.

Vector vs agent engine at 10,000 × 20 (target 1), tie-updates/s at
100,000 × 20 on one core (target 2) and the cost of data collection
(target 4). Prints a table per benchmark, writes benchmarks/results/quick.json
and prints, last, one JSON line with the figures.

    .venv/bin/python -m benchmarks.bench_quick
"""

from benchmarks.common import one_core

one_core()

import json  # noqa: E402
import time  # noqa: E402

from benchmarks import bench_collection, bench_engines, bench_throughput  # noqa: E402
from benchmarks.common import table, write  # noqa: E402


def main() -> None:
    t0 = time.perf_counter()
    engines = bench_engines.run(vector_steps=8, agent_steps=2)
    v, a = engines["engines"]["vector"], engines["engines"]["agent"]
    print(table([{"engine": e, "CPU s/step": r["step_cpu_s_median"],
                  "wall s/step": r["step_s_median"], "steps/s": r["steps_per_s"]}
                 for e, r in engines["engines"].items()],
                f"Engines, {engines['buyers']:,} x {engines['suppliers']}"))
    throughput = bench_throughput.run(100_000, steps=4)
    print(table([{"phase": k, "ms/step": 1000 * x}
                 for k, x in throughput["phases_s_per_step"].items()],
                "Vector engine, 100,000 x 20, one core"))
    collection = bench_collection.run(100_000, steps=4)
    line = {
        "buyers": engines["buyers"], "suppliers": engines["suppliers"],
        "vector_steps_per_s": round(v["steps_per_s"], 3),
        "agent_steps_per_s": round(a["steps_per_s"], 4),
        "ratio": round(engines["ratio"], 1),
        "tie_updates_per_s": round(throughput["tie_updates_per_s"]),
        "tie_updates_per_s_best_step": round(throughput["tie_updates_per_s_best"]),
        "tie_updates_per_s_wall": round(throughput["tie_updates_per_s_wall"]),
        "throughput_buyers": 100_000,
        "load_average": [round(x, 2) for x in __import__("os").getloadavg()],
        "collection_share": round(collection["direct_share"], 4),
        "seconds": round(time.perf_counter() - t0, 1),
        "timing": "per-step CPU time of this process (one core); wall figures in quick.json",
    }
    write("quick", {"engines": engines, "throughput": throughput, "collection": collection,
                    "line": line})
    print(json.dumps(line))


if __name__ == "__main__":
    main()
