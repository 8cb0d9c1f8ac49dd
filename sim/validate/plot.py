"""Figure of the WKH check: mean-field curves, simulated sweeps, thresholds (L1, §4)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from sim.validate.wkh import meanfield_order

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_wkh(result: dict, path: str | Path) -> Path:
    """Order parameter ``Σ_j p_j²`` vs β/β_c: theory (lines, recomputed finely), model (markers)."""
    beta_c = result["beta_c_analytic"]
    x = [b / beta_c for b in result["beta"]]
    n = result["sellers"]
    fine = np.linspace(min(result["beta"]), max(result["beta"]), 300)
    theory = {start: meanfield_order(fine, n, result["gamma"], result["profit"], start)
              for start in ("searching", "loyal")}
    fig, ax = plt.subplots(figsize=(5.2, 3.4), dpi=110)
    ax.plot(fine / beta_c, theory["searching"], "-", color="C0",
            label="mean field, searching start")
    ax.plot(fine / beta_c, theory["loyal"], "--", color="C0", lw=1,
            label="mean field, loyal start")
    ax.plot(x, result["order_measured"], "o", color="C1", ms=3.5,
            label="model, from J = 0 (sweep up)")
    if "order_measured_loyal" in result:
        ax.plot(x, result["order_measured_loyal"], "v", color="C2", ms=3.5,
                label="model, from loyal (sweep down)")
    ax.axvline(1.0, color="k", lw=0.8, label="β_c = nγ/π")
    if result["beta_saddle_node"] < beta_c * (1 - 1e-6):
        ax.axvline(result["beta_saddle_node"] / beta_c, color="k", ls=":", lw=0.8,
                   label="β_sn (loyal branch appears)")
    ax.axhline(0.5 * (1 / n + 1), color="grey", lw=0.5)
    ax.set_xlabel("β / β_c")
    ax.set_ylabel("loyalty order  mean Σ p²")
    ax.set_title(f"WKH: n={n}, γ={result['gamma']}, π={result['profit']}, "
                 f"{result['buyers']} buyers", fontsize=9)
    ax.legend(fontsize=6.5, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
