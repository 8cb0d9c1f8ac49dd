"""sensitivity: Sobol (or Morris) indices of the company-wide minus lone-seller profit gap.

The output of design row r is the profit per supplier of the company-wide
firms minus that of the lone sellers in the same run (summary window),
averaged over the row's seeds. :func:`sim.design.analyse` (SALib) turns the
rows into indices with bootstrap 95% intervals.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim import design
from sim.report import save_figure, sweep_config

ROW = "design.row"


def profit_gap(runs: pd.DataFrame) -> pd.Series:
    """Per design row: mean over its runs of profit(company_wide) − profit(lone_seller)."""
    wide = runs.pivot_table(index=["run", ROW], columns="strategy", values="profit")
    gap = (wide["company_wide"] - wide["lone_seller"]).rename("gap").reset_index()
    return gap.groupby(ROW)["gap"].mean()


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Figure ``sensitivity.png`` and the table of indices."""
    config = sweep_config(folder, runs)
    spec = config["design"]
    y = profit_gap(runs)
    table = design.analyse(spec, y)
    table.to_csv(folder / "indices.csv", index=False)
    names = table["parameter"].str.replace("strategy.", "", regex=False)
    fig, ax = plt.subplots(figsize=(10, 4.5), constrained_layout=True)
    k = np.arange(len(table))
    if spec["method"] == "sobol":
        ax.bar(k - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], capsize=3, label="first order S1")
        ax.bar(k + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], capsize=3, label="total ST")
        cols = ["S1", "S1_conf", "ST", "ST_conf"]
    else:
        ax.bar(k, table["mu_star"], yerr=table["mu_star_conf"], capsize=3, label="μ*")
        cols = ["mu_star", "mu_star_conf", "sigma"]
    ax.set_xticks(k, names, rotation=25, ha="right", fontsize=8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend()
    ax.set_title(f"{spec['method']} indices of the company-wide − lone-seller profit gap "
                 f"({len(y)} design rows; bars: 95% bootstrap CI)")
    save_figure(fig, folder / "sensitivity.png")
    lines = [f"Output: profit gap, mean {y.mean():.3g}, sd {y.std():.3g} over the design.", "",
             "| parameter | range | " + " | ".join(cols) + " |", "|---" * (2 + len(cols)) + "|"]
    for row in table.itertuples(index=False):
        low, high = spec["parameters"][row.parameter]
        lines.append(f"| {row.parameter} | [{low:g}, {high:g}] | "
                     + " | ".join(f"{getattr(row, c):.3f}" for c in cols) + " |")
    return "\n".join(lines) + "\n\n![sensitivity](sensitivity.png)"
