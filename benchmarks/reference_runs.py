"""Record fixed-seed fingerprints of small vector-engine runs (tests/data/vector_reference.json).

Run once before optimising (``python -m benchmarks.reference_runs --write``);
``tests/test_speed_equivalence.py`` recomputes the fingerprints and requires
them to be bitwise identical: every tie array and every collected
(step, supplier) value is hashed (SHA-256 of the raw bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from sim import RelationshipModel, make_config

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "vector_reference.json"

CASES: dict[str, list[str]] = {
    "mixed": ["seed=7", "market.n_buyers=300", "market.n_suppliers=6", "steps=60"],
    "three_way_leaves": ["seed=11", "strategy=three_way", "scenario=salesperson_leaves",
                         "market.n_buyers=250", "steps=60"],
    "new_entrant_capacity": ["seed=3", "scenario=new_entrant", "market.n_buyers=250",
                             "market.supply_capacity=0.9", "steps=60"],
    "price_war_erdos": ["seed=5", "scenario=price_war", "network=erdos_renyi",
                        "buyers=partnership", "market.n_buyers=200", "steps=60"],
    "quality_failure_ba": ["seed=9", "scenario=quality_failure", "network=barabasi_albert",
                           "buyers=adversarial", "market.n_buyers=200", "steps=60"],
    "wkh": ["seed=2", "market=wkh", "market.n_buyers=200", "steps=60"],
    "agent_engine": ["engine=agent", "seed=4", "scenario=salesperson_leaves",
                     "market.n_buyers=120", "steps=60"],
}


#: The outcomes the reference was recorded with. Outcomes added later (buyer_value,
#: unit_price, departures, …) are new columns, not changes, so the pin leaves them out.
PINNED: tuple[str, ...] = (
    "accounts", "active_ties", "buyer_cost", "clv", "coordination", "cost", "health",
    "loyalty_firm", "loyalty_person", "market_share", "mean_commitment", "mean_dependency",
    "mean_knowledge", "mean_satisfaction", "mean_trust", "n_suppliers", "other_churn",
    "person_bound_share", "price", "profit", "retention", "revenue", "salespeople",
    "share_of_wallet", "silent_churn", "silent_episodes", "strategic_partners",
    "transaction_cost", "voiced_churn", "voiced_episodes",
)


def _pinned(summary: dict) -> dict:
    """summary.json restricted to the reference's outcomes."""
    def keep(row: dict) -> dict:
        return {k: v for k, v in row.items() if k in PINNED or k in ("id", "strategy")}
    return {"steps": summary["steps"], "window": summary["window"],
            "strategies": {k: keep(v) for k, v in summary["strategies"].items()},
            "suppliers": [keep(row) for row in summary["suppliers"]]}


def _digest(arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def fingerprint(overrides: list[str]) -> dict:
    """Hashes of the final tie state, the books and the collected data of one run."""
    engine = [] if any(o.startswith("engine=") for o in overrides) else ["engine=vector"]
    cfg = make_config([*engine, *overrides])
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    t = model.market.ties
    names = sorted(vars(t))
    frame = model.supplier_frame()
    numeric = frame.select_dtypes("number")
    numeric = numeric[[c for c in numeric.columns if c in PINNED or c in ("step", "supplier")]]
    model_vars = model.datacollector.get_model_vars_dataframe()
    return {
        "overrides": overrides,
        "ties": _digest([getattr(t, k) for k in names]),
        "capability": _digest([model.market.firms.capability]),
        "frame": _digest([numeric[c].to_numpy(np.float64) for c in sorted(numeric.columns)]),
        "model_vars": _digest([model_vars[c].to_numpy(np.float64)
                               for c in sorted(model_vars.columns)]),
        "rng_next": int(model.rng.integers(2**62)),
        "summary": _pinned(model.summary()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="overwrite the reference file")
    args = parser.parse_args()
    result = {name: fingerprint(o) for name, o in CASES.items()}
    if args.write:
        REFERENCE.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        print(f"wrote {REFERENCE}")
    else:
        ref = json.loads(REFERENCE.read_text())
        for name, fp in result.items():
            keys = ("ties", "capability", "frame", "model_vars", "rng_next")
            same = {k: fp[k] == ref[name][k] for k in keys}
            print(name, same)


if __name__ == "__main__":
    main()
