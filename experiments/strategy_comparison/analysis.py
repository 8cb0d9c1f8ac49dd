"""strategy_comparison: the company-wide minus lone-seller gap across needs breadth (F1, F12).

Both strategies serve the same market in every run, so the gap is paired
within a run; its mean and 95% CI over seeds is taken per needs breadth, and
the crossover is where the gap changes sign (linear interpolation).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.report import KEY_OUTCOMES, mean_ci, save_figure

BREADTH = "buyers.needs_breadth"
OUTCOMES = ("market_share", "profit", "share_of_wallet", "mean_trust", "strategic_partners")
PAIRS = (("company_wide", "lone_seller"), ("hybrid", "lone_seller"))


def gaps(runs: pd.DataFrame, outcome: str, a: str, b: str) -> pd.DataFrame:
    """Per breadth: mean and 95% CI over runs of ``outcome(a) − outcome(b)`` in the same run."""
    wide = runs.pivot_table(index=["run", BREADTH], columns="strategy", values=outcome)
    diff = (wide[a] - wide[b]).rename("gap").reset_index()
    rows = [(level, *mean_ci(frame["gap"])) for level, frame in diff.groupby(BREADTH)]
    return pd.DataFrame(rows, columns=[BREADTH, "gap", "ci_low", "ci_high", "n"])


def crossover(table: pd.DataFrame) -> float:
    """Needs breadth where the gap first turns from negative to positive (NaN if never)."""
    x, y = table[BREADTH].to_numpy(float), table["gap"].to_numpy(float)
    for k in range(1, len(x)):
        if y[k - 1] < 0 <= y[k]:
            return float(x[k - 1] - y[k - 1] * (x[k] - x[k - 1]) / (y[k] - y[k - 1]))
    return float("nan")


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Gap figure (``gaps.png``) and a table of gaps and crossovers."""
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(18, 4), constrained_layout=True)
    lines = ["Gap = outcome of the first strategy minus the lone seller's, in the same market "
             "(mean [95% CI] over seeds).", "",
             "| outcome | pair | " + " | ".join(f"breadth {b:g}" for b in
                                               sorted(runs[BREADTH].unique()))
             + " | crossover breadth |", "|---" * (3 + runs[BREADTH].nunique()) + "|"]
    for ax, outcome in zip(axes, OUTCOMES, strict=True):
        for (a, b), color in zip(PAIRS, ("tab:blue", "tab:orange"), strict=True):
            if not {a, b} <= set(runs["strategy"]):
                continue
            table = gaps(runs, outcome, a, b)
            x = table[BREADTH].to_numpy(float)
            ax.plot(x, table["gap"], "o-", color=color, label=f"{a} − {b}".replace("_", " "))
            ax.fill_between(x, table["ci_low"], table["ci_high"], color=color, alpha=0.2)
            cells = [f"{g:.3g} [{lo:.3g}, {hi:.3g}]" for g, lo, hi in
                     table[["gap", "ci_low", "ci_high"]].itertuples(index=False)]
            cross = crossover(table)
            lines.append(f"| {KEY_OUTCOMES[outcome]} | {a} − {b} | " + " | ".join(cells)
                         + f" | {'—' if np.isnan(cross) else f'{cross:.2f}'} |")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"{KEY_OUTCOMES[outcome]}: gap", fontsize=10)
        ax.set_xlabel("needs breadth (share of needs outside product)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Company-wide and hybrid against the lone seller, by buyers' needs breadth")
    save_figure(fig, folder / "gaps.png")
    return "\n".join(lines) + "\n\n![gaps](gaps.png)"
