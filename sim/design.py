"""Sensitivity designs (SALib): which parameter values run number ``row`` of a design uses.

An experiment that studies sensitivity sweeps ``design.row`` over
``range(0, ${design_rows:${design}})``; each run calls :func:`apply` on its
config, which sets every parameter of ``design.parameters`` to the value of
that row of the design, before validation. The design is a pure function of
``(method, samples, parameters, seed)``, so every run (on any worker or
cluster node) computes the same matrix, and :func:`analyse` later pairs the
outputs with it.

- ``sobol``: Saltelli's sample, ``N·(k+2)`` rows (first and total order
  indices, no second order); indices from :func:`SALib.analyze.sobol.analyze`
  with bootstrap confidence intervals.
- ``morris``: ``N`` trajectories of ``k+1`` rows; μ*, σ from
  :func:`SALib.analyze.morris.analyze`, with bootstrap intervals on μ*.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.config import DESIGN_METHODS, ConfigError

MORRIS_LEVELS = 4


def problem(parameters: dict[str, list[float]]) -> dict[str, Any]:
    """SALib's problem dict for ``{path: [low, high]}``, in the given order."""
    return {
        "num_vars": len(parameters),
        "names": list(parameters),
        "bounds": [list(map(float, b)) for b in parameters.values()],
    }


def check(design: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the first bad field of a design."""
    method, params = design.get("method", ""), design.get("parameters") or {}
    if method not in DESIGN_METHODS:
        raise ConfigError(
            f"design.method={method!r} is not allowed: expected one of {list(DESIGN_METHODS)}"
        )
    samples = design.get("samples")
    if not isinstance(samples, int) or samples < 2:
        raise ConfigError(f"design.samples={samples!r} is not allowed: expected an integer ≥ 2")
    if method == "sobol" and samples & (samples - 1):
        raise ConfigError(
            f"design.samples={samples!r} is not allowed: Sobol needs a power of 2 (e.g. 64)"
        )
    if len(params) < 2:
        raise ConfigError(
            f"design.parameters={params!r} is not allowed: expected at least two "
            "'path: [low, high]' entries"
        )
    for path, bounds in params.items():
        ok = (
            isinstance(bounds, list | tuple) and len(bounds) == 2
            and all(isinstance(b, int | float) for b in bounds) and bounds[0] < bounds[1]
        )
        if not ok:
            raise ConfigError(
                f"design.parameters.{path}={bounds!r} is not allowed: expected [low, high] "
                "with low < high"
            )


def matrix(method: str, samples: int, parameters: dict[str, list[float]], seed: int) -> np.ndarray:
    """The design's rows × parameters matrix (deterministic in its arguments)."""
    prob = problem(parameters)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(prob, samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(prob, samples, num_levels=MORRIS_LEVELS, seed=seed)


def rows(design: DictConfig | dict[str, Any]) -> int:
    """Number of runs of a design: ``N·(k+2)`` (Sobol) or ``N·(k+1)`` (Morris)."""
    d = _plain(design)
    check(d)
    k = len(d["parameters"])
    return d["samples"] * (k + 2 if d["method"] == "sobol" else k + 1)


def apply(dcfg: DictConfig) -> DictConfig:
    """Set the design's parameters to the values of row ``design.row`` (a no-op without one).

    Raises :class:`ConfigError` for a bad design, a row outside the design, or
    a parameter path that is not a field of the config.
    """
    d = _plain(dcfg.get("design") or {})
    if not d.get("method"):
        return dcfg
    check(d)
    values = matrix(d["method"], d["samples"], d["parameters"], d.get("seed", 0))
    row = d.get("row", -1)
    if not isinstance(row, int) or not 0 <= row < len(values):
        raise ConfigError(
            f"design.row={row!r} is not allowed: expected an integer in [0, {len(values) - 1}]"
        )
    out = dcfg.copy()
    for path, value in zip(d["parameters"], values[row], strict=True):
        current = OmegaConf.select(out, path, default=None, throw_on_missing=False)
        if current is None or isinstance(current, bool) or not isinstance(current, int | float):
            raise ConfigError(
                f"design.parameters.{path} is not allowed: expected the path of a numeric "
                "config field (e.g. buyers.needs_breadth)"
            )
        OmegaConf.update(out, path, int(round(value)) if isinstance(current, int) else
                         float(value), force_add=False)
    return out


def analyse(design: dict[str, Any], outputs: pd.Series) -> pd.DataFrame:
    """Sensitivity indices of ``outputs`` (indexed by design row) with 95% intervals.

    Rows missing from ``outputs`` (failed or unfinished runs) make SALib's
    estimators meaningless, so they raise ``ValueError`` naming how many.
    Returns one row per parameter: Sobol ``S1, S1_conf, ST, ST_conf`` or
    Morris ``mu_star, mu_star_conf, sigma``.
    """
    check(design)
    x = matrix(design["method"], design["samples"], design["parameters"], design.get("seed", 0))
    y = outputs.reindex(range(len(x))).to_numpy(dtype=float)
    missing = int(np.isnan(y).sum())
    if missing:
        raise ValueError(f"{missing} of {len(x)} design rows have no result: finish the sweep")
    prob = problem(design["parameters"])
    seed = bootstrap_seed(design.get("seed", 0))
    if design["method"] == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(prob, y, calc_second_order=False, seed=seed)
        cols = ["S1", "S1_conf", "ST", "ST_conf"]
    else:
        from SALib.analyze import morris

        res = morris.analyze(prob, x, y, num_levels=MORRIS_LEVELS, seed=seed)
        cols = ["mu_star", "mu_star_conf", "sigma"]
    table = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in cols})
    table.insert(0, "parameter", prob["names"])
    return table


def bootstrap_seed(seed: int) -> int:
    """A non-zero seed for SALib's bootstrap, derived from the design's seed.

    SALib's Sobol analysis ignores a seed of 0 (``if seed:``) and then draws
    from numpy's global generator, so its intervals would change from call
    to call.
    """
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def _plain(node: DictConfig | dict[str, Any]) -> dict[str, Any]:
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    return dict(node)
