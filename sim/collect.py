"""Data collection the Mesa way: a DataCollector over the market's outcomes and the agents.

* model reporters: the market-wide outcomes (:data:`sim.metrics.MARKET_METRICS`);
* agent-type reporters for :class:`~sim.agents.Supplier`: every outcome of
  :data:`sim.metrics.SUPPLIER_METRICS` (the rows of ``steps.parquet``);
* agent reporters for buyers and suppliers (:data:`AGENT_REPORTERS`),
  recorded every ``agents_every`` collected steps (0: never, the default,
  since a row per buyer and step is costly). ``get_agent_vars_dataframe()``
  then returns their table, empty when never recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mesa

from sim.agents import Buyer, Host, Supplier
from sim.metrics import MARKET_METRICS, SUPPLIER_METRICS


def _outcome(name: str) -> Callable[[Host], float]:
    return lambda model: model.market.outcomes.get(name, math.nan)


def _metric(name: str) -> Callable[[Supplier], float]:
    return lambda supplier: supplier.metric(name)


def _when(kind: type, read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda agent: read(agent) if isinstance(agent, kind) else None


#: per-agent columns of ``get_agent_vars_dataframe()`` (None where they do not apply)
AGENT_REPORTERS: dict[str, Callable[[Any], Any]] = {
    "kind": lambda agent: type(agent).__name__,
    "index": lambda agent: agent.index,
    "strategy": _when(Supplier, lambda s: s.strategy),
    "market_share": _when(Supplier, lambda s: s.metric("market_share")),
    "main_supplier": _when(Buyer, lambda b: b.main_supplier),
    "main_trust": _when(Buyer, lambda b: b.main_trust),
    "suppliers": _when(Buyer, lambda b: b.suppliers),
    "adversarial": _when(Buyer, lambda b: b.adversarial),
}


class MarketCollector(mesa.DataCollector):
    """The model's DataCollector; agents are recorded every ``agents_every`` collections."""

    def __init__(self, agents_every: int = 0) -> None:
        super().__init__(
            model_reporters={k: _outcome(k) for k in MARKET_METRICS},
            agent_reporters=AGENT_REPORTERS,
            agenttype_reporters={
                Supplier: {
                    "supplier": "index",
                    "strategy": "strategy",
                    **{k: _metric(k) for k in SUPPLIER_METRICS},
                }
            },
        )
        self.agents_every = agents_every
        self._collections = 0
        #: summary rows of the steps in the summary window that were not collected
        #: (``collect_every > 1``), so that summaries do not depend on it
        self.collected_steps: list[int] = []  # the model step of each collection
        self.window_rows: list[dict[str, Any]] = []
        self.window_market: list[dict[str, Any]] = []

    def collect(self, model: Host) -> None:
        """Record this step; buyers and suppliers too when it is an agent-recording step."""
        self.collected_steps.append(model.steps)
        every = self.agents_every
        record = every > 0 and self._collections % every == 0
        self._collections += 1
        reporters = self.agent_reporters
        if not record:
            self.agent_reporters = {}
        try:
            super().collect(model)
        finally:
            self.agent_reporters = reporters

    def get_agent_vars_dataframe(self):
        """Mesa's table of the agent reporters (empty, with its columns, when never recorded)."""
        if not any(self._agent_records.values()):
            import pandas as pd

            index = pd.MultiIndex.from_arrays([[], []], names=["Step", "AgentID"])
            return pd.DataFrame(columns=list(self.agent_reporters), index=index)
        return super().get_agent_vars_dataframe()

    def keep_for_summary(self, model: Host) -> None:
        """Keep this uncollected step's supplier and market outcomes for the summary."""
        firms = model.market.firms
        self.window_rows.extend(
            {"step": model.steps, "supplier": j, "strategy": firms.strategy[j],
             **{k: firms.metric(k, j) for k in SUPPLIER_METRICS}}
            for j in range(len(firms))
        )
        self.window_market.append(
            {"step": model.steps, **{k: f(model) for k, f in self.model_reporters.items()}}
        )

    def _record_agents(self, model: Host):
        """Buyers and suppliers (salespeople come and go: see ``model.market.salesforce``)."""
        kinds = model.agents_by_type
        agents = [*kinds.get(Supplier, []), *kinds.get(Buyer, [])]
        return super()._record_agents(_Agents(agents))


class _Agents:
    """The minimal model stand-in :meth:`mesa.DataCollector._record_agents` iterates over."""

    def __init__(self, agents: list) -> None:
        self.agents = agents
