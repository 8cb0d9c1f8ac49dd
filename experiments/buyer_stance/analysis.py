"""buyer_stance: adversarial buyers pay less now and get less value later (F8, F7).

Per run (all buyers of one stance), from ``steps.parquet``, read one run at a time
(:func:`sim.report.run_steps`: the memory of one run, whatever the number of runs):

- early unit price: ``Σ product revenue / Σ volume`` over steps 1–10 and all
  suppliers; product revenue is ``revenue − service_revenue`` (``revenue``
  includes the service lines, F11) and volume ``product revenue / unit_price``
  per row;
- buyer value per buyer: ``Σ_t Σ_j buyer_value / n_buyers`` over the whole run,
  with ``buyer_value = Σ shipped·(v·q − price paid) − procurement cost`` (the
  buyers' surplus net of their transaction costs, M11);
- procurement cost per buyer: ``Σ_t Σ_j buyer_cost / n_buyers`` over the run
  (purchasing staff time, inspection, blame: M11, L4);
- non-productive share of face time (M11, F7) and mean trust: averages of the
  summary window.

Each is averaged over seeds with a 95% CI, per stance and uncertainty.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.report import mean_ci, run_steps, save_figure, sweep_config

STANCE = "buyers"
UNCERTAINTY = "market.uncertainty"
EARLY = 10


def per_run(folder: Path, runs: pd.DataFrame, n_buyers: int) -> pd.DataFrame:
    """One row per run: stance, uncertainty, early unit price, value per buyer."""
    cells = runs.drop_duplicates("run").set_index("run")
    rows = []
    columns = ["step", "revenue", "service_revenue", "unit_price", "buyer_value", "buyer_cost"]
    for run, frame in run_steps(folder, runs, columns, "the buyer_stance analysis"):
        product = frame["revenue"] - frame["service_revenue"]
        frame = frame.assign(product=product, volume=product / frame["unit_price"])
        early = frame[frame["step"] <= EARLY]
        rows.append({"run": run, STANCE: cells.at[run, STANCE],
                     UNCERTAINTY: cells.at[run, UNCERTAINTY],
                     "early_price": early["product"].sum() / early["volume"].sum(),
                     "value_per_buyer": frame["buyer_value"].sum() / n_buyers,
                     "procurement_per_buyer": frame["buyer_cost"].sum() / n_buyers})
    return pd.DataFrame(rows)


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Figure ``stance.png`` (price now, value later, vs uncertainty) and its table."""
    n_buyers = int(sweep_config(folder, runs)["market"]["n_buyers"])
    table = per_run(folder, runs, n_buyers)
    tc = runs.groupby(["run", STANCE, UNCERTAINTY])[["transaction_cost", "mean_trust"]].mean()
    tc = tc.reset_index()
    table = table.merge(tc, on=["run", STANCE, UNCERTAINTY])
    measures = {"early_price": f"Unit price paid, steps 1–{EARLY}",
                "value_per_buyer": "Buyer value per buyer over the run",
                "procurement_per_buyer": "Procurement cost per buyer over the run",
                "transaction_cost": "Non-productive share of face time",
                "mean_trust": "Mean trust"}
    fig, axes = plt.subplots(1, len(measures), figsize=(18, 4), constrained_layout=True)
    lines = ["| stance | uncertainty | " + " | ".join(measures.values()) + " |",
             "|---" * (2 + len(measures)) + "|"]
    summary = {}
    for (stance, u), frame in table.groupby([STANCE, UNCERTAINTY]):
        summary[(stance, u)] = {m: mean_ci(frame[m]) for m in measures}
        lines.append(f"| {stance} | {u:g} | " + " | ".join(
            f"{mean:.4g} [{lo:.4g}, {hi:.4g}]" for mean, lo, hi, _ in summary[(stance, u)]
            .values()) + " |")
    for ax, (m, label) in zip(axes, measures.items(), strict=True):
        for stance, color in zip(sorted(table[STANCE].unique()), ("tab:red", "tab:green"),
                                 strict=False):
            us = sorted(u for s, u in summary if s == stance)
            mean, lo, hi = (np.array([summary[(stance, u)][m][k] for u in us]) for k in range(3))
            ax.errorbar(us, mean, yerr=[mean - lo, hi - mean], fmt="o-", color=color,
                        label=stance, capsize=3)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("environmental uncertainty")
    axes[0].legend()
    fig.suptitle("Adversarial vs partnership buyers: mean and 95% CI over seeds")
    save_figure(fig, folder / "stance.png")
    return ("Every buyer of a run has the stance of its cell.\n\n" + "\n".join(lines)
            + "\n\n![stance](stance.png)")

