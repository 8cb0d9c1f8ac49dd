"""Write examples/accounts.csv: 200 synthetic accounts for the what-if example (fixed seed).

Usage: ``python examples/make_accounts.py`` (from the project root). Large
accounts need more than the product (broad or service-heavy needs, M3); a
fifth of the rows give explicit ``need_<department>`` weights instead of a
profile name; 30% of buyers are adversarial (F8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DEPARTMENTS = ("sales", "product", "service", "installation_training", "logistics", "finance",
               "engineering")
SUPPLIERS = {"us": ["anna", "bruno", "chen", "dana", "emil"],
             "teamco": ["tc1", "tc2", "tc3", "tc4"],
             "midway": ["mw1", "mw2", "mw3"], "cheapco": ["cc1", "cc2"]}
SHARES = {"us": 0.4, "teamco": 0.25, "midway": 0.2, "cheapco": 0.15}


def make_accounts(n: int = 200, seed: int = 2024) -> pd.DataFrame:
    """The synthetic book: one row per account."""
    rng = np.random.default_rng(seed)
    volume = np.round(rng.lognormal(np.log(100.0), 0.8, n), 1)  # k€ per year
    size = volume / np.median(volume)
    profile = np.where(size > 2.0, "broad",
                       np.where(size > 1.2, rng.choice(["balanced", "service_heavy"], n),
                                rng.choice(["narrow", "product_only", "balanced"], n)))
    explicit = rng.random(n) < 0.2
    weights = np.zeros((n, len(DEPARTMENTS)))
    weights[:, 1] = rng.uniform(0.4, 0.9, n)
    weights[:, [0, *range(2, len(DEPARTMENTS))]] = (
        (1 - weights[:, 1])[:, None] * rng.dirichlet(np.ones(len(DEPARTMENTS) - 1), n))
    weights = np.round(weights, 3)
    weights[:, 1] = np.round(1 - weights[:, [0, *range(2, len(DEPARTMENTS))]].sum(axis=1), 3)
    supplier = rng.choice(list(SHARES), n, p=list(SHARES.values()))
    named = (supplier == "us") | (rng.random(n) < 0.5)
    people = [rng.choice(SUPPLIERS[s]) if k else "" for s, k in zip(supplier, named, strict=True)]
    frame = pd.DataFrame({
        "account_id": [f"A{k:03d}" for k in range(1, n + 1)],
        "name": [f"Account {k}" for k in range(1, n + 1)],
        "annual_volume": volume,
        "needs_profile": np.where(explicit, "", profile),
        **{f"need_{d}": np.where(explicit, weights[:, k].astype(str), "")
           for k, d in enumerate(DEPARTMENTS)},
        "stance": np.where(rng.random(n) < 0.3, "adversarial", "partnership"),
        "current_supplier": supplier,
        "salesperson_id": people,
        "trust": np.round(rng.beta(5, 4, n), 2),
        "satisfaction": np.round(rng.beta(6, 3, n), 2),
        "share_of_wallet": np.round(rng.uniform(0.45, 0.95, n), 2),
        "tenure_months": rng.integers(1, 97, n),
        "months_since_contact": np.minimum(rng.geometric(0.35, n) - 1, 12),
    })
    return frame


if __name__ == "__main__":
    out = Path(__file__).with_name("accounts.csv")
    make_accounts().to_csv(out, index=False)
    print(f"wrote {out}")
