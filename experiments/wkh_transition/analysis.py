"""wkh_transition: measured loyalty order parameter vs mean-field theory (brief §4, L1).

For each number of sellers n, the measured curve is the seed mean of the
runs' ``loyalty_order`` (mean over buyers of Σ_j p_j², averaged over the
second half of each run); the theory is :mod:`sim.validate.wkh`'s mean-field
fixed point from a searching and from a loyal start. Reports β_c = nγ/π,
the saddle-node β_sn (n > 2), the β where each curve crosses the midpoint
between 1/n and 1, and the relative error of the measured midpoint.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.report import mean_ci, save_figure, sweep_config
from sim.validate import wkh

SELLERS = "market.n_suppliers"
BETA = "buyers.choice_intensity"


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Figure ``wkh.png`` (a panel per n) and the table of thresholds."""
    config = sweep_config(folder, runs)
    gamma, profit = config["buyers"]["memory"], config["market"]["profit_per_purchase"]
    per_run = runs.drop_duplicates("run")  # market-level outcome: one value per run
    sellers = sorted(per_run[SELLERS].unique()) if SELLERS in per_run else [
        config["market"]["n_suppliers"]]
    fig, axes = plt.subplots(1, len(sellers), figsize=(6 * len(sellers), 4.2),
                             constrained_layout=True, squeeze=False)
    lines = ["| n | β_c = nγ/π | β_sn | β_mid mean-field (searching) | β_mid mean-field (loyal) "
             "| β_mid measured | relative error | vs loyal start |", "|---" * 8 + "|"]
    for ax, n in zip(axes[0], sellers, strict=True):
        sub = per_run[per_run[SELLERS] == n] if SELLERS in per_run else per_run
        stats = [(b, *mean_ci(f["market_loyalty_order"])[:3]) for b, f in sub.groupby(BETA)]
        beta, mean, lo, hi = (np.array(v, dtype=float) for v in zip(*stats, strict=True))
        fine = np.linspace(beta.min(), beta.max(), 401)
        up = wkh.meanfield_order(fine, n, gamma, profit, "searching")
        down = wkh.meanfield_order(fine, n, gamma, profit, "loyal")
        mid = (1 / n + 1) / 2
        b_c, b_sn = wkh.critical_beta(n, gamma, profit), wkh.saddle_node_beta(n, gamma, profit)
        m_up, m_down = (wkh.midpoint_crossing(fine, y, mid) for y in (up, down))
        m_sim = wkh.midpoint_crossing(beta, mean, mid)
        lines.append(f"| {n} | {b_c:.4g} | {b_sn:.4g} | {m_up:.4g} | {m_down:.4g} | "
                     f"{m_sim:.4g} | {wkh.relative_error(m_sim, m_up):.3f} | "
                     f"{wkh.relative_error(m_sim, m_down):.3f} |")
        ax.plot(fine, up, color="k", label="mean field, searching start")
        ax.plot(fine, down, "k--", label="mean field, loyal start")
        ax.errorbar(beta, mean, yerr=[mean - lo, hi - mean], fmt="o", color="tab:red",
                    capsize=2, label="simulated (mean, 95% CI over seeds)")
        ax.axvline(b_c, color="tab:blue", lw=0.8, label="β_c")
        if n > 2:
            ax.axvline(b_sn, color="tab:green", lw=0.8, label="β_sn")
        ax.axhline(mid, color="grey", lw=0.6, ls=":")
        ax.set_title(f"n = {n} sellers, γ = {gamma:g}, π = {profit:g}")
        ax.set_xlabel("choice intensity β")
        ax.set_ylabel("order parameter Σ p²")
    axes[0, 0].legend(fontsize=8)
    save_figure(fig, folder / "wkh.png")
    return "\n".join(lines) + "\n\n![wkh](wkh.png)"
