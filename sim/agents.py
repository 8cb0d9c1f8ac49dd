"""The three kinds of agent: Buyer, Salesperson, Supplier (M1–M3).

Buyers keep their parameters as attributes and their ties in the model's
arrays (their row); their decisions are the phase functions of
:mod:`sim.phases` applied to that row. Salespeople and suppliers are few, and
both engines activate them as agents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.discrete_space import CellAgent

from sim import phases
from sim.config import StrategyProfile

if TYPE_CHECKING:
    from sim.model import RelationshipModel


class Buyer(CellAgent):
    """A buying organisation (M3), placed on the word-of-mouth network.

    Attributes:
        index: the buyer's row in the tie arrays.
    """

    model: RelationshipModel

    def __init__(self, model: RelationshipModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.rows = slice(index, index + 1)

    # parameters live in the model's per-buyer arrays; these read them
    @property
    def volume(self) -> float:
        """Volume per purchase (value tier)."""
        return float(self.model.buyer_volume[self.index])

    @property
    def adversarial(self) -> bool:
        """Stance: True for adversarial, False for partnership (F8)."""
        return bool(self.model.buyer_adversarial[self.index])

    @property
    def needs(self) -> dict[str, float]:
        """Needs ``w[i,d]`` over departments (sum 1)."""
        return dict(zip(self.model.departments, self.model.buyer_needs[self.index].tolist(),
                        strict=True))

    @property
    def main_supplier(self) -> int:
        """Index of the supplier with the largest share of wallet, -1 if none."""
        return int(self.model.main_supplier[self.index])

    def place_order(self) -> None:
        """Choose suppliers for this step's purchase need (M6)."""
        phases.place_orders(self.model, self.rows)

    def evaluate(self) -> None:
        """Judge what was delivered and tend the ties (M7–M9, M11–M13)."""
        phases.evaluate_purchases(self.model, self.rows)
        phases.tend_ties(self.model, self.rows)


class Salesperson(mesa.Agent):
    """A salesperson (M2): owns accounts, promises, visits, may leave and take them along.

    Attributes:
        index: global index into the sales-force arrays (kept when poached).
        employer: the supplier employing this person.
        skill: how well this person stands in for other departments (M7).
        inflation: ψ, how much this person over-promises (M7, F4).
        capacity: contacts per step (M5).
        hired_at: step of hiring (tenure = now − hired_at).
    """

    model: RelationshipModel

    def __init__(
        self, model: RelationshipModel, employer: Supplier, skill: float, inflation: float
    ) -> None:
        super().__init__(model)
        self.employer = employer
        self.skill = skill
        self.inflation = inflation
        self.capacity = model.cfg.sales.capacity
        self.hired_at = model.steps
        self.index = model.salesforce.register(self)

    @property
    def tenure(self) -> int:
        """Steps with the current employer."""
        return self.model.steps - self.hired_at

    @property
    def accounts(self) -> np.ndarray:
        """Buyer indices of the accounts this person owns at the employer."""
        col = self.employer.index
        return np.flatnonzero(self.model.ties.owner[:, col] == self.index)

    def consider_leaving(self) -> None:
        """Leave with the departure hazard; most leavers are poached by a rival (M2).

        Only a rival with an opening (sales force below its plan + 1) poaches;
        if none has one, the person leaves the market.
        """
        sales = self.model.cfg.sales
        if self.model.rng.random() >= sales.departure_hazard:
            return
        headcount = self.model.salesforce.headcount(len(self.model.supplier_list))
        rivals = [
            s for s in self.model.supplier_list
            if s is not self.employer and headcount[s.index] <= s.planned_salespeople
        ]
        to = None
        if rivals and self.model.rng.random() < sales.poach_share:
            to = rivals[int(self.model.rng.integers(len(rivals)))]
        self.model.salesperson_leaves(self, to)

    def visit_accounts(self) -> None:
        """Spend this step's contact capacity on the largest, most at-risk accounts (M5)."""
        col = self.employer.index
        buyers = np.flatnonzero(
            (self.model.ties.owner[:, col] == self.index) & self.model.ties.active[:, col]
        )
        phases.sales_visits(self.model, buyers, np.full(buyers.size, col))


class Supplier(mesa.Agent):
    """A supplier firm (M1) following a strategy, with departments and a sales force.

    Attributes:
        index: the supplier's column in the tie arrays.
        strategy: ``lone_seller``, ``company_wide`` or ``hybrid``.
        price: list price per unit.
        metrics: this step's outcomes (market share, profit, trust, …).
    """

    model: RelationshipModel

    def __init__(self, model: RelationshipModel, index: int, strategy: str, price: float) -> None:
        super().__init__(model)
        self.index = index
        self.strategy = strategy
        self.price = price
        self.health = 0.5
        self.cash = 0.0
        self.planned_salespeople = 1  # set when the sales force is hired
        self.metrics: dict[str, float] = {}

    @property
    def profile(self) -> StrategyProfile:
        """What the current strategy means for this firm."""
        return self.model.cfg.strategy.profile(self.strategy)

    @property
    def capability(self) -> dict[str, float]:
        """Capability ``c[j,d]`` per department."""
        row = self.model.capability[self.index]
        return dict(zip(self.model.departments, row.tolist(), strict=True))

    @property
    def salespeople(self) -> list[Salesperson]:
        """The current sales force."""
        return [s for s in self.model.agents_by_type[Salesperson] if s.employer is self]

    def switch_strategy(self, strategy: str) -> None:
        """Adopt another strategy from the next step on (M15)."""
        self.strategy = strategy

    def serve_accounts(self) -> None:
        """Departments touch accounts; monitoring calls silent ones (M5, M9, F9)."""
        phases.department_contacts(self.model, self.index)

    def fill_orders(self) -> None:
        """Ship this step's orders; when stock is short, partners and loyal buyers first (L2)."""
        phases.fill_orders(self.model, self.index)

    def invest(self) -> None:
        """Invest in dependency and improve with trusted partners (M10, M12)."""
        phases.invest_and_improve(self.model, self.index)
