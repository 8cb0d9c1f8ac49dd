"""salesperson_turnover: what departures cost each strategy (F2, L3).

Departures are compared with no departures on the same seed (common random
numbers until the first departure): the loss in an outcome is
``outcome(hazard = h) − outcome(hazard = 0)``, per strategy and poach share,
with a 95% CI over seeds (:func:`sim.report.paired_effect`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.report import KEY_OUTCOMES, paired_effect, save_figure

HAZARD = "sales.departure_hazard"
POACH = "sales.poach_share"
OUTCOMES = ("accounts", "revenue", "market_share", "loyalty_person", "loyalty_firm")
LABELS = {**KEY_OUTCOMES, "accounts": "Main accounts"}


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Loss curves (``turnover_losses.png``) and the table of losses at the highest hazard."""
    effects = pd.concat([paired_effect(runs, o, HAZARD, 0.0) for o in OUTCOMES])
    strategies = sorted(effects["strategy"].unique())
    colors = dict(zip(strategies, plt.cm.tab10.colors, strict=False))
    poach = sorted(effects[POACH].unique()) if POACH in effects else [None]
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(17, 4), constrained_layout=True)
    for ax, outcome in zip(axes, OUTCOMES, strict=True):
        for s in strategies:
            for p, style in zip(poach, ("--", "-"), strict=False):
                sub = effects[(effects["outcome"] == outcome) & (effects["strategy"] == s)]
                if p is not None:
                    sub = sub[sub[POACH] == p]
                sub = sub.sort_values(HAZARD)
                label = s.replace("_", " ") + ("" if p is None else f", poached {p:g}")
                ax.plot(sub[HAZARD], sub["effect"], style, marker="o", color=colors[s],
                        label=label)
                ax.fill_between(sub[HAZARD], sub["ci_low"], sub["ci_high"], color=colors[s],
                                alpha=0.15)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"Δ {LABELS[outcome]}", fontsize=10)
        ax.set_xlabel("departure hazard per salesperson and step")
    axes[0].legend(fontsize=7)
    fig.suptitle("Change against no departures (same seeds), per supplier: mean and 95% CI")
    save_figure(fig, folder / "turnover_losses.png")

    top = effects[effects[HAZARD] == effects[HAZARD].max()]
    cols = sorted(top[POACH].unique()) if POACH in top else [None]
    lines = [f"Change at departure hazard {effects[HAZARD].max():g} against 0, per supplier "
             "(mean [95% CI] over seeds; negative = lost).", "",
             "| outcome | strategy | " + " | ".join(f"poach share {p:g}" for p in cols) + " |",
             "|---" * (2 + len(cols)) + "|"]
    for outcome in OUTCOMES:
        for s in strategies:
            cells = []
            for p in cols:
                row = top[(top["outcome"] == outcome) & (top["strategy"] == s)
                          & ((top[POACH] == p) if p is not None else True)].iloc[0]
                cells.append(f"{row['effect']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]")
            lines.append(f"| {LABELS[outcome]} | {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n![turnover losses](turnover_losses.png)"
