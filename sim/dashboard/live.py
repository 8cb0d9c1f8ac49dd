"""A live run that a page plays, steps and shocks: one lock, immutable pictures for drawing.

Stepping and drawing never race: :meth:`LiveRun.step` and
:meth:`LiveRun.shock` change the model under :attr:`LiveRun.lock`, and the
page draws only from a :class:`Picture`, a copy taken under the same lock.
The history of every tracked outcome is kept here, one row per step, so the
charts never read the model's DataCollector.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from sim.config import Config
from sim.dashboard import data
from sim.dashboard.data import Layout, MarketNow, NetworkNow

MAX_DRAWN = 300  # buyers drawn in the network
NETWORK_EVERY = 5  # the network is read (and redrawn) every this many steps
EFFECT_WINDOW = 5  # before/after deltas span this many steps
SHOCK_NAMES: dict[str, str] = {
    "salesperson_leaves": "salesperson leaves",
    "quality_failure": "quality failure",
    "price_war": "price war",
    "switch_strategy": "switches to company-wide",
}


@dataclass(frozen=True)
class ShockMark:
    """A shock on the charts: the step it acts at, its supplier and a short label."""

    step: int
    supplier: int
    kind: str

    @property
    def label(self) -> str:
        """E.g. 'S1 salesperson leaves'."""
        return f"S{self.supplier + 1} {SHOCK_NAMES.get(self.kind, self.kind.replace('_', ' '))}"


@dataclass(frozen=True)
class Picture:
    """Everything a page draws, copied at one step: it never changes afterwards."""

    now: MarketNow
    steps: np.ndarray  # (T,)
    series: dict[str, np.ndarray]  # outcome → (T, n_suppliers)
    shocks: tuple[ShockMark, ...]
    effects: tuple[str, ...]
    network: NetworkNow
    network_step: int
    layout: Layout


class LiveRun:
    """The model of one page, its history and its shocks."""

    def __init__(self, cfg: Config) -> None:
        self.lock = threading.Lock()
        self.model = data.build(cfg)
        self.layout = data.layout(self.model, MAX_DRAWN)
        self._steps: list[int] = []
        self._rows: dict[str, list[np.ndarray]] = {k: [] for k in data.TRACKED}
        self._now = self._record()
        self._shocks = [ShockMark(e.t, e.supplier, e.kind) for e in data.scheduled(self.model)]
        self._network = data.read_network(self.model, self.layout.drawn)
        self._network_step = 0

    @property
    def n_suppliers(self) -> int:
        """Suppliers in the market."""
        return len(self._now.strategies)

    @property
    def steps(self) -> int:
        """Steps run so far."""
        return self._now.step

    def step(self) -> None:
        """Run one step and record it."""
        with self.lock:
            data.advance(self.model)
            self._now = self._record()
            due = any(s.step == self._now.step for s in self._shocks)
            if due or self._now.step - self._network_step >= NETWORK_EVERY:
                self._network = data.read_network(self.model, self.layout.drawn)
                self._network_step = self._now.step

    def _record(self) -> MarketNow:
        now = data.read(self.model)
        self._steps.append(now.step)
        for k, v in now.values.items():
            self._rows[k].append(v)
        return now

    def leader(self, strategy: str | None = None) -> int | None:
        """The supplier with most customers now (of ``strategy`` if given); None if none."""
        now = self._now
        pick = [j for j, s in enumerate(now.strategies) if strategy in (None, s)]
        if not pick:
            return None
        return max(pick, key=lambda j: (now.customers[j], -j))

    def shock(self, kind: str, supplier: int) -> str:
        """Schedule a shock on ``supplier`` for the next step; a one-line message."""
        with self.lock:
            name = f"Supplier {supplier + 1}"
            if kind == "switch_strategy" and self._now.strategies[supplier] == "company_wide":
                return f"{name} already sells company-wide."
            event = data.schedule_shock(self.model, kind, supplier)
            self._shocks.append(ShockMark(event.t, supplier, kind))
        what = {
            "salesperson_leaves": f"{name}'s busiest salesperson leaves for a rival",
            "quality_failure": f"{name}'s product quality drops by 80% for 3 steps",
            "price_war": f"{name} cuts its price by 20% for 10 steps",
            "switch_strategy": f"{name} switches to company-wide selling",
        }[kind]
        return f"{what} at step {event.t}."

    def picture(self) -> Picture:
        """A copy of everything to draw, taken between two steps."""
        with self.lock:
            series = {k: np.array(v) for k, v in self._rows.items()}
            steps = np.array(self._steps)
            shocks = tuple(self._shocks)
            departures = data.departures_since(self.model, min(
                (s.step for s in shocks), default=self._now.step + 1))
            return Picture(
                now=self._now, steps=steps, series=series, shocks=shocks,
                effects=tuple(effect_lines(steps, series, shocks, departures)),
                network=self._network, network_step=self._network_step, layout=self.layout,
            )


def _change(series: np.ndarray, at: dict[int, int], j: int, start: int, end: int,
            what: str) -> str:
    before = float(np.nan_to_num(series[at[start], j]))
    after = float(np.nan_to_num(series[at[end], j]))
    pct = f" ({(after - before) / before:+.0%})".replace("-", "−") if before > 0 else ""
    return f"Supplier {j + 1}: {before:.0f} → {after:.0f} {what}{pct}"


def effect_lines(steps: np.ndarray, series: dict[str, np.ndarray],
                 shocks: tuple[ShockMark, ...], departures: list[data.Departure]) -> list[str]:
    """Before/after deltas of each shock that has acted.

    Customers (and strategic partners after a quality failure) at the step
    before the shock and up to :data:`EFFECT_WINDOW` steps later, for the
    supplier hit and, when a salesperson left for a rival, for the rival.
    """
    at = {int(s): i for i, s in enumerate(steps)}
    now = int(steps[-1])
    customers = series["accounts"]
    lines = []
    for shock in shocks:
        if shock.step > now or shock.step - 1 not in at:
            continue
        start, end = shock.step - 1, min(shock.step - 1 + EFFECT_WINDOW, now)
        parts = [_change(customers, at, shock.supplier, start, end, "customers")]
        gone = [d for d in departures if d.step == shock.step and d.supplier == shock.supplier]
        if shock.kind == "salesperson_leaves" and gone:
            d = gone[0]
            parts.insert(0, f"took {d.buyers} buyers who knew them ({d.customers} customers)")
            if d.target is not None:
                parts.append(_change(customers, at, d.target, start, end, "customers"))
        partners = series["strategic_partners"]
        if shock.kind == "quality_failure" and np.nan_to_num(partners[at[start], shock.supplier]):
            parts.append(_change(partners, at, shock.supplier, start, end, "strategic partners"))
        span = end - start
        lines.append(f"Step {shock.step} · {shock.label}: " + "; ".join(parts)
                     + f" in {span} step{'s' if span > 1 else ''}")
    return lines
