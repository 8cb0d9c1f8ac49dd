"""Target 4: cost of data collection at the default interval (``collect_every=1``).

Two models with the same seed step in alternation (so background load hits
both alike): A collects every step (the default: per-supplier metrics and
the DataCollector's model and supplier reporters), B never collects
(``collect_every=steps=10⁹``: validation requires ``collect_every ≤ steps``).
Collection does not feed back into the dynamics, so both run the same market.
Cost = (A − B) / A, from the medians of the per-step times, and, less noisy,
the direct share: time in ``DataCollector.collect`` plus the time of
``sim.metrics.measure`` computing the outcomes, over A's time per step.
Per-agent rows are not collected (opt-in: ``RelationshipModel(..., agents_every=k)``).

    .venv/bin/python -m benchmarks.bench_collection [--quick] [--buyers N]
"""

from benchmarks.common import one_core

one_core()

import argparse  # noqa: E402
import time  # noqa: E402

from benchmarks.common import make_model, median, table, write  # noqa: E402

SUPPLIERS = 20


def run(buyers: int, steps: int) -> dict:
    with_data = make_model(buyers, SUPPLIERS, extra=["collect_every=1"])
    # a run of 10⁹ steps that collects at its end: never within the steps timed here
    without = make_model(buyers, SUPPLIERS, extra=[f"steps={10**9}", f"collect_every={10**9}"])
    inside = []
    collect = with_data.datacollector.collect

    def timed(model):
        t0 = time.process_time()
        collect(model)
        inside.append(time.process_time() - t0)

    with_data.datacollector.collect = timed
    from sim import metrics

    measured: list[float] = []
    measure = metrics.measure

    def timed_measure(*args):
        t0 = time.process_time()
        measure(*args)
        measured.append(time.process_time() - t0)

    metrics.measure = timed_measure
    a, b = [], []
    for model in (with_data, without):
        model.step()
    for _ in range(steps):
        for model, out in ((with_data, a), (without, b)):
            t0 = time.process_time()
            model.step()
            out.append(time.process_time() - t0)
    metrics.measure = measure
    ma, mb = median(a), median(b)
    metrics_s = median(measured[1:])
    direct = metrics_s + median(inside[1:])
    return {
        "buyers": buyers, "suppliers": SUPPLIERS, "steps": steps,
        "step_s_collect_every_1": ma, "step_s_no_collection": mb,
        "collection_share": (ma - mb) / ma,
        "datacollector_collect_s": median(inside[1:]),
        "datacollector_share": median(inside[1:]) / ma,
        "supplier_metrics_s": metrics_s,
        "direct_collection_s": direct, "direct_share": direct / ma,
        "target_share": 0.10,
        "same_market": bool((with_data.ties.trust == without.ties.trust).all()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--buyers", type=int, nargs="+", default=None)
    args = parser.parse_args()
    sizes = args.buyers or ([100_000] if args.quick else [10_000, 100_000])
    rows = [run(n, 4 if args.quick else 15) for n in sizes]
    print(table([{"buyers": r["buyers"], "s/step collecting": r["step_s_collect_every_1"],
                  "s/step not": r["step_s_no_collection"],
                  "collection share": r["collection_share"],
                  "direct share": r["direct_share"], "in collect()": r["datacollector_share"],
                  "same market": r["same_market"]}
                 for r in rows], "Data collection at the default interval (every step)"))
    write("collection_quick" if args.quick else "collection",
          {"config": {"sizes": sizes}, "rows": rows})


if __name__ == "__main__":
    main()
