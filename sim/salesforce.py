"""The sales force as arrays: skill, promise inflation, capacity and employer per salesperson.

Salespeople are few and change rarely (hired, poached, quit), so the arrays
are appended to and edited in place; their index is a salesperson's global id
in the tie arrays' ``owner`` field and survives a move to a competitor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.agents import Salesperson


class SalesForce:
    """Arrays over every salesperson ever hired (departed ones have employer −1)."""

    def __init__(self) -> None:
        self.people: list[Salesperson | None] = []  # None: left the market
        self.skill = np.zeros(0, dtype=np.float32)
        self.inflation = np.zeros(0, dtype=np.float32)
        self.capacity = np.zeros(0, dtype=np.int64)
        self.employer = np.zeros(0, dtype=np.int64)

    def register(self, person: Salesperson) -> int:
        """Add a newly hired person; returns the global index."""
        self.people.append(person)
        self.skill = np.append(self.skill, np.float32(person.skill))
        self.inflation = np.append(self.inflation, np.float32(person.inflation))
        self.capacity = np.append(self.capacity, person.capacity)
        self.employer = np.append(self.employer, person.employer.index)
        return len(self.people) - 1

    def release(self, index: int) -> None:
        """A person left the market: no employer, and the agent object is let go.

        The index stays reserved (tie arrays may still name it as a former owner).
        """
        self.employer[index] = -1
        self.people[index] = None

    def headcount(self, n_suppliers: int) -> np.ndarray:
        """Salespeople employed per supplier."""
        employed = self.employer[self.employer >= 0]
        return np.bincount(employed, minlength=n_suppliers)

    def of(self, supplier: int) -> np.ndarray:
        """Global indices of a supplier's current salespeople."""
        return np.flatnonzero(self.employer == supplier)
