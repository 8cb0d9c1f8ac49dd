"""Per-tie state (M4): one numpy array of shape (n_buyers, n_suppliers) per variable.

A *tie* is the relationship between buyer ``i`` and supplier ``j``. Indexing
any array with a buyer index gives that buyer's row (a view), indexing with
``slice(None)`` gives the whole matrix: the rule functions in
:mod:`sim.rules` accept both, which is how the per-agent and vectorised
engines share one implementation of every mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

F32 = np.float32


def nonzero(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D block (row and column indices of its non-zero entries).

    The same arrays in the same (row-major) order, from the flat indices:
    numpy's 2-D ``nonzero`` is about 10× slower than ``flatnonzero`` and a
    ``divmod`` on a (buyers, suppliers) block.
    """
    return np.divmod(np.flatnonzero(block), block.shape[1])


class Stage(IntEnum):
    """Dwyer–Schurr–Oh relationship stages (M13)."""

    AWARENESS = 0
    EXPLORATION = 1
    EXPANSION = 2
    COMMITMENT = 3
    DISSOLUTION = 4


@dataclass
class Ties:
    """The state of every buyer–supplier tie.

    Attraction ``J`` of the WKH model is not stored: it is the sum of the
    person-bound and the firm-bound loyalty, ``J = Lp + Lf`` (M8), so that a
    salesperson who leaves takes exactly the person-bound part of it.
    """

    considers: np.ndarray  # bool: supplier is in the buyer's consideration set
    active: np.ndarray  # bool: considered and not dissolved
    trust: np.ndarray  # T ∈ [0,1]
    satisfaction: np.ndarray  # S ∈ [0,1]
    commitment: np.ndarray  # C ∈ [0,1]
    dependency: np.ndarray  # D ∈ [0,1]
    loyalty_person: np.ndarray  # Lp: attraction bound to the salesperson
    loyalty_firm: np.ndarray  # Lf: attraction bound to the firm
    expectation: np.ndarray  # E ∈ [0,1]: the last promise
    knowledge: np.ndarray  # K ∈ [0,1]: what the seller has learnt of the buyer
    wallet: np.ndarray  # share of wallet ∈ [0,1], moving average
    grievance: np.ndarray  # trust lost in the failure behind a pending complaint
    last_contact: np.ndarray  # int32: last step with any contact
    complaint: np.ndarray  # bool: a complaint is pending
    silent: np.ndarray  # bool: dissatisfied and silent
    stage: np.ndarray  # int8 Stage
    partner: np.ndarray  # bool: strategic partner (F9)
    owner: np.ndarray  # int32: global salesperson index owning the account, -1 none

    @classmethod
    def empty(cls, n_buyers: int, n_suppliers: int, initial_trust: float,
              initial_satisfaction: float) -> Ties:
        """All ties at awareness, trust at T₀, satisfaction at S₀, nothing else built yet."""
        shape = (n_buyers, n_suppliers)
        z = lambda dtype=F32: np.zeros(shape, dtype=dtype)  # noqa: E731
        return cls(
            considers=z(bool),
            active=z(bool),
            trust=np.full(shape, initial_trust, dtype=F32),
            satisfaction=np.full(shape, initial_satisfaction, dtype=F32),
            commitment=z(),
            dependency=z(),
            loyalty_person=z(),
            loyalty_firm=z(),
            expectation=z(),
            knowledge=z(),
            wallet=z(),
            grievance=z(),
            last_contact=z(np.int32),
            complaint=z(bool),
            silent=z(bool),
            stage=z(np.int8),
            partner=z(bool),
            owner=np.full(shape, -1, dtype=np.int32),
        )

    def attraction(self, rows: slice = slice(None)) -> np.ndarray:
        """J = Lp + Lf, the WKH preference (M8), of a block of buyers."""
        return self.loyalty_person[rows] + self.loyalty_firm[rows]

    def add_supplier(self, initial_trust: float, initial_satisfaction: float) -> None:
        """Append one supplier column (a new entrant, M15)."""
        for f in fields(self):
            arr = getattr(self, f.name)
            fill = {"trust": initial_trust, "satisfaction": initial_satisfaction,
                    "owner": -1}.get(f.name, 0)
            col = np.full((arr.shape[0], 1), fill, dtype=arr.dtype)
            setattr(self, f.name, np.concatenate([arr, col], axis=1))

    def dissolve(self, b: np.ndarray, s: np.ndarray) -> None:
        """End the ties (b, s) (M13): the bond is gone, the buyer stops buying."""
        for name in ("active", "complaint", "silent", "partner"):
            getattr(self, name)[b, s] = False
        self.stage[b, s] = Stage.DISSOLUTION
        for name in ("loyalty_person", "loyalty_firm", "commitment", "grievance"):
            getattr(self, name)[b, s] = 0.0
