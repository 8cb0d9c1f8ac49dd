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
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.api import make_config
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


def measure(seeds: int, overrides: tuple[str, ...] = (),
            breadths: Sequence[float] = BREADTHS) -> list[Crossover]:
    """Crossover of every outcome over seeds 0…K−1, for a config changed by ``overrides``."""
    per_seed = [crossovers(s, overrides, breadths) for s in range(seeds)]
    rows = []
    for k in OUTCOMES:
        mean, low, high, n = interval([c[k] for c in per_seed])
        rows.append(Crossover(k, mean, low, high, n, seeds))
    return rows


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
