"""silence_and_monitoring: silent dissatisfied buyers leave; monitoring finds them (F5, M9).

Per cell (decay × monitoring policy), over the summary window:

- churn per episode: ties lost to silent churn per silent episode started,
  and the same for voiced (complaint) episodes — "absence of complaints" is
  a warning when the first is much larger than the second;
- retention of main accounts, mean trust and profit per supplier.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.report import KEY_OUTCOMES, mean_ci, outcome_kind, paired_effect, save_figure

DECAY = "relationship.decay"
MONITOR = "strategy.company_wide.monitor_silent_after"


def per_episode(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: silent and voiced churn per episode of each kind (NaN with no episodes)."""
    out = runs[["run", DECAY, MONITOR]].copy()
    for kind in ("silent", "voiced"):
        episodes = runs[f"{kind}_episodes"].to_numpy(float)
        churn = runs[f"{kind}_churn"].to_numpy(float)
        out[f"{kind}_per_episode"] = np.divide(churn, episodes, out=np.full(len(runs), np.nan),
                                               where=episodes > 0)
    return out


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Figure ``silence.png`` and a table per decay rate and monitoring policy."""
    paired = pd.concat([paired_effect(runs, m, MONITOR, 0) for m in
                        ("silent_churn", "retention", "profit")])
    runs = runs.merge(per_episode(runs), on=["run", DECAY, MONITOR])
    measures = {"silent_churn": KEY_OUTCOMES["silent_churn"],
                "voiced_churn": KEY_OUTCOMES["voiced_churn"],
                "silent_per_episode": "Silent churn per silent episode",
                "voiced_per_episode": "Voiced churn per complaint",
                "retention": KEY_OUTCOMES["retention"], "profit": KEY_OUTCOMES["profit"]}
    decays = sorted(runs[DECAY].unique())
    colors = dict(zip(decays, plt.cm.viridis(np.linspace(0, 0.85, len(decays))), strict=True))
    fig, axes = plt.subplots(2, 3, figsize=(15, 7), constrained_layout=True)
    lines = ["| decay ε | monitor silent after | " + " | ".join(measures.values()) + " |",
             "|---" * (2 + len(measures)) + "|"]
    for (decay, monitor), frame in runs.groupby([DECAY, MONITOR]):
        cells = [mean_ci(frame[m], kind=outcome_kind(m)) for m in measures]
        lines.append(f"| {decay:g} | {'never' if monitor == 0 else monitor} | " + " | ".join(
            f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi, _ in cells) + " |")
    for ax, (m, label) in zip(axes.flat, measures.items(), strict=True):
        for decay in decays:
            sub = runs[runs[DECAY] == decay]
            stats = [(mon, *mean_ci(f[m], kind=outcome_kind(m))[:3])
                     for mon, f in sub.groupby(MONITOR)]
            x, mean, lo, hi = (np.array(v, dtype=float) for v in zip(*stats, strict=True))
            ax.plot(x, mean, "o-", color=colors[decay], label=f"decay {decay:g}")
            ax.fill_between(x, lo, hi, color=colors[decay], alpha=0.2)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("monitor accounts silent for more than m steps (0 = never)")
    axes.flat[0].legend()
    fig.suptitle("Silence, voice and monitoring (company-wide firms): mean and 95% CI over seeds")
    save_figure(fig, folder / "silence.png")
    lines += ["", "Monitoring against none, paired on the seed (mean [95% CI] of the "
              "difference):", "", "| decay ε | monitor after | Δ silent churn per step | "
              "Δ retention | Δ profit |", "|---|---|---|---|---|"]
    for (decay, monitor), frame in paired.groupby([DECAY, MONITOR]):
        cells = frame.set_index("outcome").loc[["silent_churn", "retention", "profit"]]
        lines.append(f"| {decay:g} | {monitor} | " + " | ".join(
            f"{r.effect:.3g} [{r.ci_low:.3g}, {r.ci_high:.3g}]" for r in cells.itertuples())
            + " |")
    return "\n".join(lines) + "\n\n![silence](silence.png)"
