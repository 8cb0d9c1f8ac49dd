"""What a calibration writes: calibrated.yaml, report.md, fit.json, trials.csv and figures.

- ``calibrated.yaml``: the estimates as a config override file
  (``python -m sim +calibrated=PATH``, ``make_config(["+calibrated=PATH"])``);
- ``report.md``: the fit per target (observed ± s.e., simulated with its
  95% CI over seeds, z), the estimates with 95% intervals, the correlation
  of the estimates, the search's convergence;
- ``identifiability.png``: the distance J over each parameter (every
  candidate) and the estimates' correlation matrix; ``convergence.png``:
  the best J so far over the candidates; ``fit.png``: each target's z;
- ``fit.json`` and ``trials.csv``: the same numbers for programs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim.calibrate.fit import MISSING, Fit
from sim.results import atomic_write, write_json, write_text


def calibrated_yaml(fit: Fit, command: str) -> str:
    """The override file: a nested YAML mapping of the estimates, with a header comment."""
    import yaml

    nested: dict[str, object] = {}
    for key, value in fit.calibrated().items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = value
    header = [
        "# Calibrated parameters (python -m sim.calibrate); use as",
        "#   python -m sim +calibrated=THIS_FILE   or   make_config([\"+calibrated=THIS_FILE\"])",
        f"# command: {command}",
        f"# distance J = {fit.distance:.4g} over {len(fit.targets)} targets; seeds "
        f"{fit.seeds[0]}–{fit.seeds[-1]}; {fit.runs} runs",
    ]
    if fit.problem.overrides:
        header.append("# fitted in the market: " + " ".join(fit.problem.overrides))
    for e in fit.estimates:
        header.append(f"# {e.key}: {e.value:.6g}, 95% interval [{e.low:.6g}, {e.high:.6g}]"
                      + ("" if e.identified else " (not identified)"))
    return "\n".join(header) + "\n" + yaml.safe_dump(nested, sort_keys=False)


def as_json(fit: Fit) -> dict[str, object]:
    """The fit as a JSON document."""
    def num(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    return {
        "distance": fit.distance,
        "default_distance": fit.default_distance,
        "seeds": fit.seeds, "budget": fit.budget, "seed": fit.seed, "runs": fit.runs,
        "seconds": round(fit.seconds, 2),
        "overrides": list(fit.problem.overrides),
        "params": [{"key": e.key, "estimate": e.value, "sd": num(e.sd), "ci_low": e.low,
                    "ci_high": e.high, "bounds": list(e.bounds), "default": e.default,
                    "identified": e.identified} for e in fit.estimates],
        "correlation": [[num(x) for x in row] for row in fit.correlation],
        "targets": [{"name": t.name, "observed": t.observed, "se": t.se,
                     "simulated": num(t.simulated), "sim_ci_low": num(t.sim_low),
                     "sim_ci_high": num(t.sim_high), "z": num(t.z), "within": t.within,
                     "source": t.source} for t in fit.targets],
        "default_targets": [{"name": t.name, "simulated": num(t.simulated),
                             "sim_ci_low": num(t.sim_low), "sim_ci_high": num(t.sim_high),
                             "z": num(t.z), "within": t.within} for t in fit.default_targets],
        "notes": fit.notes,
    }


def fit_table(fit: Fit, default: bool = False) -> str:
    """Markdown: each target, observed ± 1.96 s.e., simulated [95% CI over seeds], z.

    ``default``: the default config's fit (the search's first candidate) instead.
    """
    rows = ["| target | observed [±1.96 s.e.] | simulated [95% CI over seeds] | z | within |",
            "|---|---|---|---|---|"]
    for t in fit.default_targets if default else fit.targets:
        rows.append(f"| `{t.name}` | {t.observed:.4g} [{t.observed - 1.96 * t.se:.4g}, "
                    f"{t.observed + 1.96 * t.se:.4g}] | {t.simulated:.4g} [{t.sim_low:.4g}, "
                    f"{t.sim_high:.4g}] | {t.z:+.2f} | {'yes' if t.within else 'no'} |")
    return "\n".join(rows)


def estimate_table(fit: Fit) -> str:
    """Markdown: each parameter, bounds, default, estimate [95% interval], sd."""
    rows = ["| parameter | bounds | default | estimate [95% interval] | sd |",
            "|---|---|---|---|---|"]
    for e in fit.estimates:
        default = "–" if e.default is None else f"{e.default:.4g}"
        interval = (f"{e.value:.4g} [{e.low:.4g}, {e.high:.4g}]" if e.identified
                    else f"{e.value:.4g} (not identified)")
        rows.append(f"| `{e.key}` | [{e.bounds[0]:g}, {e.bounds[1]:g}] | {default} | "
                    f"{interval} | {e.sd:.3g} |")
    return "\n".join(rows)


def convergence_figure(fit: Fit, path: Path) -> None:
    """Every candidate's J and the best so far, in the order evaluated (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    j = np.array([float(t["distance"]) for t in fit.trials])
    j = np.where(j >= MISSING, np.nan, j)  # infeasible candidates are not drawn
    phase = [str(t["phase"]) for t in fit.trials]
    fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    x = np.arange(len(j))
    for name, color in (("search", "tab:blue"), ("jacobian", "tab:gray"), ("refine", "tab:red")):
        mask = np.array([p == name for p in phase])
        if mask.any():
            ax.scatter(x[mask], np.maximum(j[mask], 1e-6), s=12, color=color, label=name)
    ax.plot(x, np.maximum(np.fmin.accumulate(j), 1e-6), color="black", lw=1.5,
            label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("candidate (in the order evaluated)")
    ax.set_ylabel("distance J = Σ z²")
    ax.set_title("Convergence: TPE search, then Jacobian and refinement steps", fontsize=10)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def identifiability_figure(fit: Fit, path: Path) -> None:
    """J over each parameter (a sharp valley: identified) and the estimates' correlation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = len(fit.estimates)
    fig, axes = plt.subplots(1, p + 1, figsize=(3.3 * (p + 1), 3.4), constrained_layout=True)
    j = np.array([float(t["distance"]) for t in fit.trials])
    j = np.where(j >= MISSING, np.nan, j)
    for ax, e in zip(axes[:p], fit.estimates, strict=True):
        x = np.array([float(t[e.key]) for t in fit.trials])
        ax.scatter(x, np.maximum(j, 1e-6), s=10, color="tab:blue")
        ax.axvspan(e.low, e.high, color="tab:orange", alpha=0.25, label="95% interval")
        ax.axvline(e.value, color="tab:red", lw=1.2, label="estimate")
        if e.default is not None:
            ax.axvline(e.default, color="black", ls=":", lw=1, label="default")
        ax.set_yscale("log")
        ax.set_xlabel(e.key, fontsize=8)
        ax.set_ylabel("J")
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    ax = axes[p]
    corr = np.nan_to_num(fit.correlation)
    image = ax.imshow(corr, vmin=-1, vmax=1, cmap="coolwarm")
    names = [e.key.split(".")[-1] for e in fit.estimates]
    ax.set_xticks(range(p), names, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(p), names, fontsize=7)
    for a in range(p):
        for b in range(p):
            ax.text(b, a, f"{corr[a, b]:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title("correlation of the estimates", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def fit_figure(fit: Fit, path: Path) -> None:
    """Each target's z = (simulated − observed)/combined s.e., with the ±1.96 band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [t.name for t in fit.targets]
    z = [t.z for t in fit.targets]
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * len(names) + 1.4), constrained_layout=True)
    y = np.arange(len(names))[::-1]
    ax.axvspan(-1.96, 1.96, color="tab:green", alpha=0.15)
    ax.scatter(z, y, color=["tab:green" if t.within else "tab:red" for t in fit.targets])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("z = (simulated − observed) / s.e.")
    ax.set_title("Fit per target at the estimate (band: 95%)", fontsize=10)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(out: Path, fit: Fit, command: str) -> Path:
    """Write every file of the calibration into ``out``; returns the report's path."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "calibrated.yaml", calibrated_yaml(fit, command))
    write_json(out / "fit.json", as_json(fit))
    frame = pd.DataFrame(fit.trials)
    atomic_write(out / "trials.csv", lambda p: frame.to_csv(p, index=False))
    convergence_figure(fit, out / "convergence.png")
    identifiability_figure(fit, out / "identifiability.png")
    fit_figure(fit, out / "fit.png")
    default = ("" if fit.default_distance is None else
               f" The default config (the first candidate) is at J = {fit.default_distance:.4g}.")
    within = sum(t.within for t in fit.targets)
    md = [
        "# Calibration", "",
        f"`{command}`", "",
        f"{len(fit.targets)} targets, {len(fit.estimates)} parameters; {fit.budget} search "
        f"candidates, then Jacobian and refinement; every candidate on seeds "
        f"{fit.seeds[0]}–{fit.seeds[-1]} (common random numbers); {fit.runs} runs in "
        f"{fit.seconds:.0f} s." + (f" Market: `{' '.join(fit.problem.overrides)}`."
                                   if fit.problem.overrides else ""),
        "",
        f"**Distance J = {fit.distance:.4g}** (Σ z² over the targets, z in observed standard "
        f"errors).{default} {within} of {len(fit.targets)} targets lie within their 95% "
        "interval at the estimate.", "",
        *(f"**{note}**\n" for note in fit.notes),
        "## Fit per target", "",
        fit_table(fit), "",
        "![z per target](fit.png)", "",
        *(["The default config, on the same seeds:", "", fit_table(fit, default=True), ""]
          if fit.default_targets else []),
        "## Estimates", "",
        estimate_table(fit), "",
        "Intervals: estimate ± q·sd of the method-of-simulated-moments sandwich "
        "(observation error and the seeds' simulation noise), cut to the bounds; q is the "
        "Student-t 97.5% quantile for the Welch–Satterthwaite degrees of freedom (1.96 when "
        "the observation error dominates, wider when few seeds' noise does).", "",
        "## Identifiability", "",
        "![J over each parameter and the estimates' correlation](identifiability.png)", "",
        "Left: every candidate's distance over each parameter: a narrow valley means the "
        "targets pin the parameter down; a flat floor means they do not. Right: the "
        "correlation of the estimates: near ±1, the targets tell the two parameters apart "
        "only in combination.", "",
        "## Convergence", "",
        "![best distance over the candidates](convergence.png)", "",
        "Use: `python -m sim +calibrated=calibrated.yaml` (or "
        "`make_config([\"+calibrated=calibrated.yaml\"])`).", "",
    ]
    write_text(out / "report.md", "\n".join(md))
    return out / "report.md"
