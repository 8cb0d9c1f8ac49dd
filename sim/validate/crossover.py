"""Where the strategies cross: the needs breadth at which company-wide overtakes lone sellers.

In a mixed market (lone-seller and company-wide firms side by side, the
default ``strategy=mixed``) the per-supplier gap ``company_wide − lone_seller``
of an outcome (market share, profit) is measured over a grid of needs
breadths (``buyers.needs_breadth``: how much of a buyer's needs lies beyond
the product, F1). Each seed gives a gap curve; its *crossover* is the breadth
where the curve first turns from negative to positive (linear interpolation
between grid points). Over seeds the crossover gets a mean and a 95%
bootstrap percentile interval (:func:`interval`), which stays inside the grid.

Two crossovers answer two questions of the brief (§5):

* the **profit crossover**: below it lone sellers earn more per firm, above it
  the company-wide firms do: each strategy wins in some market (F1, L3);
* the **share crossover**: where company-wide firms start to take the larger
  market share. Between the two, the firm with the *smaller* market share
  earns more (F11, ``003_…``): :func:`f11_window` is that gap per seed.

:func:`sensitivity` moves one free parameter at a time (:func:`free_parameters`)
to ×(1 − f) and ×(1 + f) of its default and measures both crossovers again
on the same seeds, in parallel processes; ``docs/calibration.md`` reads it.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields

import numpy as np
from tqdm import tqdm

from sim.api import make_config
from sim.config import Config
from sim.constraints import ConfigError, Interval
from sim.model import RelationshipModel

BREADTHS: tuple[float, ...] = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
BASE: tuple[str, ...] = ("market.n_buyers=400", "steps=100")
OUTCOMES: tuple[str, ...] = ("market_share", "profit")
BOOTSTRAP = 2000


@functools.lru_cache(maxsize=512)
def gap(breadth: float, seed: int, overrides: tuple[str, ...] = ()) -> dict[str, float]:
    """``company_wide − lone_seller`` per supplier of each of :data:`OUTCOMES`, summary window."""
    cfg = make_config([*BASE, *overrides, f"buyers.needs_breadth={breadth}", f"seed={seed}"])
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    strategies = model.summary()["strategies"]
    return {k: float(strategies["company_wide"][k] - strategies["lone_seller"][k])
            for k in OUTCOMES}


def crossing(x: Sequence[float], y: Sequence[float]) -> float:
    """The first ``x`` where ``y`` turns from < 0 to ≥ 0 (linear interpolation); NaN if never.

    A curve that is already ≥ 0 at the first point crosses below the grid
    (NaN as well: the grid must be widened, never extrapolated).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    for i in range(1, x.size):
        if y[i - 1] < 0 <= y[i]:
            return float(x[i - 1] + (x[i] - x[i - 1]) * (-y[i - 1]) / (y[i] - y[i - 1]))
    return math.nan


def crossovers(seed: int, overrides: tuple[str, ...] = (),
               breadths: Sequence[float] = BREADTHS) -> dict[str, float]:
    """The crossover breadth of each outcome's gap curve for one seed."""
    gaps = [gap(b, seed, overrides) for b in breadths]
    return {k: crossing(breadths, [g[k] for g in gaps]) for k in OUTCOMES}


def f11_window(seed: int) -> float:
    """F11: profit crossover minus share crossover (> 0: a smaller share can earn more)."""
    c = crossovers(seed)
    return c["profit"] - c["market_share"]


def interval(values: Sequence[float], seed: int = 0, draws: int = BOOTSTRAP,
             level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and bootstrap percentile interval of the finite values: (mean, low, high, n).

    A percentile interval of resampled means never leaves the range of the
    values themselves (here: the breadth grid). NaN with fewer than two values.
    """
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if v.size < 2:
        return (float(v.mean()) if v.size else math.nan, math.nan, math.nan, int(v.size))
    rng = np.random.default_rng(seed)
    means = rng.choice(v, size=(draws, v.size), replace=True).mean(axis=1)
    tail = (1.0 - level) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(v.mean()), float(low), float(high), int(v.size)


@dataclass(frozen=True)
class Crossover:
    """Crossovers over seeds: mean, 95% bootstrap interval, how many seeds crossed."""

    outcome: str
    mean: float
    low: float
    high: float
    crossed: int
    seeds: int

    def as_dict(self) -> dict[str, float | int | str | None]:
        """A JSON row (NaN as null)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in self.__dict__.items()}


def summarise(per_seed: Sequence[dict[str, float]]) -> list[Crossover]:
    """One :class:`Crossover` per outcome from the per-seed crossovers (NaN: no crossing)."""
    rows = []
    for k in OUTCOMES:
        mean, low, high, n = interval([c[k] for c in per_seed])
        rows.append(Crossover(k, mean, low, high, n, len(per_seed)))
    return rows


def measure(seeds: int, overrides: tuple[str, ...] = (),
            breadths: Sequence[float] = BREADTHS) -> list[Crossover]:
    """Crossover of every outcome over seeds 0…K−1, for a config changed by ``overrides``."""
    return summarise([crossovers(s, overrides, breadths) for s in range(seeds)])


def curves(seeds: int, overrides: tuple[str, ...] = (),
           breadths: Sequence[float] = BREADTHS) -> dict[str, np.ndarray]:
    """Gap curves, shape (seeds, breadths) per outcome (for the figure)."""
    return {k: np.array([[gap(b, s, overrides)[k] for b in breadths] for s in range(seeds)])
            for k in OUTCOMES}


def table(rows: Sequence[Crossover]) -> str:
    """A Markdown table of the crossovers."""
    lines = ["| outcome (company-wide − lone seller) | crossover in needs breadth [95% CI] "
             "| seeds that cross |", "|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.outcome} | {r.mean:.3f} [{r.low:.3f}, {r.high:.3f}] | "
                     f"{r.crossed} of {r.seeds} |")
    return "\n".join(lines)


def plot(seeds: int, path: str, breadths: Sequence[float] = BREADTHS) -> str:
    """Figure: each outcome's gap against needs breadth (mean and seed range), crossovers marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = curves(seeds, (), breadths)
    rows = {r.outcome: r for r in measure(seeds, (), breadths)}
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(10, 3.8))
    for ax, k in zip(axes, OUTCOMES, strict=True):
        y = data[k]
        ax.fill_between(breadths, y.min(axis=0), y.max(axis=0), alpha=0.25, label="seed range")
        ax.plot(breadths, y.mean(axis=0), marker="o", label="mean over seeds")
        ax.axhline(0.0, color="black", lw=0.8)
        r = rows[k]
        if math.isfinite(r.mean):
            ax.axvspan(r.low, r.high, color="tab:orange", alpha=0.25, label="crossover 95% CI")
            ax.axvline(r.mean, color="tab:orange")
        ax.set_xlabel("needs breadth (share of needs beyond the product)")
        ax.set_ylabel(f"{k}: company-wide − lone seller")
        ax.legend(fontsize=8)
    fig.suptitle("Where the company-wide strategy overtakes the lone seller (mixed market)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- sensitivity

#: Config groups whose numeric fields are the crossover's free parameters.
GROUPS: tuple[str, ...] = ("relationship", "buyers", "sales", "market",
                           "strategy.lone_seller", "strategy.company_wide")
#: Numeric fields of :data:`GROUPS` that are not free parameters of the crossover, and why.
NOT_FREE: dict[str, str] = {
    "market.n_buyers": "market size (fixed by BASE)",
    "market.n_suppliers": "market size (two firms of each strategy)",
    "market.profit_per_purchase": "used only with payoff=constant (the WKH case, §4)",
    "buyers.needs_breadth": "the crossover's own axis",
    "market.retention_window": "a measure (retention's window), not a mechanism",
}
#: relative change of a parameter: ×(1 − f) and ×(1 + f)
FACTOR = 0.25
#: seeds 0…K−1 of the sensitivity table: enough to rank parameters, not to resolve small shifts
SENSITIVITY_SEEDS = 4
#: the breadth grid of the sensitivity runs: coarser than :data:`BREADTHS` (the 205 variants
#: take about 3 runs per seed on it, :func:`_chain`), and wide enough for both crossovers
SENSITIVITY_BREADTHS: tuple[float, ...] = (0.05, 0.15, 0.25, 0.35, 0.45)


def _lookup(name: str) -> tuple[float | None, Interval]:
    """Default value and bounds of a free parameter (a dotted config path)."""
    group, _, leaf = name.rpartition(".")
    obj = Config()
    for part in group.split("."):
        obj = getattr(obj, part)
    meta = next(f.metadata for f in fields(obj) if f.name == leaf)
    return getattr(obj, leaf), meta["bounds"]


def free_parameters() -> list[str]:
    """Dotted names of the numeric fields of :data:`GROUPS`, less :data:`NOT_FREE`.

    A field is numeric when its declared bounds are an :class:`Interval`
    (flags, names and lists are not varied).
    """
    root = Config()
    names = []
    for group in GROUPS:
        obj = root
        for part in group.split("."):
            obj = getattr(obj, part)
        for f in fields(obj):
            name = f"{group}.{f.name}"
            if isinstance(f.metadata.get("bounds"), Interval) and name not in NOT_FREE:
                names.append(name)
    return names


def check_parameters(params: Sequence[str]) -> None:
    """Raise :class:`ConfigError` naming the first unknown parameter and the allowed names."""
    allowed = free_parameters()
    for name in params:
        if name not in allowed:
            raise ConfigError(f"unknown parameter {name!r} for the crossover sensitivity: "
                              f"expected one of {allowed}")


def scaled(name: str, factor: float = FACTOR) -> tuple[float, float] | None:
    """A parameter's default ×(1 − f) and ×(1 + f), clipped to its bounds.

    Integers are rounded half up and kept at least one unit from the default
    where the bounds allow (else 2 × 0.75 would round back to 2). None when
    the default is 0 or null: a relative change of nothing is nothing.
    """
    if not 0 < factor < 1:
        raise ConfigError(f"factor={factor!r} is not allowed: expected a number in (0, 1)")
    check_parameters([name])
    default, bounds = _lookup(name)
    if not default:
        return None
    values = []
    for sign in (-1, 1):
        value = default * (1 + sign * factor)
        if bounds.integer:
            value = math.floor(value + 0.5)
            value = default + sign if value == default else value
        value = min(max(value, bounds.lo), bounds.hi)
        if not bounds.allows(value):
            raise ConfigError(f"{name}={value!r} is not allowed: expected {bounds.describe()}")
        values.append(int(value) if bounds.integer else float(f"{value:.12g}"))
    return values[0], values[1]


def _chain(overrides: tuple[str, ...], seed: int,
           breadths: tuple[float, ...]) -> list[dict[str, float] | None]:
    """Gaps along the grid, as many as :func:`crossing` needs (None: a point not run).

    The first point is run only when some gap is already ≥ 0 at the second
    (else no crossing lies between them), and the points beyond the one where
    every outcome has crossed are not run: :func:`crossing` takes the first
    crossing, so neither could change it.
    """
    logging.getLogger("MESA").setLevel(logging.WARNING)
    gaps: list[dict[str, float] | None] = [None]
    for b in breadths[1:]:
        gaps.append(gap(b, seed, overrides))
        if len(gaps) == 2 and any(v >= 0 for v in gaps[1].values()):
            gaps[0] = gap(breadths[0], seed, overrides)
        if all(math.isfinite(_cross(breadths, gaps, k)) for k in OUTCOMES):
            break
    return gaps


def _cross(breadths: Sequence[float], gaps: Sequence[dict[str, float] | None],
           outcome: str) -> float:
    """:func:`crossing` of one outcome on the first ``len(gaps)`` grid points (None: NaN)."""
    return crossing(breadths[:len(gaps)],
                    [math.nan if g is None else g[outcome] for g in gaps])


#: A change of a crossover from the baseline: (mean, low, high, seeds) of the paired per-seed
#: differences, over the seeds where both cross (:func:`interval`).
Change = tuple[float, float, float, int]


@dataclass(frozen=True)
class Sensitivity:
    """One parameter's crossovers at ×(1 − f) and ×(1 + f) (None: not varied, see ``note``).

    ``changes[side][outcome]`` is the change from the baseline, ``side`` being
    "low" or "high": seed by seed, so that the seeds' common randomness cancels.
    """

    parameter: str
    default: float | None
    low: float | None
    high: float | None
    at_low: dict[str, Crossover] | None
    at_high: dict[str, Crossover] | None
    changes: dict[str, dict[str, Change]] | None
    note: str = ""

    def change(self, side: str, outcome: str) -> float:
        """Mean change of the crossover at ``side`` ("low" or "high"); NaN if unknown."""
        return math.nan if self.changes is None else self.changes[side][outcome][0]


@dataclass(frozen=True)
class SensitivityResult:
    """The baseline crossovers and one :class:`Sensitivity` per parameter."""

    factor: float
    seeds: int
    breadths: tuple[float, ...]
    overrides: tuple[str, ...]
    baseline: dict[str, Crossover]
    rows: list[Sensitivity]

    def largest(self, row: Sensitivity, outcome: str) -> float:
        """The larger absolute change of the two sides (0 when neither is known)."""
        changes = [abs(row.change(s, outcome)) for s in ("low", "high")]
        return max((c for c in changes if math.isfinite(c)), default=0.0)

    def as_dict(self) -> dict:
        """A JSON document: settings, baseline and rows (numbers to 4 decimals, NaN as null)."""
        def num(v: float | None) -> float | int | None:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return None
            return v if isinstance(v, int) else round(v, 4)

        def cross(c: Crossover) -> dict:
            return {"mean": num(c.mean), "low": num(c.low), "high": num(c.high),
                    "crossed": c.crossed, "seeds": c.seeds}

        rows = []
        for r in self.rows:
            row: dict = {"parameter": r.parameter, "default": num(r.default),
                         "low": num(r.low), "high": num(r.high), "note": r.note}
            for k in OUTCOMES:
                if r.at_low is None or r.at_high is None or r.changes is None:
                    row[k] = None
                    continue
                row[k] = {"at_low": cross(r.at_low[k]), "at_high": cross(r.at_high[k])}
                for side in ("low", "high"):
                    mean, low, high, n = r.changes[side][k]
                    row[k][f"change_{side}"] = num(mean)
                    row[k][f"change_{side}_ci"] = [num(low), num(high)]
            rows.append(row)
        return {"factor": self.factor, "seeds": self.seeds, "breadths": list(self.breadths),
                "base": [*BASE, *self.overrides],
                "baseline": {k: cross(c) for k, c in self.baseline.items()}, "rows": rows}


def sensitivity(params: Sequence[str] | None = None, seeds: int = SENSITIVITY_SEEDS,
                factor: float = FACTOR, *, jobs: int = 1, overrides: tuple[str, ...] = (),
                breadths: Sequence[float] = SENSITIVITY_BREADTHS,
                progress: bool = True, cache: str | None = None) -> SensitivityResult:
    """One-at-a-time sensitivity of both crossovers to each parameter (default: all free ones).

    Each parameter is set to its default ×(1 − f) and ×(1 + f) (:func:`scaled`)
    with every other field at its default (plus ``overrides``), and the
    crossovers are measured on seeds 0…K−1 and the grid ``breadths``, like
    the baseline. A value that breaks a rule relating two fields is reported
    in the row's ``note`` instead of run. The (variant, seed) runs are spread
    over ``jobs`` processes, with a progress bar on stderr; ``cache`` makes
    the run resumable (:func:`_run_chains`).
    """
    params = free_parameters() if params is None else list(params)
    check_parameters(params)
    grid = tuple(float(b) for b in breadths)
    if len(grid) < 2 or list(grid) != sorted(set(grid)):
        raise ConfigError(f"breadths={list(grid)} is not allowed: expected an increasing grid "
                          "of at least two needs breadths")
    # name -> (low and high value, their overrides, or a note on why the parameter is not run)
    variants: dict[str, tuple[tuple[float, float] | None, list[tuple[str, ...]], str]] = {}
    for name in params:
        values = scaled(name, factor)
        if values is None:
            default = _lookup(name)[0]
            variants[name] = (None, [], f"not varied: default {'null' if default is None else 0}")
            continue
        sides = [(*overrides, f"{name}={v}") for v in values]
        try:
            for side in sides:
                make_config([*BASE, *side, f"buyers.needs_breadth={grid[0]}", "seed=0"])
        except ConfigError as err:
            variants[name] = (values, [], f"not run: {err}")
            continue
        variants[name] = (values, sides, "")
    tasks = {(overrides, s) for s in range(seeds)}
    tasks |= {(side, s) for _, sides, _ in variants.values() for side in sides
              for s in range(seeds)}
    chains = _run_chains(sorted(tasks), grid, jobs, progress, cache)

    def per_seed(ovr: tuple[str, ...]) -> list[dict[str, float]]:
        return [{k: _cross(grid, chains[(ovr, s)], k) for k in OUTCOMES} for s in range(seeds)]

    def measured(ovr: tuple[str, ...]) -> dict[str, Crossover]:
        return {c.outcome: c for c in summarise(per_seed(ovr))}

    def change(ovr: tuple[str, ...]) -> dict[str, Change]:
        pairs = list(zip(per_seed(ovr), per_seed(overrides), strict=True))
        return {k: interval([a[k] - b[k] for a, b in pairs]) for k in OUTCOMES}

    rows = []
    for name, (values, sides, note) in variants.items():
        low, high = values or (None, None)
        default = _lookup(name)[0]
        if not sides:
            rows.append(Sensitivity(name, default, low, high, None, None, None, note))
            continue
        rows.append(Sensitivity(name, default, low, high, measured(sides[0]), measured(sides[1]),
                                {"low": change(sides[0]), "high": change(sides[1])}, note))
    return SensitivityResult(factor, seeds, grid, overrides, measured(overrides), rows)


def _run_chains(tasks: Sequence[tuple[tuple[str, ...], int]], grid: tuple[float, ...],
                jobs: int, progress: bool, cache: str | None = None,
                ) -> dict[tuple[tuple[str, ...], int], list[dict[str, float] | None]]:
    """:func:`_chain` of every (overrides, seed), in ``jobs`` processes (1: in this one).

    With ``cache`` (a JSON-lines file), chains already there for this grid and :data:`BASE` are
    read instead of run, and each new one is appended as it completes, so an
    interrupted run resumes where it stopped. Chains run seed by seed, so a run
    stopped early holds complete results for the first seeds.
    """
    chains: dict[tuple[tuple[str, ...], int], list[dict[str, float] | None]] = {}
    if cache and os.path.exists(cache):
        with open(cache, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if tuple(rec["breadths"]) == grid and tuple(rec["base"]) == BASE:
                    chains[(tuple(rec["overrides"]), rec["seed"])] = rec["gaps"]
    todo = sorted((t for t in tasks if t not in chains), key=lambda t: (t[1], t[0]))
    out = open(cache, "a", encoding="utf-8") if cache else None  # noqa: SIM115
    bar = tqdm(total=len(todo), desc="crossover sensitivity", unit="chain",
               file=sys.stderr, disable=not progress)

    def done(task: tuple[tuple[str, ...], int], gaps: list[dict[str, float] | None]) -> None:
        chains[task] = gaps
        if out:
            out.write(json.dumps({"base": list(BASE), "overrides": list(task[0]), "seed": task[1],
                                  "breadths": list(grid), "gaps": gaps}) + "\n")
            out.flush()
        bar.update()

    try:
        if jobs == 1:
            for ovr, s in todo:
                done((ovr, s), _chain(ovr, s, grid))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(_chain, ovr, s, grid): (ovr, s) for ovr, s in todo}
                for fut in as_completed(futures):
                    done(futures[fut], fut.result())
    finally:
        bar.close()
        if out:
            out.close()
    return {t: chains[t] for t in tasks}


def sensitivity_table(result: SensitivityResult, outcome: str) -> str:
    """A Markdown table of one outcome's crossover sensitivity, largest change first."""
    def cell(c: Crossover) -> str:
        if not math.isfinite(c.mean):
            return f"no crossing (0 of {c.seeds})"
        text = f"{c.mean:.3f} [{c.low:.3f}, {c.high:.3f}]" if c.crossed > 1 else f"{c.mean:.3f}"
        return text if c.crossed == c.seeds else f"{text} ({c.crossed} of {c.seeds})"

    def delta(r: Sensitivity, side: str) -> str:
        assert r.changes is not None
        mean, low, high, n = r.changes[side][outcome]
        if n == 0:
            return "n/a"
        return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]" if n > 1 else f"{mean:+.3f}"

    f, base = result.factor, result.baseline
    lines = [f"{outcome} crossover, baseline {cell(base[outcome])} "
             f"(seeds 0–{result.seeds - 1}, breadths {result.breadths[0]}–{result.breadths[-1]})",
             "",
             f"| parameter | default | ×{1 - f:g} | crossover | change | ×{1 + f:g} | crossover "
             "| change |", "|---|---|---|---|---|---|---|---|"]
    for r in sorted(result.rows, key=lambda r: -result.largest(r, outcome)):
        if r.at_low is None or r.at_high is None:
            lines.append(f"| {r.parameter} | {r.default} | {r.note} | | | | | |")
            continue
        lines.append(
            f"| {r.parameter} | {r.default:g} | {r.low:g} | {cell(r.at_low[outcome])} | "
            f"{delta(r, 'low')} | {r.high:g} | {cell(r.at_high[outcome])} | {delta(r, 'high')} |")
    return "\n".join(lines)
