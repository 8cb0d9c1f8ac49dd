"""coevolution: the strategy mix over time when suppliers imitate more profitable rivals.

Per run, from ``steps.parquet`` (one run at a time, :func:`sim.report.run_steps`):
the share of suppliers following each strategy (lone seller, company-wide,
hybrid) at every collected step. Per cell (buyer stance × needs breadth) the
shares at each step are averaged over seeds with a 95% CI (percentile
bootstrap: shares lie in [0, 1]), and the final mix is tabulated.

The figure has one panel per cell: the mean share of each strategy over time
with its band. The table gives the final shares (last step) with CIs and how
many seeds ended with all suppliers on one strategy (fixation: imitation
alone cannot bring a strategy back once every firm has dropped it).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.config import STRATEGIES
from sim.report import mean_ci, run_steps, save_figure

STANCE = "buyers"
BREADTH = "buyers.needs_breadth"
COLORS = {"lone_seller": "tab:orange", "company_wide": "tab:blue", "hybrid": "tab:green"}


def strategy_mix(folder: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run × step: stance, breadth, seed and the share of each strategy."""
    cells = runs.drop_duplicates("run").set_index("run")
    rows = []
    for run, frame in run_steps(folder, runs, ["step", "supplier", "strategy"],
                                "the coevolution analysis"):
        counts = frame.groupby(["step", "strategy"]).size().unstack(fill_value=0)
        shares = counts.div(counts.sum(axis=1), axis=0).reindex(columns=list(STRATEGIES),
                                                                 fill_value=0.0)
        shares = shares.reset_index().assign(
            run=run, **{STANCE: cells.at[run, STANCE], BREADTH: cells.at[run, BREADTH],
                        "seed": cells.at[run, "seed"]})
        rows.append(shares)
    return pd.concat(rows, ignore_index=True)


def _band(frame: pd.DataFrame, strategy: str) -> tuple[np.ndarray, ...]:
    """Steps, mean share and its 95% CI over seeds, per step."""
    steps, mean, lo, hi = [], [], [], []
    for step, at in frame.groupby("step"):
        m, low, high, _ = mean_ci(at[strategy], kind="share")
        steps.append(step)
        mean.append(m)
        lo.append(low)
        hi.append(high)
    return tuple(np.asarray(a) for a in (steps, mean, lo, hi))


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Figure ``mix.png`` (strategy shares over time per cell) and the final-mix table."""
    mix = strategy_mix(folder, runs)
    stances = sorted(mix[STANCE].unique(), reverse=True)  # partnership first
    breadths = sorted(mix[BREADTH].unique())
    fig, axes = plt.subplots(len(stances), len(breadths), figsize=(3.2 * len(breadths),
                             2.8 * len(stances)), sharex=True, sharey=True,
                             constrained_layout=True, squeeze=False)
    last = mix["step"].max()
    lines = ["| stance | needs breadth | " + " | ".join(f"{s} share at step {last}"
                                                       for s in STRATEGIES)
             + " | seeds fixed on one strategy |", "|---" * (3 + len(STRATEGIES)) + "|"]
    for r, stance in enumerate(stances):
        for c, breadth in enumerate(breadths):
            cell = mix[(mix[STANCE] == stance) & (mix[BREADTH] == breadth)]
            ax = axes[r, c]
            for strategy in STRATEGIES:
                steps, mean, lo, hi = _band(cell, strategy)
                ax.plot(steps, mean, color=COLORS[strategy], label=strategy)
                ax.fill_between(steps, lo, hi, color=COLORS[strategy], alpha=0.2)
            ax.set_title(f"{stance}, breadth {breadth:g}", fontsize=9)
            end = cell[cell["step"] == last]
            fixed = int((end[list(STRATEGIES)].max(axis=1) == 1.0).sum())
            cis = [mean_ci(end[s], kind="share") for s in STRATEGIES]
            lines.append(f"| {stance} | {breadth:g} | " + " | ".join(
                f"{m:.2f} [{lo:.2f}, {hi:.2f}]" for m, lo, hi, _ in cis)
                + f" | {fixed} of {len(end)} |")
    for ax in axes[-1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("share of suppliers")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Strategy mix under imitation: mean share of suppliers and 95% CI over seeds")
    save_figure(fig, folder / "mix.png")
    return ("Share of the suppliers following each strategy; suppliers copy a more "
            "profitable rival's strategy every `adaptation.revise_every` steps.\n\n"
            + "\n".join(lines) + "\n\n![strategy mix](mix.png)")
