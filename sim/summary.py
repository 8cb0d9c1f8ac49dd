"""The run's summary (summary.json) and its per-supplier table, from the DataCollector."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from sim.agents import Supplier
from sim.metrics import MARKET_METRICS, SUPPLIER_METRICS, window_clv

if TYPE_CHECKING:
    from sim.collect import MarketCollector
    from sim.config import Config
    from sim.market import Market


class Run(Protocol):
    """What a summary reads of a run (:class:`sim.model.RelationshipModel` is one)."""

    datacollector: MarketCollector
    cfg: Config
    steps: int
    market: Market


def supplier_frame(collector: MarketCollector) -> pd.DataFrame:
    """Tidy table: one row per collected step × supplier."""
    df = collector.get_agenttype_vars_dataframe(Supplier).reset_index()
    df = df.rename(columns={"Step": "step"}).drop(columns=["AgentID"])
    df["step"] = df["step"].astype(np.int64)
    df["supplier"] = df["supplier"].astype(np.int64)
    return df


def summarise(model: Run) -> dict[str, Any]:
    """Outcomes averaged over the last ``1 − warmup_share`` of the steps.

    ``strategies[name]`` averages over the (step, supplier) rows of the
    suppliers following that strategy in the window, so it reads "per
    supplier"; ``suppliers`` lists each supplier's own averages. Every step
    of the window counts, whether or not it was collected (``collect_every``
    does not change the summary). ``clv`` is not a mean over steps: it is the
    lifetime formula applied to the window means of profit, accounts and
    retention (:func:`sim.metrics.window_clv`, M14).
    """
    collector, cfg = model.datacollector, model.cfg
    df = supplier_frame(collector)
    if collector.window_rows:
        df = pd.concat([df, pd.DataFrame(collector.window_rows)], ignore_index=True)
        df = df.sort_values(["step", "supplier"], kind="stable", ignore_index=True)
    if df.empty:
        raise RuntimeError("no data collected yet: run the model first")
    window = df[df["step"] > cfg.warmup_share * model.steps]
    if window.empty:
        window = df[df["step"] == df["step"].max()]
    outcomes = list(SUPPLIER_METRICS)

    def averages(frame: pd.DataFrame) -> dict[str, float | None]:
        means = frame[outcomes].mean(numeric_only=True)
        clv = window_clv(means["profit"], means["accounts"], means["retention"], cfg)
        return {**{k: _clean(means[k]) for k in outcomes}, "clv": _clean(clv)}

    strategies = {
        name: {"n_suppliers": int(frame["supplier"].nunique()), **averages(frame)}
        for name, frame in window.groupby("strategy", sort=True)
    }
    market = collector.get_model_vars_dataframe()
    market.index = collector.collected_steps
    if collector.window_market:
        extra = pd.DataFrame(collector.window_market).set_index("step")
        market = pd.concat([market, extra]).sort_index(kind="stable")
    in_window = market[market.index > cfg.warmup_share * model.steps]
    strategy_now = model.market.firms.strategy
    suppliers = [
        {"id": int(j), "strategy": strategy_now[int(j)], **averages(frame)}
        for j, frame in window.groupby("supplier", sort=True)
    ]
    return {
        "steps": int(model.steps),
        "window": [int(window["step"].min()), int(window["step"].max())],
        "strategies": strategies,
        "suppliers": suppliers,
        # market-wide reporters over every step of the window (e.g. the WKH order)
        "market": {k: _clean(in_window[k].mean()) for k in MARKET_METRICS},
    }


def _clean(value: Any) -> float | None:
    """JSON-safe float: NaN (no data in the window) becomes None."""
    value = float(value)
    return None if math.isnan(value) else value
