"""Aggregate a sweep's runs: tables with 95% CIs, a Markdown report, figures.

Usage: ``python -m sim.report results/<name>/<timestamp>`` (also run at the
end of every sweep). Writes into that folder ``runs.parquet`` (one row per
run × strategy, with the swept parameters as columns) and ``report.md``, and:

- without swept parameters (seeds only): ``comparison.png``, bars and time
  series per strategy;
- with swept parameters: ``cells.parquet`` (parameters × strategy × outcome:
  mean, 95% CI, n), ``outcomes.png`` (each headline outcome against the first
  swept parameter, a line per strategy with its CI band) and
  ``timeseries.png`` (trust and loyalty over time per strategy, a panel per
  value of the first parameter).

An experiment's own ``analysis.py`` (:mod:`sim.experiments`) adds its
section and figures to the same folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from scipy.special import stdtrit  # noqa: E402  (Student's t quantile; scipy.stats costs ~1 s to import)

from sim import experiments  # noqa: E402
from sim.metrics import (  # noqa: E402
    MARKET_METRICS,
    OUTCOME_KIND,
    RANGES,
    SUPPLIER_METRICS,
    WINDOW_METRICS,
)
from sim.results import (  # noqa: E402
    STEPS,
    ResultsError,
    ResultsWarning,
    atomic_write,
    load_results,
    read_parquet,
    steps_files,
    write_text,
)

KEY_OUTCOMES: dict[str, str] = {
    "market_share": "Market share",
    "share_of_wallet": "Share of wallet",
    "profit": "Profit per step",
    "revenue": "Revenue per step",
    "clv": "Customer lifetime value",
    "retention": "Retention over the window",
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


#: Percentile-bootstrap resamples of a bounded outcome's mean (:func:`mean_ci`), and the
#: seed of their generator: the same values always give the same interval.
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 20240
#: Resampled values drawn at once (bounds the memory of a bootstrap over many runs).
_BOOTSTRAP_CHUNK = 2_000_000


def mean_ci(values: Sequence[float], level: float = 0.95,
            kind: str = "real") -> tuple[float, float, float, int]:
    """Mean and a ``level`` interval of the mean over runs: (mean, low, high, n).

    ``kind`` is the outcome's kind (:data:`sim.metrics.RANGES`, e.g. from
    :func:`outcome_kind`). For ``"real"`` (either sign, e.g. a difference) it
    is Student's ``mean ± t·sd/√n``. For a bounded kind (``"share"`` in
    [0, 1], ``"count"`` and ``"amount"`` ≥ 0) it is the percentile bootstrap
    (:data:`BOOTSTRAP_RESAMPLES` resamples of the runs, generator seeded with
    :data:`BOOTSTRAP_SEED`): the quantiles ``(1 ∓ level)/2`` of the resampled
    means, which lie between the smallest and the largest value, so the
    interval never leaves the outcome's range (a t interval does near a bound:
    ``silent_churn 0.0083 [−0.0033, 0.0199]``). For n ≈ 10 it is somewhat
    narrower than the t interval (it uses the plug-in spread and normal-like
    quantiles).

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
    if kind not in RANGES:
        raise ValueError(f"kind={kind!r}: expected one of {sorted(RANGES)}")
    if kind != "real":
        low, high = np.quantile(bootstrap_means(x), [0.5 - level / 2, 0.5 + level / 2])
        return (mean, float(low), float(high), n)
    half = stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / np.sqrt(n)
    return (mean, mean - half, mean + half, n)


def bootstrap_means(x: np.ndarray) -> np.ndarray:
    """Means of :data:`BOOTSTRAP_RESAMPLES` resamples (with replacement) of ``x``, seeded."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    rows = max(1, _BOOTSTRAP_CHUNK // x.size)
    return np.concatenate([
        x[rng.integers(0, x.size, size=(min(rows, BOOTSTRAP_RESAMPLES - k), x.size))].mean(axis=1)
        for k in range(0, BOOTSTRAP_RESAMPLES, rows)
    ])


def outcome_kind(outcome: str) -> str:
    """The kind of an outcome (:data:`sim.metrics.OUTCOME_KIND`); ``"real"`` if not declared."""
    return OUTCOME_KIND.get(outcome, "real")


def outcome_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Tidy table: strategy × outcome with mean, ci_low, ci_high, n (:func:`mean_ci` by kind)."""
    rows = []
    present = [key for key in KEY_OUTCOMES if key in runs.columns]  # older runs may lack some
    for strategy, frame in runs.groupby("strategy", sort=True):
        for key in present:
            mean, low, high, n = mean_ci(frame[key], kind=outcome_kind(key))
            rows.append({"strategy": strategy, "outcome": key, "mean": mean,
                         "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows)


#: How the report's intervals are made (a line under each table).
CI_NOTE = ("95% CIs over runs: percentile bootstrap (seeded) for outcomes bounded to [0, 1] "
           "or ≥ 0, so they never leave the range; Student t for profit, CLV and loyalty. "
           "CLV is the lifetime formula on the window means of profit per account and "
           "retention over the retention window.")


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


def comparison_figure(table: pd.DataFrame, bands: pd.DataFrame, path: Path) -> None:
    """Bars with 95% CIs for the key outcomes, and time series with bands over runs
    (``bands``: :func:`step_bands`)."""
    strategies = sorted(table["strategy"].unique())
    colors = dict(zip(strategies, plt.cm.tab10.colors, strict=False))
    bars = ["market_share", "share_of_wallet", "profit", "mean_trust", "person_bound_share",
            "transaction_cost", "silent_churn", "voiced_churn"]
    series = [("market_share", "Market share per supplier"), ("mean_trust", "Mean trust"),
              ("loyalty_person", "Loyalty to the salesperson"),
              ("loyalty_firm", "Loyalty to the firm"), ("profit", "Profit per supplier")]
    series = [(key, label) for key, label in series if key in set(bands["outcome"])]
    fig = plt.figure(figsize=(15, 8), constrained_layout=True)
    rows = fig.add_gridspec(2, 1)
    top_row = rows[0].subgridspec(1, len(bars))
    bottom_row = rows[1].subgridspec(1, max(len(series), 1))
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
        for s in strategies:
            band = bands[(bands["strategy"] == s) & (bands["outcome"] == key)]
            ax.plot(band["step"], band["mean"], color=colors[s], label=s.replace("_", " "))
            ax.fill_between(band["step"], band["low"], band["high"], color=colors[s],
                            alpha=0.25)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("step")
    n_runs = int(table["n"].max())
    fig.suptitle(f"Strategies compared: mean and 95% CI over {n_runs} runs (bars: last 20% of "
                 "steps; lines: over time)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in strategies]
    fig.legend(handles, [s.replace("_", " ") for s in strategies], loc="outside lower center",
               ncols=len(strategies))
    save_figure(fig, path, dpi=90)


#: Time series of ``comparison.png`` and ``timeseries.png``.
COMPARISON_SERIES = ("market_share", "mean_trust", "loyalty_person", "loyalty_firm", "profit")
TIMESERIES = ("mean_trust", "loyalty_person", "loyalty_firm")
#: The outcomes of the Markdown table and of ``outcomes.png`` when parameters are swept.
HEADLINE: tuple[str, ...] = ("market_share", "share_of_wallet", "profit", "clv", "mean_trust",
                             "person_bound_share", "silent_churn", "voiced_churn")
_NOT_PARAMS = {"run", "seed", "strategy", "n_suppliers", *SUPPLIER_METRICS, *WINDOW_METRICS,
               *(f"market_{k}" for k in MARKET_METRICS)}


def swept_parameters(runs: pd.DataFrame) -> list[str]:
    """The parameter columns of ``runs`` that take more than one value, in column order."""
    return [c for c in runs.columns
            if c not in _NOT_PARAMS and runs[c].astype(str).nunique() > 1]


def cell_table(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Tidy table: parameters × strategy × outcome with mean, ci_low, ci_high, n over seeds
    (:func:`mean_ci` by the outcome's kind)."""
    rows = []
    present = [key for key in KEY_OUTCOMES if key in runs.columns]
    for keys, frame in runs.groupby([*params, "strategy"], sort=True, dropna=False):
        for key in present:
            mean, low, high, n = mean_ci(frame[key], kind=outcome_kind(key))
            rows.append({**dict(zip([*params, "strategy"], keys, strict=True)), "outcome": key,
                         "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows)


def format_cells(cells: pd.DataFrame, params: list[str]) -> str:
    """Markdown: a row per (cell, strategy), a column per headline outcome, 'mean [low, high]'.

    A strategy that no run of a cell has at the end (suppliers can change
    strategy, ``adaptation=imitation``) has no row there.
    """
    keys = [k for k in HEADLINE if k in set(cells["outcome"])]
    wide = cells.pivot_table(index=[*params, "strategy"], columns="outcome",
                             values=["mean", "ci_low", "ci_high", "n"], aggfunc="first",
                             dropna=False)
    lines = ["| " + " | ".join([*params, "strategy", "n"] + [KEY_OUTCOMES[k] for k in keys])
             + " |", "|---" * (len(params) + 2 + len(keys)) + "|"]
    for index, row in wide.iterrows():
        if pd.isna(row[("n", keys[0])]):  # no run of this cell has the strategy (imitation)
            continue
        cells_md = [f"{row[('mean', k)]:.3g} [{row[('ci_low', k)]:.3g}, "
                    f"{row[('ci_high', k)]:.3g}]" for k in keys]
        n = int(row[("n", keys[0])])
        lines.append("| " + " | ".join([*map(str, index), str(n), *cells_md]) + " |")
    return "\n".join(lines)


def _band(ax: plt.Axes, x: np.ndarray, mean: np.ndarray, low: np.ndarray, high: np.ndarray,
          color: Any, label: str, style: str = "-") -> None:
    ax.plot(x, mean, style, color=color, label=label, marker="o", markersize=3)
    ax.fill_between(x, np.nan_to_num(low, nan=mean), np.nan_to_num(high, nan=mean),
                    color=color, alpha=0.2)


def outcomes_figure(cells: pd.DataFrame, params: list[str], path: Path) -> None:
    """Each headline outcome against the swept parameter with most values; a line per
    strategy (and a line style per value of the next parameter), with 95% CI bands."""
    x_name, rest = _axis(cells, params), [p for p in params if p != _axis(cells, params)][:1]
    keys = [k for k in HEADLINE if k in set(cells["outcome"])]
    strategies = sorted(cells["strategy"].unique())
    colors = dict(zip(strategies, plt.cm.tab10.colors, strict=False))
    levels = sorted(cells[x_name].unique(), key=_sort_key)
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels)
    positions = {v: (float(v) if numeric else k) for k, v in enumerate(levels)}
    second = sorted(cells[rest[0]].unique(), key=_sort_key) if rest else [None]
    styles = {v: ("-", "--", ":", "-.")[k % 4] for k, v in enumerate(second)}
    fig, axes = plt.subplots(2, (len(keys) + 1) // 2, figsize=(16, 7), constrained_layout=True,
                             squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        for s in strategies:
            for v in second:
                sub = cells[(cells["outcome"] == key) & (cells["strategy"] == s)]
                if rest:
                    sub = sub[sub[rest[0]] == v]
                sub = sub.assign(_x=sub[x_name].map(positions)).sort_values("_x")
                label = s.replace("_", " ") + ("" if v is None else f", {rest[0]}={v}")
                _band(ax, sub["_x"].to_numpy(float), sub["mean"].to_numpy(float),
                      sub["ci_low"].to_numpy(float), sub["ci_high"].to_numpy(float),
                      colors[s], label, styles[v])
        ax.set_title(KEY_OUTCOMES[key], fontsize=10)
        ax.set_xlabel(x_name, fontsize=8)
        if not numeric:
            ax.set_xticks(list(positions.values()), [str(v) for v in levels], fontsize=8)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6))
    n = int(cells["n"].max())
    fig.suptitle(f"Outcomes against {x_name}: mean and 95% CI over up to {n} seeds per cell")
    save_figure(fig, path)


def timeseries_figure(bands: pd.DataFrame, x_name: str, path: Path,
                      series: Sequence[str] = TIMESERIES) -> None:
    """Trust and loyalty over time per strategy (mean and 95% band over runs), a column per
    value of ``x_name`` (at most five, spread over its range); ``bands``: :func:`step_bands`
    with ``level=x_name``."""
    levels = sorted(bands["level"].unique(), key=_sort_key)
    if len(levels) > 5:
        levels = [levels[i] for i in np.linspace(0, len(levels) - 1, 5).round().astype(int)]
    strategies = sorted(bands["strategy"].unique())
    colors = dict(zip(strategies, plt.cm.tab10.colors, strict=False))
    fig, axes = plt.subplots(len(series), len(levels), figsize=(3.2 * len(levels) + 1, 7),
                             sharex=True, sharey="row", squeeze=False, constrained_layout=True)
    for col, level in enumerate(levels):
        for row, key in enumerate(series):
            ax = axes[row, col]
            for s in strategies:
                band = bands[(bands["level"] == level) & (bands["strategy"] == s)
                             & (bands["outcome"] == key)]
                if band.empty:
                    continue
                ax.plot(band["step"], band["mean"], color=colors[s], label=s.replace("_", " "))
                ax.fill_between(band["step"], band["low"], band["high"], color=colors[s],
                                alpha=0.2)
            if row == 0:
                ax.set_title(f"{x_name}={level}", fontsize=9)
            if col == 0:
                ax.set_ylabel(KEY_OUTCOMES[key], fontsize=9)
            if row == len(series) - 1:
                ax.set_xlabel("step")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=max(len(labels), 1))
    save_figure(fig, path)


def step_bands(root: Path, runs: pd.DataFrame, outcomes: Sequence[str],
               level: str | None = None) -> pd.DataFrame:
    """Mean over runs, per step and strategy, of each outcome's per-run mean, with a 95%
    band: columns ``level, strategy, step, outcome, mean, low, high, n``.

    Reads one run's ``steps.parquet`` at a time (only the columns needed) and
    keeps running sums, so memory does not grow with the number of runs. Runs
    are those of ``runs``; ``level`` names a column of ``runs`` whose value
    labels each run (None: one level). A run whose steps file cannot be read
    is left out with one :class:`~sim.results.ResultsWarning`. The band is
    :func:`band_limits` of the running sums (inside the outcome's range).
    """
    wanted = runs.drop_duplicates("run").set_index("run")
    labels = wanted[level] if level else pd.Series(None, index=wanted.index, dtype=object)
    parts: list[pd.DataFrame] = []
    for run, frame in run_steps(root, runs, ["step", "strategy", *outcomes],
                                "the time series"):
        per_run = frame.groupby(["strategy", "step"])[
            [key for key in outcomes if key in frame]].mean()
        sums = pd.concat({"sum": per_run, "sq": per_run**2, "n": per_run.notna().astype(int)},
                         axis=1)
        parts.append(pd.concat([sums], keys=[labels[run]], names=["level"]))
        if len(parts) >= 256:  # fold the running sums: memory stays per step, not per run
            parts = [pd.concat(parts).groupby(level=[0, 1, 2], dropna=False).sum()]
    columns_out = ["level", "strategy", "step", "outcome", "mean", "low", "high", "n"]
    if not parts:
        return pd.DataFrame(columns=columns_out)
    total = pd.concat(parts).groupby(level=[0, 1, 2], dropna=False).sum()
    rows = []
    for key in [k for k in outcomes if ("n", k) in total]:
        n = total[("n", key)].to_numpy(float)
        mean = total[("sum", key)].to_numpy(float) / np.where(n > 0, n, np.nan)
        var = (total[("sq", key)].to_numpy(float) - n * mean**2) / np.where(n > 1, n - 1, np.nan)
        se = np.sqrt(np.clip(np.nan_to_num(var), 0, None)) / np.sqrt(np.maximum(n, 1))
        low, high = band_limits(mean, se, n, outcome_kind(key))
        index = total.index.to_frame(index=False)
        rows.append(index.assign(outcome=key, mean=mean, low=low, high=high, n=n))
    return pd.concat(rows, ignore_index=True)[columns_out]


def band_limits(mean: np.ndarray, se: np.ndarray, n: np.ndarray, kind: str,
                level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """A ``level`` band around means from their standard errors, inside the kind's range.

    With ``t = t_{(1+level)/2, n−1}``: ``"real"``: ``mean ± t·se``;
    ``"count"``/``"amount"`` (≥ 0): on the log scale, ``mean·exp(±t·se/mean)``;
    ``"share"`` ([0, 1]): on the logit scale, ``expit(logit(mean) ±
    t·se/(mean·(1 − mean)))`` (the delta method: the standard error of the
    transformed mean). A mean on a bound has ``se = 0`` (every run there) and
    a band of that one value. The time-series bands use it because they keep
    only running sums (:func:`step_bands`); the tables bootstrap (:func:`mean_ci`).
    """
    t = stdtrit(np.maximum(n, 2) - 1, 0.5 + level / 2)
    half = t * se
    if kind == "real":
        return mean - half, mean + half
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "share":
            inside = (mean > 0) & (mean < 1)
            logit = np.log(mean) - np.log1p(-mean)
            spread = half / (mean * (1 - mean))
            low = np.where(inside, 1 / (1 + np.exp(-(logit - spread))), mean)
            high = np.where(inside, 1 / (1 + np.exp(-(logit + spread))), mean)
        else:
            inside = mean > 0
            factor = np.exp(np.where(inside, half / mean, 0.0))
            low, high = mean / factor, mean * factor
    return low, high


def run_steps(root: Path, runs: pd.DataFrame, columns: Sequence[str],
              what: str) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each run's steps, one run at a time: ``(run name, its rows)`` with only ``columns``
    (those the file has), for the runs of ``runs``, in run order.

    Reads one ``steps.parquet`` at a time, so an analysis that folds each run into a few
    numbers needs the memory of one run, not of the sweep (10,000 runs × 150 steps).
    A run whose steps cannot be read is left out with one
    :class:`~sim.results.ResultsWarning` naming the file and ``what`` it is missing from.
    """
    wanted = set(runs["run"])
    for path in steps_files(root):
        if path.parent.name not in wanted:
            continue
        try:
            frame = read_parquet(path, columns=list(columns))
        except ResultsError as err:
            warnings.warn(f"run skipped in {what}: {err}", ResultsWarning, stacklevel=3)
            continue
        yield path.parent.name, frame


def save_figure(fig: plt.Figure, path: Path, dpi: int = 80) -> None:
    """Write a matplotlib figure as PNG atomically and close it."""
    atomic_write(path, lambda p: fig.savefig(p, dpi=dpi, format="png"))
    plt.close(fig)


def sweep_config(root: Path, runs: pd.DataFrame) -> dict[str, Any]:
    """The resolved config of the sweep's first run (the settings its cells share)."""
    return yaml.safe_load((root / runs["run"].iloc[0] / "config.yaml").read_text())


def paired_effect(runs: pd.DataFrame, outcome: str, factor: str, baseline: Any,
                  by: Sequence[str] = ("strategy",)) -> pd.DataFrame:
    """Per-seed difference ``outcome(factor=level) − outcome(factor=baseline)``, same seed and
    same other cell values, summarised as mean and 95% CI per ``by`` group and level."""
    others = [c for c in swept_parameters(runs) if c != factor]
    keys = ["seed", *by, *others]
    base = runs[runs[factor] == baseline].set_index(keys)[outcome]
    rows = []
    for group, frame in runs[runs[factor] != baseline].groupby([*by, *others, factor]):
        diff = frame.set_index(keys)[outcome] - base.reindex(frame.set_index(keys).index)
        mean, low, high, n = mean_ci(diff)
        rows.append({**dict(zip([*by, *others, factor], group, strict=True)),
                     "outcome": outcome, "effect": mean, "ci_low": low, "ci_high": high,
                     "n": n})
    return pd.DataFrame(rows)


def report(root: Path, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Aggregate the runs below ``root`` into runs.parquet, report.md and figures.

    ``runs`` is :func:`~sim.results.load_results` of ``root`` if already loaded.
    Returns the tidy outcome table (per strategy, or per cell and strategy).
    """
    runs = load_results(root) if runs is None else runs
    if runs.empty:
        raise FileNotFoundError(f"no complete runs (with manifest.json) below {root}")
    atomic_write(root / "runs.parquet", lambda p: runs.to_parquet(p, index=False))
    params = swept_parameters(runs)
    if params == ["design.row"]:  # a sensitivity design: its analysis reads the rows
        params = []
    if not params:
        table = outcome_table(runs)
        body = f"{format_table(table)}\n\n{CI_NOTE}\n\n![comparison](comparison.png)"
        comparison_figure(table, step_bands(root, runs, COMPARISON_SERIES),
                          root / "comparison.png")
    else:
        table = cell_table(runs, params)
        atomic_write(root / "cells.parquet", lambda p: table.to_parquet(p, index=False))
        outcomes_figure(table, params, root / "outcomes.png")
        x_name = _axis(runs, params)
        bands = step_bands(root, runs, TIMESERIES, level=x_name)
        body = (f"Swept: {', '.join(params)}; mean [95% CI] over seeds per cell.\n\n"
                f"{format_cells(table, params)}\n\n{CI_NOTE}\n\n![outcomes](outcomes.png)")
        if len(bands):
            timeseries_figure(bands, x_name, root / "timeseries.png")
            body += "\n\n![time series](timeseries.png)"
        else:
            warnings.warn(f"no readable {STEPS} below {root}: no time series", ResultsWarning,
                          stacklevel=2)
    write_text(root / "report.md", f"# Results: {root}\n\n{body}\n")
    return table


def report_sweep(root: Path, experiment: str | None) -> pd.DataFrame:
    """:func:`report`, then the experiment's own analysis appended to report.md."""
    runs = load_results(root)
    table = report(root, runs)
    analyse = experiments.analysis(experiment) if experiment else None
    if analyse is not None:
        section = analyse(root, runs)
        text = (root / "report.md").read_text(encoding="utf-8")
        write_text(root / "report.md", f"{text}\n## {experiment}\n\n{section}\n")
    return table


def _axis(frame: pd.DataFrame, params: list[str]) -> str:
    """The swept parameter to put on the x axis: the one with most values (first on a tie)."""
    return max(params, key=lambda p: frame[p].nunique())


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, each in natural order."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m sim.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a sweep folder (or any folder of runs)")
    args = parser.parse_args(argv)
    warnings.showwarning = _warning_line
    experiment = _read_experiment(args.folder)
    try:
        report_sweep(args.folder, experiment)
    except (FileNotFoundError, ResultsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print((args.folder / "report.md").read_text(encoding="utf-8"))
    return 0


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """A warning as one line, ``warning: <message>`` (a skipped run names its file)."""
    print(f"warning: {message}", file=sys.stderr)


def _read_experiment(folder: Path) -> str | None:
    """The experiment recorded in the folder's sweep.json, if any."""
    try:
        return json.loads((folder / "sweep.json").read_text()).get("experiment")
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
