"""M11 Transaction cost: trust saves non-productive face-to-face time (F7, L4)."""

from __future__ import annotations

import numpy as np


def nonproductive_share(trust: np.ndarray, at_zero_trust: float, slope: float,
                        broken: np.ndarray | bool = False, blame: float = 0.0) -> np.ndarray:
    """``τ = min(1, τ₀ − slope·T + b·[promise broken])`` (M11, F7).

    With 0.5 and 0.25: half of face time at no trust, a quarter at full trust,
    so the most trusted buyer spends about half the least trusted's share
    (Dyer & Chu 2003: ≈ 25% vs ≈ 47%, "twice as much"; ``001_…``). A
    purchase whose promise was broken beyond the dead band adds ``b`` of
    blame: non-productive time is haggling, contracts *and blame* (F7).
    """
    return np.minimum(1.0, at_zero_trust - slope * trust + blame * broken)


def transaction_cost(
    volume: np.ndarray,
    trust: np.ndarray,
    share: np.ndarray,
    cost_per_share: float,
    inspection_threshold: float,
    inspection_cost: float,
) -> np.ndarray:
    """A buyer's procurement cost of a purchase (M11, L4).

    ``cost = volume·(c_τ·τ + c_insp·[T < threshold])``: purchasing staff time
    on contracting, haggling and blame (``c_τ·τ``) and inspection, skipped
    once trust is above the threshold. With ``c_insp = 0.75·c_τ`` the least
    trusted buyer's cost per unit is 5× the most trusted one's,
    ``(0.5 + 0.75)/0.25`` (Dyer & Chu 2003: about five times).
    """
    return volume * (cost_per_share * share + inspection_cost * (trust < inspection_threshold))


def cost_to_serve(
    volume: np.ndarray,
    share: np.ndarray,
    serve_cost: float,
    wallet: np.ndarray,
    wallet_saving: float,
) -> np.ndarray:
    """The supplier's side of the transaction cost (M11, F11).

    ``cost = volume·c_s·τ·(1 − s_w·W)``: the seller's people spend the same
    non-productive time with a distrustful buyer, and an account that buys
    most of its wallet from the firm costs less to serve per unit (one
    account plan, one set of contracts; ``003_…``).
    """
    return volume * serve_cost * share * (1.0 - wallet_saving * wallet)
