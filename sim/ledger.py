"""Per-supplier counters of one step: volume, revenue, churn, contacts, …"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class Ledger:
    """What happened to each supplier this step; reset at the start of every step."""

    n_suppliers: int
    n_departments: int
    volume: np.ndarray = field(init=False)  # volume shipped
    trade_volume: np.ndarray = field(init=False)  # volume ordered (shipped or not)
    revenue: np.ndarray = field(init=False)
    nonproductive_time: np.ndarray = field(init=False)  # Σ volume·τ (M11)
    buyer_cost: np.ndarray = field(init=False)  # buyers' transaction cost (M11)
    buyer_value: np.ndarray = field(init=False)  # buyers' surplus Σ shipped·(v·q − price) − cost
    cost_to_serve: np.ndarray = field(init=False)  # the supplier's transaction cost (M11)
    service_revenue: np.ndarray = field(init=False)  # service lines sold (F11)
    service_cost: np.ndarray = field(init=False)  # cost of delivering them
    departures: np.ndarray = field(init=False)  # salespeople who left the supplier (M2)
    contacts: np.ndarray = field(init=False)  # department and monitoring contacts
    investments: np.ndarray = field(init=False)  # dependency investments (M10)
    one_off_cost: np.ndarray = field(init=False)  # costs booked by events (M15), e.g. a switch
    silent_churn: np.ndarray = field(init=False)
    voiced_churn: np.ndarray = field(init=False)
    other_churn: np.ndarray = field(init=False)  # trust collapse, serious failure
    silent_episodes: np.ndarray = field(init=False)
    voiced_episodes: np.ndarray = field(init=False)
    improving_needs: np.ndarray = field(init=False)  # (M, D) Σ v·w over joint-improvement ties

    def __post_init__(self) -> None:
        self.reset(self.n_suppliers)

    def reset(self, n_suppliers: int) -> None:
        """Zero every counter (for ``n_suppliers``, which grows when a firm enters)."""
        self.n_suppliers = n_suppliers
        for f in fields(self):
            if f.init:
                continue
            shape = (n_suppliers, self.n_departments) if f.name == "improving_needs" else (
                n_suppliers,
            )
            setattr(self, f.name, np.zeros(shape, dtype=np.float64))
