"""share_of_wallet: market share, share of wallet, profit and CLV per supplier (F11, M14).

Reads every supplier of every run (``summary.json``, summary window) and asks:
does profit follow market share, or share of wallet? It reports rank
correlations over all suppliers, and counts the within-market pairs of
suppliers where the one with the *smaller* market share earns *more* (F11's
"a 30% firm out-earns a 45% firm"), with the largest such share gap found,
how often the smaller firm has the larger share of wallet and of service
revenue (F11's reason), and which strategies the pairs are.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from scipy import stats

from sim.report import save_figure

F11_SMALL, F11_LARGE = (0.25, 0.35), (0.40, 0.50)  # "a 30% firm out-earns a 45% firm"
COLUMNS = ("market_share", "share_of_wallet", "profit", "clv", "retention", "service_revenue")


def suppliers(folder: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, supplier) with its summary-window outcomes."""
    rows = []
    for run in runs["run"].unique():
        summary = json.loads((folder / run / "summary.json").read_text())
        rows += [{"run": run, **{k: s[k] for k in ("id", "strategy", *COLUMNS)}}
                 for s in summary["suppliers"]]
    return pd.DataFrame(rows)


def inversions(table: pd.DataFrame) -> pd.DataFrame:
    """Within-run pairs where the supplier with the smaller market share has the higher profit."""
    rows = []
    for run, frame in table.groupby("run"):
        for (_, a), (_, b) in combinations(frame.iterrows(), 2):
            small, large = (a, b) if a["market_share"] < b["market_share"] else (b, a)
            if small["profit"] > large["profit"]:
                rows.append({"run": run, "small_share": small["market_share"],
                             "large_share": large["market_share"],
                             "small_profit": small["profit"], "large_profit": large["profit"],
                             "small_wallet": small["share_of_wallet"],
                             "large_wallet": large["share_of_wallet"],
                             "small_service": small["service_revenue"],
                             "large_service": large["service_revenue"],
                             "small": small["strategy"], "large": large["strategy"]})
    return pd.DataFrame(rows)


def analyse(folder: Path, runs: pd.DataFrame) -> str:
    """Scatter figure ``wallet.png``, rank correlations and the F11 inversions.

    The CLV panel shows the 2nd–99th percentiles: a supplier with almost no
    accounts has a large negative CLV per account, which would flatten the rest.
    """
    table = suppliers(folder, runs)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), constrained_layout=True)
    for strategy, color in zip(sorted(table["strategy"].unique()), ("tab:blue", "tab:orange",
                                                                    "tab:green"), strict=False):
        sub = table[table["strategy"] == strategy]
        for ax, (x, y) in zip(axes, (("market_share", "profit"), ("share_of_wallet", "profit"),
                                     ("share_of_wallet", "clv")), strict=True):
            ax.scatter(sub[x], sub[y], s=8, alpha=0.5, color=color,
                       label=strategy.replace("_", " "))
            ax.set_xlabel(x.replace("_", " "))
            ax.set_ylabel(y.replace("_", " "))
    axes[0].legend()
    low, high = table["clv"].quantile([0.02, 0.99])  # a firm with almost no accounts has a
    axes[2].set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))  # huge negative CLV
    fig.suptitle("Each point: one supplier in one run (summary window)")
    save_figure(fig, folder / "wallet.png")

    lines = ["| Spearman rank correlation, all suppliers | with profit | with CLV |",
             "|---|---|---|"]
    for x in ("market_share", "share_of_wallet", "retention", "service_revenue"):
        cells = [stats.spearmanr(table[x], table[y], nan_policy="omit")[0]
                 for y in ("profit", "clv")]
        lines.append(f"| {x.replace('_', ' ')} | {cells[0]:.3f} | {cells[1]:.3f} |")
    inv = inversions(table)
    pairs = sum(len(f) * (len(f) - 1) // 2 for _, f in table.groupby("run"))
    like_f11 = inv[inv["small_share"].between(*F11_SMALL) & inv["large_share"].between(*F11_LARGE)]
    lines += ["", f"Pairs of suppliers in the same market where the smaller market share earns "
              f"more: **{len(inv)} of {pairs}**; with shares like F11's (smaller in "
              f"{list(F11_SMALL)}, larger in {list(F11_LARGE)}): **{len(like_f11)}**."]
    if len(inv):
        deeper = (inv["small_wallet"] > inv["large_wallet"]).mean()
        services = (inv["small_service"] > inv["large_service"]).mean()
        kinds = (inv["small"] + " > " + inv["large"]).value_counts()
        lines += ["", f"In those pairs the smaller firm has the larger share of wallet in "
                  f"**{deeper:.0%}** and the larger service revenue in **{services:.0%}**. "
                  "Pairs (smaller > larger): "
                  + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in kinds.items()) + "."]
        gap = inv.assign(gap=inv["large_share"] - inv["small_share"]).nlargest(3, "gap")
        lines += ["", "Largest such share gaps:", "",
                  "| run | smaller (share, wallet, profit) | larger (share, wallet, profit) |",
                  "|---|---|---|"]
        for r in gap.itertuples():
            lines.append(f"| {r.run} | {r.small}: {r.small_share:.2f}, {r.small_wallet:.2f}, "
                         f"{r.small_profit:.1f} | {r.large}: {r.large_share:.2f}, "
                         f"{r.large_wallet:.2f}, {r.large_profit:.1f} |")
    return "\n".join(lines) + "\n\n![wallet](wallet.png)"
