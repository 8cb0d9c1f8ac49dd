"""The strategies as arrays over suppliers: what lone_seller, company_wide and hybrid mean.

A strategy is a :class:`~sim.config.StrategyProfile` (coordination ``κ``,
person share ``ρ``, cross-functional contact, dependency investment,
monitoring, complaint handling, overhead). :class:`FirmTable` gathers the
profile of every supplier's current strategy, plus its price and health, into
arrays indexed by supplier, once per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.config import StrategyConfig
    from sim.market import Market


@dataclass(frozen=True)
class FirmTable:
    """Per-supplier policy arrays for the current step (M1)."""

    list_price: np.ndarray  # base price × strategy's price factor, after any price-war cut
    health: np.ndarray
    coordination: np.ndarray  # κ
    person_share: np.ndarray  # ρ
    cross_functional_rate: np.ndarray
    dependency_investment: np.ndarray
    monitor_after: np.ndarray  # m, 0 = no monitoring
    complaint_handling: np.ndarray  # probability a complaint is answered per step
    overhead_per_account: np.ndarray

    @classmethod
    def of(cls, market: Market, strategies: StrategyConfig) -> FirmTable:
        """Gather the arrays from the firms' current strategies.

        Complaint handling is the profile's rate times the capability of the
        service department (1 if the market has none, as in WKH).
        """
        firms = market.firms
        profiles = [strategies.profile(name) for name in firms.strategy]

        def col(name: str, dtype: type = np.float32) -> np.ndarray:
            return np.array([getattr(p, name) for p in profiles], dtype=dtype)

        service = (
            firms.capability[:, market.departments.index("service")]
            if "service" in market.departments
            else np.ones(len(firms), dtype=np.float32)
        )
        price = firms.price.astype(np.float32)
        return cls(
            list_price=price * col("price_factor") * (1.0 - firms.price_cut),
            health=firms.health.astype(np.float32),
            coordination=col("coordination"),
            person_share=col("person_share"),
            cross_functional_rate=col("cross_functional_rate"),
            dependency_investment=col("dependency_investment"),
            monitor_after=col("monitor_silent_after", np.int32),
            complaint_handling=col("complaint_handling") * service,
            overhead_per_account=col("overhead_per_account"),
        )
