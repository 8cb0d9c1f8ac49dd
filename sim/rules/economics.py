"""M14 Economics: revenue, cost, profit and customer lifetime value (F11)."""

from __future__ import annotations

import numpy as np


def supplier_costs(
    volume: np.ndarray,
    unit_cost: float,
    salespeople: np.ndarray,
    salary: float,
    coordination: np.ndarray,
    overhead_per_account: np.ndarray,
    active_accounts: np.ndarray,
    contacts: np.ndarray,
    contact_cost: float,
    investments: np.ndarray,
    investment_cost: float,
) -> np.ndarray:
    """Cost per supplier this step (M14).

    ``cost = c_u·volume + salary·n_sales + κ·o·n_active + c_c·contacts + c_D·investments``:
    unit cost, the sales force, coordination overhead growing with ``κ`` (M1),
    cross-functional and monitoring contacts, and dependency investments.
    """
    return (
        unit_cost * volume
        + salary * salespeople
        + coordination * overhead_per_account * active_accounts
        + contact_cost * contacts
        + investment_cost * investments
    )


def lifetime_value(margin: np.ndarray, retention: np.ndarray, discount: float) -> np.ndarray:
    """CLV per account ``m·r / (1 + d − r)`` (Gupta & Lehmann 2003; M14, F11).

    ``m`` is the margin per account per step, ``r`` the per-step retention,
    ``d`` the per-step discount rate.
    """
    return margin * retention / (1.0 + discount - retention)


def financial_health(health: np.ndarray, margin_rate: np.ndarray, rate: float) -> np.ndarray:
    """Health in [0,1] follows ``0.5 + profit/revenue`` as a moving average (M1, F6).

    ``h ← clip(h + r·(0.5 + margin − h), 0, 1)``: a firm that breaks even sits at 0.5.
    """
    return np.clip(health + rate * (0.5 + margin_rate - health), 0.0, 1.0)
