"""Write examples/history.csv: 18 months of "our" history for the what-if example (fixed seed).

Usage: ``python examples/make_history.py`` (from the project root). The
example firm is invented, so its history is too: our monthly revenue (in the
book's kEUR) and the accounts we lost, as the model's baseline of the
example book (examples/accounts.csv) produces them when deliveries are less
reliable than the defaults say (``market.noise=0.15`` instead of 0.08) and
broken promises cost more trust (``relationship.trust_loss=13`` instead of 9):
one run, seed 77. So ``python -m sim.whatif ... history=examples/history.csv``
has a history the default baseline does not match and a calibration can.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.whatif.book import load_book
from sim.whatif.run import BASELINE, run_one, scenario_configs

HERE = Path(__file__).resolve().parent
TRUTH = ("market.noise=0.15", "relationship.trust_loss=13")
MONTHS = 18


def make_history(seed: int = 77) -> pd.DataFrame:
    """The synthetic history: one row per month, 2025-01 to 2026-06."""
    book = load_book(HERE / "accounts.csv")
    scenario = scenario_configs(book, [], MONTHS, None, list(TRUTH))[BASELINE]
    steps = run_one(scenario, book, BASELINE, seed)["steps"].sort_values("step")
    lost_so_far = np.maximum.accumulate(steps["book_accounts_lost"].to_numpy())  # lost once
    return pd.DataFrame({
        "month": [f"{2025 + k // 12}-{k % 12 + 1:02d}" for k in range(MONTHS)],
        "revenue": np.round(steps["revenue"].to_numpy(), 1),
        "accounts_lost": np.diff(lost_so_far, prepend=0.0).astype(int),
    })


if __name__ == "__main__":
    make_history().to_csv(HERE / "history.csv", index=False)
    print(f"wrote {HERE / 'history.csv'}")
