"""Soak run: 10,000 steps at 2,000 buyers with every event kind scheduled again and again.

Every ``CHECK_EVERY`` steps it checks that every tie variable is finite and
in its bounds, and records the resident set size (``VmRSS``) and the CPU
time per step. Figures: steps/s, RSS at each checkpoint, RSS growth after
warm-up, and the drift ratio (mean CPU time per step over the last 1,000
steps / over steps 1,001–2,000). ``tests/test_soak.py`` (``make soak``) runs
it and asserts the limits below; this script prints the figures and writes
``benchmarks/results/soak.json``::

    .venv/bin/python -m benchmarks.soak [--steps 10000] [--buyers 2000]

Collected data grow with the run by design; to measure the model rather than
its data the run collects every 100 steps and summarises the last 1% of the
steps (``warmup_share=0.99``), so that stored rows take well under 1 MB.
Every event kind (:data:`sim.config.EVENT_KINDS`) recurs every 500 steps,
each at its own offset and on a rotating supplier; ``new_entrant`` recurs
only during warm-up (steps < 1,000), since each entrant makes every later
step larger and the drift ratio compares like with like.

Salespeople also leave at random (``sales.departure_hazard`` = ``HAZARD``,
about two departures per step), on top of the ``salesperson_leaves`` events:
the departure log is bounded (``model.market.departures`` keeps the last
``DEPARTURE_LOG``) and people who leave the market are let go
(``SalesForce.release``), so turnover does not make memory grow. (Before
both, the first soak grew by 25 MB over 8,000 steps at this hazard.)
"""

from benchmarks.common import one_core

one_core()

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import table, write  # noqa: E402
from sim import RelationshipModel, make_config  # noqa: E402
from sim.config import EVENT_KINDS, STRATEGIES, EventConfig  # noqa: E402

CHECK_EVERY = 1_000
WARMUP = 2_000  # RSS growth and the drift ratio are measured after this step
PERIOD = 500  # every event kind recurs with this period
HAZARD = 0.01  # random salesperson turnover per person and step
#: limits asserted by tests/test_soak.py
MAX_RSS_GROWTH_MB = 10.0
MAX_DRIFT = 1.5
#: tie variables that live in [0, 1]; the loyalties (WKH attractions) only need to be
#: finite: a purchase with negative surplus lowers them, below 0 too
UNIT_STATE = ("trust", "satisfaction", "commitment", "dependency", "expectation", "knowledge",
              "wallet", "grievance")
FINITE_STATE = ("loyalty_person", "loyalty_firm")


def rss_mb() -> float:
    """Resident set size of this process now (``VmRSS`` in ``/proc/self/status``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def schedule(steps: int, n_suppliers: int) -> list[EventConfig]:
    """Every event kind every ``PERIOD`` steps, at its own offset, on a rotating supplier."""
    events = []
    for cycle, start in enumerate(range(100, steps - PERIOD + 1, PERIOD)):
        for k, kind in enumerate(EVENT_KINDS):
            if kind == "new_entrant" and start >= CHECK_EVERY:
                continue
            supplier = (cycle + k) % n_suppliers
            events.append(EventConfig(
                kind=kind, t=start + 40 * k, supplier=supplier, severity=0.3, duration=20,
                strategy=STRATEGIES[(cycle + k) % len(STRATEGIES)], count=2,
                department="product", target=-1,
            ))
    return events


def state_problems(model: RelationshipModel) -> list[str]:
    """Tie variables out of bounds or not finite (empty if all is well)."""
    problems = []
    t = model.ties
    for name in UNIT_STATE:
        a = getattr(t, name)
        if not np.isfinite(a).all() or a.min() < -1e-6 or a.max() > 1 + 1e-6:
            problems.append(f"{name} in [{a.min()}, {a.max()}]")
    for name in FINITE_STATE:
        if not np.isfinite(getattr(t, name)).all():
            problems.append(f"{name} not finite")
    for name, a in (("capability", model.market.firms.capability), ("orders", model.market.orders)):
        if not np.isfinite(a).all() or a.min() < -1e-6:
            problems.append(f"{name} not finite or negative")
    return problems


def run(steps: int = 10_000, buyers: int = 2_000, seed: int = 1) -> dict[str, Any]:
    """Run the soak; return its figures (checkpoints, RSS growth, drift, problems)."""
    cfg = make_config([f"market.n_buyers={buyers}", "market.n_suppliers=4", f"steps={steps}",
                       f"seed={seed}", "collect_every=100", "warmup_share=0.99",
                       f"sales.departure_hazard={HAZARD}"])
    cfg.scenario.events = schedule(steps, cfg.market.n_suppliers)
    model = RelationshipModel(cfg)
    cpu = np.zeros(steps)
    checkpoints, problems = [], []
    departures = 0
    wall0 = time.perf_counter()
    for k in range(steps):
        c0 = time.process_time()
        model.step()
        cpu[k] = time.process_time() - c0
        departures += int(model.market.ledger.departures.sum())
        if (k + 1) % CHECK_EVERY == 0:
            found = state_problems(model)
            problems += [f"step {k + 1}: {p}" for p in found]
            checkpoints.append({"step": k + 1, "rss_mb": round(rss_mb(), 1),
                                "cpu_ms_per_step": round(1e3 * cpu[k + 1 - CHECK_EVERY:k + 1]
                                                         .mean(), 3),
                                "suppliers": len(model.supplier_list),
                                "salespeople": int((model.market.salesforce.employer >= 0).sum()),
                                "in_bounds": not found})
    wall = time.perf_counter() - wall0
    rss = {c["step"]: c["rss_mb"] for c in checkpoints}
    after = [c["rss_mb"] for c in checkpoints if c["step"] >= WARMUP]
    summary = model.summary()  # the run ends as the CLI's does
    return {
        "config": {"steps": steps, "buyers": buyers, "suppliers_at_start": 4, "seed": seed,
                   "events": len(cfg.scenario.events), "event_kinds": list(EVENT_KINDS),
                   "salesperson_leaves_events": sum(e.kind == "salesperson_leaves"
                                                    for e in cfg.scenario.events),
                   "collect_every": 100, "warmup_share": 0.99, "departure_hazard": HAZARD},
        "steps_per_s_wall": steps / wall,
        "steps_per_s_cpu": steps / cpu.sum(),
        "checkpoints": checkpoints,
        "rss_growth_after_warmup_mb": max(after) - rss[WARMUP],
        "drift_ratio": float(cpu[-1000:].mean() / cpu[1000:2000].mean()),
        "limits": {"rss_growth_mb": MAX_RSS_GROWTH_MB, "drift_ratio": MAX_DRIFT},
        "problems": problems,
        "departures": departures,
        "departure_log": len(model.market.departures),
        "summary_window": summary["window"],
    }


def report(result: dict[str, Any]) -> str:
    """The figures as a table and a few lines."""
    lines = [table(result["checkpoints"], "Soak: checkpoints"),
             f"steps/s: {result['steps_per_s_wall']:.0f} wall, "
             f"{result['steps_per_s_cpu']:.0f} CPU",
             f"RSS growth after step {WARMUP}: {result['rss_growth_after_warmup_mb']:.1f} MB "
             f"(limit {MAX_RSS_GROWTH_MB})",
             f"drift ratio (last 1000 / steps 1001-2000): {result['drift_ratio']:.3f} "
             f"(limit {MAX_DRIFT})",
             f"state problems: {result['problems'] or 'none'}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--buyers", type=int, default=2_000)
    args = parser.parse_args()
    result = run(args.steps, args.buyers)
    print(report(result))
    write("soak", result)


if __name__ == "__main__":
    main()
