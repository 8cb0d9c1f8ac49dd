"""Aggregate a sweep's runs: a table per strategy with 95% CIs, a Markdown report, a figure.

Usage: ``python -m sim.report results/sweeps/<timestamp>``. Writes into that
folder ``runs.parquet`` (one row per run × strategy), ``report.md`` and
``comparison.png``, and prints the table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from sim.results import atomic_write, load_steps, load_summaries, write_text  # noqa: E402

KEY_OUTCOMES: dict[str, str] = {
    "market_share": "Market share",
    "share_of_wallet": "Share of wallet",
    "profit": "Profit per step",
    "retention": "Retention per step",
    "mean_trust": "Mean trust",
    "mean_commitment": "Mean commitment",
    "mean_dependency": "Mean dependency",
    "loyalty_person": "Loyalty to the salesperson",
    "loyalty_firm": "Loyalty to the firm",
    "person_bound_share": "Person-bound loyalty share",
    "transaction_cost": "Non-productive time share",
    "strategic_partners": "Strategic partners",
    "silent_churn": "Silent churn per step",
    "voiced_churn": "Voiced churn per step",
}


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval ``mean ± t·sd/√n`` over runs: (mean, low, high, n).

    Non-finite values (a run with no data for the outcome) are dropped; with
    fewer than two values the interval is NaN.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, 1)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return (mean, mean - half, mean + half, n)


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Tidy table: strategy × outcome with mean, ci_low, ci_high, n."""
    rows = []
    present = [key for key in KEY_OUTCOMES if key in runs.columns]  # older runs may lack some
    for strategy, frame in runs.groupby("strategy", sort=True):
        for key in present:
            mean, low, high, n = mean_ci(frame[key])
            rows.append({"strategy": strategy, "outcome": key, "mean": mean,
                         "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """Markdown table: one row per outcome, one column per strategy, 'mean [low, high]'."""
    strategies = sorted(table["strategy"].unique())
    n = int(table["n"].max()) if len(table) else 0
    lines = [
        f"| outcome (mean [95% CI], n={n} runs) | " + " | ".join(strategies) + " |",
        "|---|" + "---|" * len(strategies),
    ]
    for key, label in KEY_OUTCOMES.items():
        if key not in set(table["outcome"]):
            continue
        cells = []
        for s in strategies:
            row = table[(table["strategy"] == s) & (table["outcome"] == key)].iloc[0]
            cells.append(f"{row['mean']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_figure(table: pd.DataFrame, steps: pd.DataFrame, path: Path) -> None:
    """Bars with 95% CIs for the key outcomes, and time series with bands over runs."""
    strategies = sorted(table["strategy"].unique())
    colors = dict(zip(strategies, plt.cm.tab10.colors, strict=False))
    bars = ["market_share", "share_of_wallet", "profit", "mean_trust", "person_bound_share",
            "transaction_cost", "silent_churn", "voiced_churn"]
    series = [("market_share", "Market share per supplier"), ("mean_trust", "Mean trust"),
              ("loyalty_person", "Loyalty to the salesperson"),
              ("loyalty_firm", "Loyalty to the firm"), ("profit", "Profit per supplier")]
    fig = plt.figure(figsize=(15, 8), constrained_layout=True)
    rows = fig.add_gridspec(2, 1)
    top_row = rows[0].subgridspec(1, len(bars))
    bottom_row = rows[1].subgridspec(1, len(series))
    bars = [key for key in bars if key in set(table["outcome"])]
    for k, key in enumerate(bars):
        ax = fig.add_subplot(top_row[0, k])
        sub = table[table["outcome"] == key].set_index("strategy").loc[strategies]
        err = np.vstack([sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]])
        ax.bar(range(len(strategies)), sub["mean"], yerr=np.nan_to_num(err), capsize=3,
               color=[colors[s] for s in strategies])
        ax.set_title(KEY_OUTCOMES[key], fontsize=9)
        ax.set_xticks([])
        ax.tick_params(labelsize=8)
    for k, (key, label) in enumerate(series):
        ax = fig.add_subplot(bottom_row[0, k])
        per_run = steps.groupby(["strategy", "run", "step"])[key].mean().reset_index()
        for s in strategies:
            wide = per_run[per_run["strategy"] == s].pivot(index="step", columns="run",
                                                            values=key)
            mean = wide.mean(axis=1)
            n = wide.notna().sum(axis=1).clip(lower=2)
            half = stats.t.ppf(0.975, n - 1) * wide.std(axis=1, ddof=1) / np.sqrt(n)
            ax.plot(mean.index, mean, color=colors[s], label=s.replace("_", " "))
            ax.fill_between(mean.index, mean - half.fillna(0), mean + half.fillna(0),
                            color=colors[s], alpha=0.25)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("step")
    n_runs = int(table["n"].max())
    fig.suptitle(f"Strategies compared: mean and 95% CI over {n_runs} runs (bars: last 20% of "
                 "steps; lines: over time)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in strategies]
    fig.legend(handles, [s.replace("_", " ") for s in strategies], loc="outside lower center",
               ncols=len(strategies))
    atomic_write(path, lambda p: fig.savefig(p, dpi=90, format="png"))
    plt.close(fig)


def report(root: Path) -> pd.DataFrame:
    """Aggregate the runs below ``root``; write runs.parquet, report.md, comparison.png."""
    runs = load_summaries(root)
    if runs.empty:
        raise FileNotFoundError(f"no complete runs (with manifest.json) below {root}")
    table = outcome_table(runs)
    atomic_write(root / "runs.parquet", lambda p: runs.to_parquet(p, index=False))
    text = format_table(table)
    figure = "![comparison](comparison.png)"
    write_text(root / "report.md", f"# Results: {root}\n\n{text}\n\n{figure}\n")
    comparison_figure(table, load_steps(root), root / "comparison.png")
    return table


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m sim.report", description=__doc__)
    parser.add_argument("folder", type=Path, help="a sweep folder (or any folder of runs)")
    args = parser.parse_args(argv)
    try:
        table = report(args.folder)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(table))
    print(f"\nwrote {args.folder / 'report.md'}, {args.folder / 'comparison.png'}, "
          f"{args.folder / 'runs.parquet'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
