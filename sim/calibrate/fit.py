"""The fit: method of simulated moments, searched with optuna, intervals from the sandwich.

**Objective.** For a candidate θ, every target's outcome is simulated on
the same ``K`` seeds (common random numbers) and averaged: ``m(θ)``. The
distance to the observed values ``y`` with standard errors ``s`` is the
method-of-simulated-moments criterion with the diagonal weight ``W = diag(1/s²)``::

    J(θ) = Σ_k ((m_k(θ) − y_k) / s_k)²

**Search.** optuna's TPE sampler (multivariate, seeded) proposes ``budget``
candidates in rounds of ``batch`` (ask/tell); each round's ``batch × K`` runs
are spread over ``jobs`` local processes with joblib, as the sweeps are. The
default config is the first candidate when it lies inside the bounds. Then
up to ``refine`` Levenberg–Marquardt steps from the best candidate polish
the estimate on the finite-difference Jacobian (each step: ``2p + 1``
candidates). The rounds' size does not depend on ``jobs``, and every run is
deterministic, so the result depends on ``seed`` only.

**Intervals.** At the estimate θ̂ with Jacobian ``G = ∂m/∂θ`` (central
differences, 5% of each range, same seeds), the estimate's covariance is
the MSM sandwich ``(G'WG)⁻¹ G'W Σ W G (G'WG)⁻¹`` with ``Σ = diag(s²) + V/K``,
``V`` the covariance of the outcomes over the ``K`` seeds at θ̂ (simulation
noise). Parameter intervals are θ̂ ± q·sd, cut to the bounds, with q the
Student-t quantile for the Welch–Satterthwaite degrees of freedom of that
variance (:func:`t_quantiles`: 1.96 when the observation error dominates,
wider when few seeds' noise does). A
parameter the targets do not move (a zero column of ``G``) is reported as
not identified; strong correlations between estimates show which
parameters the targets can only tell apart in combination.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.calibrate.targets import Parameter, Problem, Target

Z95 = 1.959963984540054
#: relative step of the finite-difference Jacobian (share of each parameter's range)
STEP = 0.05
#: penalty for a candidate whose runs lack an outcome (e.g. a strategy with no supplier left)
MISSING = 1e12

Simulator = Callable[[tuple[str, ...], int, Sequence[Target]], list[float]]


@dataclass(frozen=True)
class Estimate:
    """A parameter's estimate, standard deviation and 95% interval (cut to the bounds)."""

    key: str
    value: float
    sd: float
    low: float
    high: float
    bounds: tuple[float, float]
    default: float | None
    identified: bool


@dataclass(frozen=True)
class TargetFit:
    """A target at the estimate: observed ± s.e., simulated mean with its 95% CI over seeds.

    ``z`` is (simulated − observed) over the combined standard error of the
    observation and the simulated mean.
    """

    name: str
    observed: float
    se: float
    simulated: float
    sim_low: float
    sim_high: float
    z: float
    source: str = ""

    @property
    def within(self) -> bool:
        """Whether the simulated mean lies within the 95% interval of the difference."""
        return abs(self.z) <= Z95


@dataclass
class Fit:
    """Everything a calibration found, for calibrated.yaml and the report."""

    problem: Problem
    estimates: list[Estimate]
    targets: list[TargetFit]
    correlation: np.ndarray
    distance: float
    trials: list[dict[str, float | str]]
    seeds: list[int]
    budget: int
    seed: int
    runs: int = 0
    seconds: float = 0.0
    default_distance: float | None = None
    default_targets: list[TargetFit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def calibrated(self) -> dict[str, float | int]:
        """The estimates as config values (integers rounded)."""
        return {e.key: (int(round(e.value)) if p.integer else float(e.value))
                for e, p in zip(self.estimates, self.problem.params, strict=True)}


# ---------------------------------------------------------------- evaluating candidates


class Evaluator:
    """Runs candidates on the common seeds in ``jobs`` processes; counts runs; draws progress."""

    def __init__(self, problem: Problem, seeds: Sequence[int], jobs: int,
                 simulator: Simulator | None = None, progress: bool = False,
                 total: int = 0) -> None:
        from tqdm import tqdm

        from sim.calibrate.simulate import simulate

        self.problem, self.seeds, self.jobs = problem, list(seeds), jobs
        self.simulator = simulator or simulate
        self.runs = 0
        self.bar = tqdm(total=total, desc="calibration runs", unit="run", file=sys.stderr,
                        disable=not progress, dynamic_ncols=True)

    def values(self, thetas: Sequence[Sequence[float]]) -> np.ndarray:
        """Outcomes of each candidate on each seed: an array (candidates, seeds, targets)."""
        from joblib import Parallel, delayed

        tasks = [(self.problem.overrides_for(theta), seed)
                 for theta in thetas for seed in self.seeds]
        targets = self.problem.targets
        if self.jobs == 1:
            results = (self.simulator(o, s, targets) for o, s in tasks)
        else:
            results = Parallel(n_jobs=self.jobs, return_as="generator")(
                delayed(self.simulator)(o, s, targets) for o, s in tasks)
        out = []
        for row in results:
            out.append(row)
            self.bar.update(1)
        self.runs += len(tasks)
        return np.asarray(out, dtype=float).reshape(len(thetas), len(self.seeds), len(targets))

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()


def distance(values: np.ndarray, targets: Sequence[Target]) -> float:
    """J(θ): the weighted squared distance of the seeds' mean outcomes to the targets."""
    mean = values.mean(axis=0)
    if not np.all(np.isfinite(mean)):
        return MISSING
    observed = np.array([t.value for t in targets])
    se = np.array([t.se for t in targets])
    return float((((mean - observed) / se) ** 2).sum())


# ---------------------------------------------------------------- the search


def default_theta(params: Sequence[Parameter], overrides: Sequence[str]) -> list[float] | None:
    """The values of the parameters in the config of ``overrides`` (None if out of bounds)."""
    from sim.api import make_config

    cfg = make_config(list(overrides))
    theta = []
    for p in params:
        node = cfg
        for part in p.key.split("."):
            node = getattr(node, part)
        if not p.low <= float(node) <= p.high:
            return None
        theta.append(float(node))
    return theta


def calibrate(problem: Problem, budget: int = 40, seeds: int = 4, seed: int = 0, jobs: int = 1,
              batch: int = 4, refine: int = 2, progress: bool = False,
              simulator: Simulator | None = None) -> Fit:
    """Fit the problem's parameters to its targets (module doc); reproducible for ``seed``."""
    import optuna

    started = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    params = problem.params
    p = len(params)
    common = [seed + k for k in range(seeds)]
    evaluator = Evaluator(problem, common, jobs, simulator, progress,
                          total=seeds * (budget + (refine + 1) * (2 * p + 1)))
    dists = {
        q.key: (optuna.distributions.IntDistribution(int(q.low), int(q.high)) if q.integer
                else optuna.distributions.FloatDistribution(q.low, q.high)) for q in params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, n_startup_trials=max(4, min(10, budget // 3)))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    default = default_theta(params, problem.overrides)
    if default is not None:
        study.enqueue_trial({q.key: (int(v) if q.integer else v)
                             for q, v in zip(params, default, strict=True)})
    trials: list[dict[str, float | str]] = []
    cache: dict[tuple[float, ...], np.ndarray] = {}

    def record(thetas: list[list[float]], phase: str) -> list[float]:
        values = evaluator.values(thetas)
        out = []
        for theta, v in zip(thetas, values, strict=True):
            cache[tuple(theta)] = v
            j = distance(v, problem.targets)
            trials.append({"trial": len(trials), "phase": phase, "distance": j,
                           **{q.key: x for q, x in zip(params, theta, strict=True)}})
            out.append(j)
        return out

    done = 0
    while done < budget:
        asked = [study.ask(dists) for _ in range(min(batch, budget - done))]
        thetas = [[float(t.params[q.key]) for q in params] for t in asked]
        for trial, j in zip(asked, record(thetas, "search"), strict=True):
            study.tell(trial, j)
        done += len(asked)
    default_distance = float(trials[0]["distance"]) if default is not None else None
    best = min(trials, key=lambda t: float(t["distance"]))
    theta = np.array([float(best[q.key]) for q in params])
    j_best = float(best["distance"])

    jacobian = None
    for _ in range(refine):
        jacobian = finite_jacobian(theta, params, lambda ts: record(ts, "jacobian"), cache)
        step = lm_step(jacobian, cache[tuple(theta)], problem.targets)
        proposal = clip(theta + step, params)
        if np.allclose(proposal, theta):
            break
        (j_new,) = record([list(proposal)], "refine")
        if j_new >= j_best:
            break
        theta, j_best, jacobian = proposal, j_new, None
    if jacobian is None:
        jacobian = finite_jacobian(theta, params, lambda ts: record(ts, "jacobian"), cache)
    evaluator.close()

    at = cache[tuple(theta)]
    estimates, correlation, _ = intervals(theta, jacobian, at, problem, default)
    fits = target_fits(at, problem.targets)
    fit = Fit(problem, estimates, fits, correlation, j_best, trials, common, budget, seed,
              runs=evaluator.runs, seconds=time.perf_counter() - started,
              default_distance=default_distance,
              default_targets=[] if default is None else target_fits(
                  cache[tuple(default)], problem.targets))
    if not all(e.identified for e in estimates):
        fit.notes.append("not identified by these targets: " + ", ".join(
            e.key for e in estimates if not e.identified))
    return fit


def clip(theta: np.ndarray, params: Sequence[Parameter]) -> np.ndarray:
    """θ inside the bounds (integers rounded)."""
    out = np.array([min(max(x, q.low), q.high) for x, q in zip(theta, params, strict=True)])
    return np.array([round(x) if q.integer else x for x, q in zip(out, params, strict=True)],
                    dtype=float)


def finite_jacobian(theta: np.ndarray, params: Sequence[Parameter],
                    run: Callable[[list[list[float]]], list[float]],
                    cache: dict[tuple[float, ...], np.ndarray]) -> np.ndarray:
    """∂m/∂θ at θ (targets × parameters): central differences on the common seeds.

    The step is :data:`STEP` of each range (at least 1 for integers); at a
    bound the difference is one-sided.
    """
    points, pairs = [], []
    if tuple(theta) not in cache:
        points.append(list(theta))
    for k, q in enumerate(params):
        h = max(1.0, round(STEP * (q.high - q.low))) if q.integer else STEP * (q.high - q.low)
        up, down = theta.copy(), theta.copy()
        up[k], down[k] = min(theta[k] + h, q.high), max(theta[k] - h, q.low)
        pairs.append((up, down))
        points += [list(up), list(down)]
    fresh = [pt for pt in points if tuple(pt) not in cache]
    unique = list({tuple(pt): pt for pt in fresh}.values())
    if unique:
        run(unique)
    columns = []
    for up, down in pairs:
        diff = cache[tuple(up)].mean(axis=0) - cache[tuple(down)].mean(axis=0)
        width = float((up - down).sum())
        columns.append(diff / width if width > 0 else np.zeros_like(diff))
    return np.column_stack(columns)


def lm_step(jacobian: np.ndarray, values: np.ndarray, targets: Sequence[Target],
            damping: float = 1e-3) -> np.ndarray:
    """A Levenberg–Marquardt step toward the targets in units of their standard errors."""
    se = np.array([t.se for t in targets])
    residual = (values.mean(axis=0) - np.array([t.value for t in targets])) / se
    g = jacobian / se[:, None]
    if not np.all(np.isfinite(g)) or not np.all(np.isfinite(residual)):
        return np.zeros(jacobian.shape[1])
    a = g.T @ g
    a = a + damping * np.diag(np.diag(a) + 1e-12)
    return -np.linalg.solve(a, g.T @ residual)


def intervals(theta: np.ndarray, jacobian: np.ndarray, values: np.ndarray, problem: Problem,
              default: Sequence[float] | None
              ) -> tuple[list[Estimate], np.ndarray, np.ndarray]:
    """Estimates with sandwich standard deviations and intervals, their correlation, covariance."""
    params, targets = problem.params, problem.targets
    se = np.array([t.se for t in targets])
    seeds = values.shape[0]
    noise = np.atleast_2d(np.cov(values, rowvar=False, ddof=1)) / seeds if seeds > 1 else (
        np.zeros((len(targets), len(targets))))
    noise = np.nan_to_num(noise)
    sigma = np.diag(se ** 2) + noise
    weight = np.diag(1.0 / se ** 2)
    scale = np.array([q.high - q.low for q in params])
    scaled = jacobian * scale[None, :] / se[:, None]
    moved = np.linalg.norm(scaled, axis=0) > 1e-9
    p = len(params)
    cov = np.full((p, p), np.nan)
    sim_var = np.zeros(p)  # the part of each variance that comes from the seeds' noise
    if moved.any():
        g = jacobian[:, moved]
        bread = np.linalg.pinv(g.T @ weight @ g)
        lever = bread @ g.T @ weight
        idx = np.flatnonzero(moved)
        cov[np.ix_(idx, idx)] = lever @ sigma @ lever.T
        sim_var[idx] = np.diag(lever @ noise @ lever.T)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    sd = np.where(moved, sd, math.inf)
    quantile = t_quantiles(sd ** 2, sim_var, seeds)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = cov / np.outer(sd, sd)
    estimates = []
    for k, q in enumerate(params):
        half = quantile[k] * sd[k]
        estimates.append(Estimate(
            q.key, float(theta[k]), float(sd[k]),
            float(max(q.low, theta[k] - half)), float(min(q.high, theta[k] + half)),
            (q.low, q.high), None if default is None else float(default[k]), bool(moved[k])))
    return estimates, correlation, cov


def t_quantiles(total: np.ndarray, from_seeds: np.ndarray, seeds: int) -> np.ndarray:
    """The 97.5% quantile for each estimate's interval: Student-t with Welch–Satterthwaite
    degrees of freedom.

    The observed standard errors are taken as known (infinite degrees of
    freedom); the seeds' noise is estimated from ``seeds − 1`` degrees of
    freedom, so ``ν = total² / (from_seeds² / (seeds − 1))``. When the seeds'
    noise dominates and seeds are few, the interval widens accordingly
    (ν = 2: 4.30 instead of 1.96); when the observation error dominates, ν → ∞.
    """
    from scipy import stats

    if seeds < 2:
        return np.full(total.shape, Z95)
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = total ** 2 / (from_seeds ** 2 / (seeds - 1))
    nu = np.where(np.isfinite(nu) & (nu > 0), nu, np.inf)
    return np.where(np.isinf(nu), Z95, stats.t.ppf(0.975, np.minimum(nu, 1e9)))


def target_fits(values: np.ndarray, targets: Sequence[Target]) -> list[TargetFit]:
    """Each target at the estimate: simulated mean, its 95% CI over seeds, and z."""
    from scipy import stats

    seeds = values.shape[0]
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if seeds > 1 else np.zeros(values.shape[1])
    half = (stats.t.ppf(0.975, seeds - 1) * sd / math.sqrt(seeds)) if seeds > 1 else sd
    fits = []
    for k, t in enumerate(targets):
        combined = math.sqrt(t.se ** 2 + (sd[k] ** 2 / seeds))
        fits.append(TargetFit(t.name, t.value, t.se, float(mean[k]), float(mean[k] - half[k]),
                              float(mean[k] + half[k]), float((mean[k] - t.value) / combined),
                              t.source))
    return fits
