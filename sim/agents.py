"""The three kinds of agent: Buyer, Salesperson, Supplier (M1–M3), as live views of the market.

An agent holds no state of its own but its index: every attribute reads and
writes the arrays of the model's :class:`~sim.market.Market`, so
``salesperson.skill = 0.2`` or ``buyer.volume = 3.0`` changes the run, and
what a DataCollector or a dashboard reads is the state the phases use. Each
agent's actions are the phases of :mod:`sim.phases` applied to its own row
(buyer) or column (supplier), or to its own accounts (salesperson).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import mesa
import numpy as np
from mesa.discrete_space import CellAgent

from sim import phases
from sim.salesforce import consider_leaving, leave

if TYPE_CHECKING:
    from sim.config import Config, StrategyProfile
    from sim.market import Market


class Host(Protocol):
    """What the agents need of their model (:class:`sim.model.RelationshipModel` is one)."""

    market: Market
    cfg: Config
    rng: np.random.Generator
    steps: int
    supplier_list: list[Supplier]
    agents_by_type: Any

    def sync_agents(self) -> None: ...


class _View:
    """Shared plumbing: the market and the run's config and random stream."""

    model: Host

    @property
    def market(self) -> Market:
        return self.model.market

    def _act(self, phase, block) -> None:
        phase(self.model.market, self.model.cfg, self.model.rng, block)


class Buyer(_View, CellAgent):
    """A buying organisation (M3), placed on the word-of-mouth network.

    Attributes:
        index: the buyer's row in the market's arrays.
    """

    def __init__(self, model: Host, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.rows = slice(index, index + 1)

    @property
    def volume(self) -> float:
        """Volume per purchase (value tier)."""
        return float(self.market.buyers.volume[self.index])

    @volume.setter
    def volume(self, value: float) -> None:
        self.market.buyers.volume[self.index] = value

    @property
    def adversarial(self) -> bool:
        """Stance: True for adversarial, False for partnership (F8)."""
        return bool(self.market.buyers.adversarial[self.index])

    @adversarial.setter
    def adversarial(self, value: bool) -> None:
        self.market.buyers.adversarial[self.index] = value

    @property
    def needs(self) -> dict[str, float]:
        """Needs ``w[i,d]`` over departments (sum 1)."""
        row = self.market.buyers.needs[self.index].tolist()
        return dict(zip(self.market.departments, row, strict=True))

    @needs.setter
    def needs(self, value: dict[str, float]) -> None:
        self.market.buyers.needs[self.index] = [value[d] for d in self.market.departments]

    @property
    def main_supplier(self) -> int:
        """Index of the supplier with the largest share of wallet, -1 if none."""
        return int(self.market.buyers.main_supplier[self.index])

    @property
    def suppliers(self) -> int:
        """How many suppliers this buyer has a live tie with."""
        return int(self.market.ties.active[self.index].sum())

    @property
    def main_trust(self) -> float:
        """Trust in the main supplier (NaN without one)."""
        main = self.main_supplier
        return self.trust_in(main) if main >= 0 else float("nan")

    def trust_in(self, supplier: int) -> float:
        """Trust ``T`` in a supplier (M4, M8)."""
        return float(self.market.ties.trust[self.index, supplier])

    def loyalty_to(self, supplier: int) -> tuple[float, float]:
        """Loyalty ``(Lp, Lf)``: bound to the salesperson and to the firm (M8, F2)."""
        t = self.market.ties
        return float(t.loyalty_person[self.index, supplier]), float(
            t.loyalty_firm[self.index, supplier]
        )

    def wallet_share(self, supplier: int) -> float:
        """Share of wallet held by a supplier (M4, F11)."""
        return float(self.market.ties.wallet[self.index, supplier])

    def place_order(self) -> None:
        """Choose suppliers for this step's purchase need (M6)."""
        self._act(phases.place_orders, self.rows)

    def evaluate(self) -> None:
        """Judge what was delivered and tend the ties (M7–M13): :data:`phases.AFTER_PURCHASE`."""
        for phase in phases.AFTER_PURCHASE:
            self._act(phase, self.rows)


class Salesperson(_View, mesa.Agent):
    """A salesperson (M2): owns accounts, promises, visits, may leave and take them along.

    Attributes:
        index: global index into the sales-force arrays (kept when poached).
    """

    def __init__(self, model: Host, index: int) -> None:
        super().__init__(model)
        self.index = index

    def _get(self, name: str):
        return getattr(self.market.salesforce, name)[self.index]

    def _set(self, name: str, value) -> None:
        getattr(self.market.salesforce, name)[self.index] = value

    skill = property(lambda self: float(self._get("skill")),
                     lambda self, v: self._set("skill", v),
                     doc="How well this person stands in for other departments (M7).")
    inflation = property(lambda self: float(self._get("inflation")),
                         lambda self, v: self._set("inflation", v),
                         doc="ψ, how much this person over-promises (M7, F4).")
    capacity = property(lambda self: int(self._get("capacity")),
                        lambda self, v: self._set("capacity", v),
                        doc="Contacts per step (M5).")
    hired_at = property(lambda self: int(self._get("hired_at")),
                        doc="Step of joining the current employer.")

    @property
    def employer(self) -> Supplier | None:
        """The supplier employing this person (None once they left the market)."""
        j = int(self._get("employer"))
        return self.model.supplier_list[j] if j >= 0 else None

    @property
    def tenure(self) -> int:
        """Steps with the current employer."""
        return self.market.now - self.hired_at

    @property
    def accounts(self) -> np.ndarray:
        """Buyer indices of the accounts this person owns at the employer."""
        col = int(self._get("employer"))
        return np.flatnonzero(self.market.ties.owner[:, col] == self.index)

    def consider_leaving(self) -> None:
        """Leave with the departure hazard, perhaps for a rival (M2)."""
        model = self.model
        consider_leaving(model.market, model.cfg, model.rng, self.index)

    def leave(self, to: Supplier | None = None) -> None:
        """Leave the firm for ``to`` (None: the market), taking person-bound loyalty (M2, F2)."""
        leave(self.market, self.model.cfg, self.model.rng, self.index,
              None if to is None else to.index)
        self.model.sync_agents()

    def visit_accounts(self) -> None:
        """Spend this step's contact capacity on the largest, most at-risk accounts (M5)."""
        col = int(self._get("employer"))
        t = self.market.ties
        buyers = np.flatnonzero((t.owner[:, col] == self.index) & t.active[:, col])
        phases.sales_visits(self.market, self.model.cfg, self.model.rng, buyers,
                            np.full(buyers.size, col))


class Supplier(_View, mesa.Agent):
    """A supplier firm (M1) following a strategy, with departments and a sales force.

    Attributes:
        index: the supplier's column in the tie arrays.
    """

    def __init__(self, model: Host, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def strategy(self) -> str:
        """``lone_seller``, ``company_wide`` or ``hybrid``; set it to switch (M15)."""
        return self.market.firms.strategy[self.index]

    @strategy.setter
    def strategy(self, value: str) -> None:
        self.market.firms.strategy[self.index] = value

    @property
    def price(self) -> float:
        """Base list price per unit (before the strategy's price factor)."""
        return float(self.market.firms.price[self.index])

    @price.setter
    def price(self, value: float) -> None:
        self.market.firms.price[self.index] = value

    @property
    def loyal_price(self) -> float:
        """Base price for its loyal buyers: learned under ``adaptation=reinforcement`` (L2),
        else the base price."""
        learning = self.market.learning
        if learning is None or not learning.classes:
            return self.price
        return float(learning.loyal_base[self.index])

    @property
    def serving_rule(self) -> str:
        """Whom it serves first when stock is short (L2): ``configured`` (partners, then
        loyal buyers) or the rule it learned to play this step."""
        learning = self.market.learning
        if learning is None or learning.chosen_serving[self.index] < 0:
            return "configured"
        return self.model.cfg.adaptation.serving_rules[learning.chosen_serving[self.index]]

    @property
    def health(self) -> float:
        """Financial health in [0, 1] (F6)."""
        return float(self.market.firms.health[self.index])

    @property
    def cash(self) -> float:
        """Cumulative profit."""
        return float(self.market.firms.cash[self.index])

    @property
    def planned_salespeople(self) -> int:
        """Planned size of the sales force."""
        return int(self.market.firms.planned_salespeople[self.index])

    @property
    def metrics(self) -> dict[str, float]:
        """The outcomes of the last collected step (market share, profit, trust, …)."""
        return {k: self.metric(k) for k in self.market.firms.metrics}

    def metric(self, name: str) -> float:
        """One outcome of the last collected step (NaN before the first)."""
        return self.market.firms.metric(name, self.index)

    @property
    def profile(self) -> StrategyProfile:
        """What the current strategy means for this firm."""
        return self.model.cfg.strategy.profile(self.strategy)

    @property
    def capability(self) -> dict[str, float]:
        """Capability ``c[j,d]`` per department."""
        row = self.market.firms.capability[self.index]
        return dict(zip(self.market.departments, row.tolist(), strict=True))

    @property
    def salespeople(self) -> list[Salesperson]:
        """The current sales force."""
        return [s for s in self.model.agents_by_type[Salesperson] if s.employer is self]

    def switch_strategy(self, strategy: str) -> None:
        """Adopt another strategy from the next step on (M15)."""
        self.strategy = strategy

    def serve_accounts(self) -> None:
        """Departments touch accounts; monitoring calls silent ones (M5, M9, F9)."""
        self._act(phases.department_contacts, self.index)

    def fill_orders(self) -> None:
        """Ship this step's orders; when stock is short, by its serving rule (L2)."""
        self._act(phases.fill_orders, self.index)

    def invest(self) -> None:
        """Invest in dependency and improve with trusted partners (M10, M12)."""
        for phase in phases.INVESTMENTS:
            self._act(phase, self.index)
