"""The team's own monthly history, and the baseline calibrated to it (``history=FILE``).

The history is a CSV of the firm's recent months, in the book's currency:

- **aggregate**: one row per month, columns ``month`` (1, 2, … or ``YYYY-MM``),
  ``revenue`` (our revenue that month) and optionally ``accounts_lost`` (our
  accounts lost that month) and ``revenue_se`` (the standard error of the
  month's revenue, if the team knows it);
- **per account**: columns ``account_id``, ``month``, ``revenue`` and
  optionally ``lost`` (1 in the month the account was lost); revenue is
  summed per month and lost accounts counted.

Months are taken in order: history month *k* is compared with the
baseline's month *k*. The assumption is the one a baseline makes anyway:
with nothing new happening, the business goes on as it did in its recent
history. Without ``revenue_se`` a month's standard error is the history's
own month-to-month noise, ``sd(Δ revenue)/√2`` (robust to a smooth trend).

:func:`calibrate_baseline` fits a few parameters (by default delivery
noise ``market.noise`` and the trust lost per broken promise
``relationship.trust_loss``, the two that move an example book's revenue
path and churn most) so that the baseline's monthly revenue and its
accounts lost over the history match it, with :mod:`sim.calibrate`
(method of simulated moments, common random numbers).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.targets import Parameter, Problem, Target
from sim.whatif.book import Book, BookError, _decode, _separator

#: Parameters fitted by default: they move a book's revenue path and churn most (docs/whatif.md)
DEFAULT_PARAMS: tuple[str, ...] = ("market.noise:[0.02,0.25]",
                                   "relationship.trust_loss:[2,20]")
LOST = "accounts_lost"


@dataclass(frozen=True)
class History:
    """Monthly revenue (with standard errors) and accounts lost, month 1 first."""

    path: Path
    revenue: np.ndarray
    revenue_se: np.ndarray
    accounts_lost: np.ndarray | None
    labels: tuple[str, ...]

    @property
    def months(self) -> int:
        """Number of months of history."""
        return int(self.revenue.size)


def load_history(path: Path | str) -> History:
    """Read and check a history CSV (module doc); :class:`BookError` names the bad cell."""
    path = Path(path)
    try:
        text, _ = _decode(path)  # as the book: UTF-8 (with or without BOM) or Windows-1252
    except OSError as err:
        raise BookError(path, None, None, f"cannot read it ({err.strerror})") from None
    sep = _separator(text.split("\n", 1)[0])  # a semicolon file has decimal commas
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, decimal="," if sep == ";" else ".",
                            dtype={"month": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise BookError(path, None, None, f"not a CSV table ({err})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for column in ("month", "revenue"):
        if column not in frame.columns:
            raise BookError(path, None, column, f"column missing (columns: {list(frame.columns)};"
                            " expected month, revenue[, accounts_lost, revenue_se] or "
                            "account_id, month, revenue[, lost])")
    for column in ("revenue", "accounts_lost", "revenue_se", "lost"):
        if column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy() < 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0]) + 2
                raise BookError(path, row, column, f"{str(frame[column].iloc[row - 2])!r} is not "
                                "allowed: expected a number ≥ 0")
            frame[column] = values.astype(float)
    frame["month"] = frame["month"].astype(str).str.strip()
    per_account = "account_id" in frame.columns
    labels = list(dict.fromkeys(frame["month"]))  # in the file's order
    if frame["month"].str.fullmatch(r"\d+").all():
        labels = sorted(labels, key=int)
    elif frame["month"].str.fullmatch(r"\d{4}-\d{2}").all():
        labels = sorted(labels)
    if len(labels) < 3:
        raise BookError(path, None, "month", f"{len(labels)} months are not enough: expected "
                        "at least 3")
    if not per_account and frame["month"].duplicated().any():
        row = int(np.flatnonzero(frame["month"].duplicated().to_numpy())[0]) + 2
        raise BookError(path, row, "month", "appears twice (aggregate history: one row per "
                        "month; add account_id for one row per account and month)")
    grouped = frame.groupby("month", sort=False)
    revenue = grouped["revenue"].sum().loc[labels].to_numpy(dtype=float)
    lost_column = "lost" if per_account else LOST
    lost = (grouped[lost_column].sum().loc[labels].to_numpy(dtype=float)
            if lost_column in frame.columns else None)
    if "revenue_se" in frame.columns and not per_account:
        se = frame.set_index("month")["revenue_se"].loc[labels].to_numpy(dtype=float)
    else:
        noise = float(np.std(np.diff(revenue), ddof=1) / math.sqrt(2.0))
        se = np.full(revenue.size, noise)
    floor = 0.01 * float(np.mean(revenue)) if np.mean(revenue) > 0 else 1.0
    se = np.maximum(se, floor)  # a standard error of 0 would demand an exact match
    return History(path, revenue, se, lost, tuple(labels))


def history_targets(history: History) -> tuple[Target, ...]:
    """One target per month of revenue, and the accounts lost over the history (Poisson s.e.)."""
    targets = [Target(f"revenue.{k + 1:02d}", float(v), float(s), f"{history.path.name}, "
                      f"month {label}")
               for k, (v, s, label) in enumerate(zip(history.revenue, history.revenue_se,
                                                     history.labels, strict=True))]
    if history.accounts_lost is not None:
        total = float(history.accounts_lost.sum())
        targets.append(Target(f"{LOST}.total", total, math.sqrt(max(total, 1.0)),
                              f"{history.path.name}, all months"))
    return tuple(targets)


def simulate_history(overrides: tuple[str, ...], seed: int, targets: list[Target],
                     book: Book, months: int) -> list[float]:
    """The baseline's monthly revenue (book currency) and accounts lost over ``months``."""
    from sim.config import ConfigError
    from sim.whatif.run import BASELINE, run_one, scenario_configs

    try:
        scenario = scenario_configs(book, [], months, None, list(overrides))[BASELINE]
    except ConfigError:
        return [math.nan] * len(targets)
    steps = run_one(scenario, book, BASELINE, seed)["steps"].sort_values("step")
    values = list(steps["revenue"].to_numpy(dtype=float)[:months])
    if any(t.name.startswith(LOST) for t in targets):
        values.append(float(steps["book_accounts_lost"].iloc[months - 1]))
    return values


@dataclass(frozen=True)
class BaselineFit:
    """The history, the fit, and the overrides that make the baseline follow the history."""

    history: History
    fit: object  # sim.calibrate.fit.Fit
    overrides: list[str]


def calibrate_baseline(book: Book, history: History, params: list[Parameter],
                       overrides: list[str], budget: int, seeds: int, jobs: int,
                       progress: bool = False) -> BaselineFit:
    """Fit ``params`` so that the baseline reproduces ``history`` (module doc)."""
    from sim.calibrate.fit import calibrate

    problem = Problem(history_targets(history), tuple(params), tuple(overrides))
    simulator = partial(simulate_history, book=book, months=history.months)
    fit = calibrate(problem, budget=budget, seeds=seeds, seed=0, jobs=jobs,
                    progress=progress, simulator=simulator)
    calibrated = [f"{k}={v}" for k, v in fit.calibrated().items()]
    return BaselineFit(history, fit, calibrated)
