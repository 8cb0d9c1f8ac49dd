"""Will a run fit? Its memory estimated from the config, before anything is built.

The tie arrays (``buyers × suppliers``, M4) dominate a large market; buyers
(Mesa agents and their graph nodes), word-of-mouth edges, salespeople and
the collected rows add to it. The figures per item below were measured with
``ru_maxrss`` on runs of growing size (see ``docs/reliability.md``). A config
whose estimate exceeds this machine's memory is refused by
:func:`sim.config.validate` with a :class:`~sim.constraints.ConfigError`
naming the field that dominates, the estimate and the machine's memory.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sim.constraints import fail


class Config(Protocol):
    """The fields of a :class:`sim.config.Config` the estimate reads (config calls us)."""

    market: Any
    network: Any
    sales: Any
    scenario: Any
    steps: int
    collect_every: int
    warmup_share: float

#: Peak bytes per buyer–supplier tie: 18 state arrays (54 B) plus orders and flags, and the
#: full-matrix temporaries of a step (choice scores, Gumbel draws, masks). Measured: about 85.
BYTES_PER_TIE = 100
#: Bytes per buyer: the Mesa agent, its network cell and graph node, per-buyer arrays.
#: Measured: about 2,200 with the default 6 neighbours, whose edges are counted again
#: below (so the estimate errs on the safe side: 1.3× to 1.6× the measured peaks).
BYTES_PER_BUYER = 2_500
#: Bytes per word-of-mouth edge (networkx adjacency both ways, neighbour matrix). Measured: ~310.
BYTES_PER_EDGE = 350
#: Bytes per salesperson (a Mesa agent and its entries in the sales-force arrays).
BYTES_PER_SALESPERSON = 2_000
#: Bytes per collected (step, supplier) row: the DataCollector's record and the tidy table
#: (an allowance, not measured: 33 values in a dict, then in a DataFrame).
BYTES_PER_ROW = 2_000
#: What the interpreter and the libraries take before the model is built.
BASE_BYTES = 300 * 2**20


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak memory of a run, by item, in bytes; ``field`` drives the largest item."""

    ties: int
    buyers: int
    edges: int
    salespeople: int
    rows: int

    @property
    def total(self) -> int:
        """Everything, with the interpreter's own share."""
        return BASE_BYTES + self.ties + self.buyers + self.edges + self.salespeople + self.rows

    def largest(self) -> str:
        """The config field that drives the largest item."""
        items = {"market.n_buyers": self.ties + self.buyers, "network.degree": self.edges,
                 "sales.accounts_per_salesperson": self.salespeople, "steps": self.rows}
        return max(items, key=items.__getitem__)


def estimate_memory(cfg: Config) -> MemoryEstimate:
    """The peak memory of a run of ``cfg``, item by item, before anything is built."""
    n, m = cfg.market.n_buyers, cfg.market.n_suppliers
    entrants = sum(e.kind == "new_entrant" for e in cfg.scenario.events)
    hires = sum(e.count for e in cfg.scenario.events if e.kind == "hire_salespeople")
    ties = n * (m + entrants)
    degree = min(cfg.network.degree, n - 1)
    accounts = n * min(cfg.network.consideration, m)
    staff = math.ceil(accounts / cfg.sales.accounts_per_salesperson) + m + hires
    window = math.ceil((1 - cfg.warmup_share) * cfg.steps)  # uncollected steps kept for the summary
    rows = (cfg.steps // cfg.collect_every + window) * (m + entrants)
    return MemoryEstimate(
        ties=ties * BYTES_PER_TIE,
        buyers=n * BYTES_PER_BUYER,
        edges=n * degree // 2 * BYTES_PER_EDGE,
        salespeople=staff * BYTES_PER_SALESPERSON,
        rows=rows * BYTES_PER_ROW,
    )


def machine_memory() -> int:
    """Bytes of memory this process may use: physical memory, or a smaller cgroup limit."""
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return physical
    return min(physical, int(limit)) if limit.isdigit() else physical


def size(n_bytes: float) -> str:
    """``2.1 TB``, ``350 MB``: bytes in decimal units, as people read them."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n_bytes < 1000 or unit == "TB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")


def check_memory(cfg: Config) -> None:
    """Refuse a run whose estimated memory exceeds this machine's memory (ConfigError)."""
    need, have = estimate_memory(cfg), machine_memory()
    if need.total <= have:
        return
    path = need.largest()
    value = {"market.n_buyers": cfg.market.n_buyers, "network.degree": cfg.network.degree,
             "sales.accounts_per_salesperson": cfg.sales.accounts_per_salesperson,
             "steps": cfg.steps}[path]
    fail(path, value, f"a run that fits in memory: {cfg.market.n_buyers:,} buyers × "
         f"{cfg.market.n_suppliers:,} suppliers over {cfg.steps:,} steps need about "
         f"{size(need.total)}, this machine has {size(have)}")
