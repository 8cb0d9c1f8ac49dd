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
    from sim.model import RelationshipModel


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
    def of(cls, model: RelationshipModel) -> FirmTable:
        """Gather the arrays from the suppliers' current strategies.

        Complaint handling is the profile's rate times the capability of the
        service department (1 if the market has none, as in WKH).
        """
        sups = model.supplier_list
        profiles = [s.profile for s in sups]

        def col(name: str, dtype: type = np.float32) -> np.ndarray:
            return np.array([getattr(p, name) for p in profiles], dtype=dtype)

        service = (
            model.capability[:, model.departments.index("service")]
            if "service" in model.departments
            else np.ones(len(sups), dtype=np.float32)
        )
        price = np.array([s.price for s in sups], dtype=np.float32)
        return cls(
            list_price=price * col("price_factor") * (1.0 - model.price_cut),
            health=np.array([s.health for s in sups], dtype=np.float32),
            coordination=col("coordination"),
            person_share=col("person_share"),
            cross_functional_rate=col("cross_functional_rate"),
            dependency_investment=col("dependency_investment"),
            monitor_after=col("monitor_silent_after", np.int32),
            complaint_handling=col("complaint_handling") * service,
            overhead_per_account=col("overhead_per_account"),
        )
