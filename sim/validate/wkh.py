"""The Weisbuch–Kirman–Herreiner loyalty transition: simulation vs mean-field (L1, brief §4).

With ``market=wkh`` the model reduces to WKH (2000): every buyer keeps an
attraction ``J_j`` to each of ``n`` sellers, ``J_j ← (1−γ)·J_j + π·[j chosen]``,
and chooses by logit, ``p_j = exp(β·J_j) / Σ_k exp(β·J_k)``. The order
parameter is the mean over buyers of ``Σ_j p_j²``: ``1/n`` for searching
buyers, 1 for loyal ones (the model reporter ``loyalty_order``).

Mean-field theory (computed here, nothing tabulated): replacing ``J`` by its
expectation gives the fixed points ``J_j = (π/γ)·p_j``, i.e. ``p = softmax(a·p)``
with ``a = β·π/γ``. The searching state ``p = 1/n`` loses stability at
``a = n`` (``β_c = nγ/π``). A loyal branch ``p = (x, (1−x)/(n−1), …)`` solves
``a(x) = (n−1)·ln((n−1)·x/(1−x)) / (n·x − 1)``; it exists for ``a ≥ min_x a(x)``,
the saddle-node ``β_sn`` (``= β_c`` for ``n = 2``, below it for ``n > 2``: the
hysteresis window).

The simulation runs :class:`sim.RelationshipModel` on the model's own
``market=wkh`` config, one run per β, and averages ``loyalty_order`` over the
second half of a run long enough for stationarity (``steps = ⌈horizon/γ⌉``).

The check (:func:`passed`): for ``n = 2`` the up-sweep midpoint must lie
within 10% of the mean-field midpoint (``relative_error ≤ 0.10``). For
``n > 2`` searching buyers escape the metastable searching state anywhere
between the two branches (noise of order √γ carries them over the barrier),
so the up-sweep midpoint must lie inside the mean-field window ``[β_down,
β_up]`` (the loyal-branch and the searching-branch midpoints) widened by 10%
on each side, read as 10% of each end's value: ``[0.9·β_down, 1.1·β_up]``.
For ``n = 2`` the two midpoints coincide and the window is the same 10% band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
from scipy.optimize import minimize_scalar

from sim.api import make_config
from sim.model import RelationshipModel

SEARCH_NUDGE = 1e-3  # the searching start: p = 1/n, nudged toward seller 0 to expose instability
LOYAL_START = 0.999  # the loyal start: a buyer buys almost only from seller 0


@dataclass(frozen=True)
class WKHCase:
    """One validation case: n sellers, memory γ, profit π, and how to simulate it."""

    sellers: int = 2
    gamma: float = 0.1
    profit: float = 1.0
    buyers: int = 1000
    seed: int = 0
    horizon: float = 30.0  # steps per run = ⌈horizon/γ⌉ (several relaxation times 1/γ)
    grid: tuple[float, ...] = field(
        default_factory=lambda: tuple(np.round(np.arange(0.5, 2.01, 0.05), 3))
    )  # β values, as multiples of β_c

    def __post_init__(self) -> None:
        if self.sellers < 2:
            raise ValueError(f"sellers={self.sellers}: WKH needs n ≥ 2 sellers")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma={self.gamma}: the memory γ must lie in (0, 1]")
        if self.profit <= 0.0:
            raise ValueError(f"profit={self.profit}: the profit π must be > 0")
        if self.buyers < 1:
            raise ValueError(f"buyers={self.buyers}: need at least one buyer")

    @property
    def steps(self) -> int:
        """Run length: ``⌈horizon/γ⌉`` steps."""
        return math.ceil(self.horizon / self.gamma)

    @property
    def midpoint(self) -> float:
        """Half-way between searching (``1/n``) and loyal (1) on the order parameter."""
        return 0.5 * (1.0 / self.sellers + 1.0)


# ---------------------------------------------------------------- theory


def critical_beta(n: int, gamma: float, profit: float) -> float:
    """``β_c = nγ/π``: where the searching state loses stability (brief §4)."""
    return n * gamma / profit


def loyal_branch_a(x: np.ndarray | float, n: int) -> np.ndarray | float:
    """``a(x) = (n−1)·ln((n−1)x/(1−x)) / (nx − 1)``: the ``a = βπ/γ`` of a loyal fixed point.

    ``x`` is the probability of the preferred seller, ``1/n < x < 1``.
    """
    return (n - 1) * np.log((n - 1) * x / (1 - x)) / (n * x - 1)


def saddle_node_beta(n: int, gamma: float, profit: float) -> float:
    """``β_sn = (γ/π)·min_x a(x)``: the lowest β where the loyal branch exists.

    For ``n = 2`` the minimum is the limit ``x → 1/2`` (``a = 2``, no hysteresis).
    """
    eps = 1e-9
    res = minimize_scalar(
        lambda x: float(loyal_branch_a(x, n)), bounds=(1 / n + eps, 1 - eps), method="bounded",
        options={"xatol": 1e-12},
    )
    return min(float(res.fun), float(n)) * gamma / profit


def meanfield_order(
    betas: np.ndarray, n: int, gamma: float, profit: float, start: str, iters: int = 10000
) -> np.ndarray:
    """Order parameter ``Σ_j p_j²`` at the mean-field fixed point ``p = softmax((βπ/γ)·p)``.

    Iterates the map from ``start``: ``"searching"`` (``p = 1/n``, nudged by
    :data:`SEARCH_NUDGE`) or ``"loyal"`` (``p_0 =`` :data:`LOYAL_START`),
    with damping 1/2, for every β at once, until it moves less than 1e-12.
    """
    a = np.asarray(betas, dtype=np.float64)[:, None] * profit / gamma
    p = np.full((a.shape[0], n), 1.0 / n)
    first = np.eye(n)[0]
    if start == "searching":
        p += SEARCH_NUDGE * (first - 1.0 / n)
    elif start == "loyal":
        p = np.broadcast_to(LOYAL_START * first + (1 - LOYAL_START) / (n - 1) * (1 - first),
                            p.shape).copy()
    else:
        raise ValueError(f"start={start!r}: expected 'searching' or 'loyal'")
    for _ in range(iters):
        z = a * p
        w = np.exp(z - z.max(axis=1, keepdims=True))
        nxt = 0.5 * p + 0.5 * w / w.sum(axis=1, keepdims=True)
        done = np.abs(nxt - p).max() < 1e-12
        p = nxt
        if done:
            break
    return (p * p).sum(axis=1)


def midpoint_crossing(betas: Sequence[float], order: Sequence[float], level: float) -> float:
    """First β where ``order`` rises through ``level``, by linear interpolation.

    NaN when the crossing is not inside the grid (never reached, or already
    above ``level`` at the first point).
    """
    b, y = np.asarray(betas, dtype=float), np.asarray(order, dtype=float)
    above = np.flatnonzero(y >= level)
    if above.size == 0 or above[0] == 0:
        return float("nan")
    k = above[0]
    return float(b[k - 1] + (level - y[k - 1]) * (b[k] - b[k - 1]) / (y[k] - y[k - 1]))


# ---------------------------------------------------------------- simulation


def wkh_model(case: WKHCase, beta: float) -> RelationshipModel:
    """The model's own ``market=wkh`` config at choice intensity β (β, γ, π, n from the case)."""
    cfg = make_config([
        "market=wkh",
        f"market.n_buyers={case.buyers}",
        f"market.n_suppliers={case.sellers}",
        f"market.profit_per_purchase={case.profit}",
        f"buyers.memory={case.gamma}",
        f"buyers.choice_intensity={beta}",
        f"steps={case.steps}",
        f"seed={case.seed}",
    ])
    return RelationshipModel(cfg)


def simulated_order(case: WKHCase, beta: float, start: str) -> float:
    """Stationary ``loyalty_order``: mean over the second half of a ``case.steps`` run.

    ``"searching"`` starts every buyer at ``J = 0``; ``"loyal"`` at the
    mean-field loyal state ``J_0 = π/γ``, ``J_j = 0`` otherwise (set on the
    firm-bound loyalty, ``J = Lp + Lf``).
    """
    model = wkh_model(case, beta)
    if start == "loyal":
        model.ties.loyalty_firm[:, 0] = case.profit / case.gamma
    elif start != "searching":
        raise ValueError(f"start={start!r}: expected 'searching' or 'loyal'")
    model.run_for(case.steps)
    series = model.datacollector.get_model_vars_dataframe()["loyalty_order"].to_numpy()
    return float(series[len(series) // 2:].mean())


# ---------------------------------------------------------------- the check


def sweep(case: WKHCase, betas: Sequence[float], start: str, jobs: int = 1) -> list[float]:
    """:func:`simulated_order` at each β, in ``jobs`` worker processes."""
    if jobs <= 1:
        return [simulated_order(case, float(b), start) for b in betas]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(simulated_order, repeat(case), map(float, betas), repeat(start)))


def meanfield_midpoints(case: WKHCase, betas: np.ndarray, points: int = 401) -> dict:
    """Mean-field midpoints from a searching and a loyal start, on a fine grid over ``betas``."""
    fine = np.linspace(betas.min(), betas.max(), points)
    n, gamma, profit = case.sellers, case.gamma, case.profit
    return {
        f"beta_mid_meanfield{suffix}": midpoint_crossing(
            fine, meanfield_order(fine, n, gamma, profit, start), case.midpoint)
        for suffix, start in (("", "searching"), ("_down", "loyal"))
    }


def relative_error(measured: float, theory: float) -> float:
    """``|measured − theory| / theory``."""
    return abs(measured - theory) / theory


#: The check's tolerance: ``relative_error ≤ 0.10`` for n = 2, and the mean-field window
#: widened by 10% of each end's value for n > 2 (:func:`passed`).
TOLERANCE = 0.10


def window(result: dict) -> tuple[float, float]:
    """The accepted range of ``beta_mid_measured``: ``[(1−tol)·β_down, (1+tol)·β_up]``.

    ``β_up`` is ``beta_mid_meanfield`` (the midpoint from a searching start,
    the searching branch) and ``β_down`` is ``beta_mid_meanfield_down`` (from a
    loyal start, the loyal branch; ``n > 2`` only). "Widened by 10% on each
    side" is read as 10% of each end's value, so for ``n = 2`` (no down-sweep:
    ``β_down = β_up``) this is ``relative_error ≤ tol``.
    """
    up = result["beta_mid_meanfield"]
    down = result.get("beta_mid_meanfield_down", up)
    return (1.0 - TOLERANCE) * min(down, up), (1.0 + TOLERANCE) * max(down, up)


def passed(result: dict) -> bool:
    """The WKH check: ``relative_error ≤ 0.10`` for n = 2, the up-sweep inside :func:`window`
    for n > 2; False when the simulated curve does not cross the midpoint inside the grid."""
    measured = result["beta_mid_measured"]
    if not math.isfinite(measured):
        return False
    if result["sellers"] == 2:
        return bool(result["relative_error"] <= TOLERANCE)
    low, high = window(result)
    return bool(low <= measured <= high)


def run_wkh(case: WKHCase, jobs: int = 1) -> dict:
    """Simulate and compare with mean-field theory; the dict printed by ``sim.validate wkh``.

    Keys: ``beta_c_analytic``, ``beta_saddle_node``, ``beta_mid_meanfield``,
    ``beta_mid_measured``, ``relative_error``, the curves (``beta``,
    ``order_meanfield``, ``order_meanfield_loyal``, ``order_measured`` and,
    for ``n > 2``, the down-sweep ``order_measured_loyal``) and the case. For
    ``n > 2`` also the midpoints of the down-sweeps from a loyal start,
    ``beta_mid_meanfield_down`` and ``beta_mid_measured_down`` (the lower edge
    of the hysteresis loop), and their ``relative_error_down``. Last, the
    check: ``window`` (:func:`window`, the accepted range of
    ``beta_mid_measured``) and ``passed`` (:func:`passed`).
    """
    n, gamma, profit = case.sellers, case.gamma, case.profit
    beta_c = critical_beta(n, gamma, profit)
    betas = beta_c * np.asarray(case.grid, dtype=float)
    theory = meanfield_midpoints(case, betas)
    measured = sweep(case, betas, "searching", jobs)
    beta_mid = midpoint_crossing(betas, measured, case.midpoint)
    result = {
        "sellers": n, "gamma": gamma, "profit": profit, "buyers": case.buyers,
        "steps": case.steps, "seed": case.seed,
        "beta_c_analytic": beta_c,
        "beta_saddle_node": saddle_node_beta(n, gamma, profit),
        "beta_mid_meanfield": theory["beta_mid_meanfield"],
        "beta_mid_measured": beta_mid,
        "relative_error": relative_error(beta_mid, theory["beta_mid_meanfield"]),
        "beta": betas.tolist(),
        "order_meanfield": meanfield_order(betas, n, gamma, profit, "searching").tolist(),
        "order_meanfield_loyal": meanfield_order(betas, n, gamma, profit, "loyal").tolist(),
        "order_measured": measured,
    }
    if n > 2:
        down = sweep(case, betas, "loyal", jobs)
        beta_down = midpoint_crossing(betas, down, case.midpoint)
        result.update(
            order_measured_loyal=down,
            beta_mid_meanfield_down=theory["beta_mid_meanfield_down"],
            beta_mid_measured_down=beta_down,
            relative_error_down=relative_error(beta_down, theory["beta_mid_meanfield_down"]),
        )
    result["window"] = list(window(result))
    result["passed"] = passed(result)
    return result
