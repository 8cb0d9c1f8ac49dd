"""The what-if report: paired effects with 95% intervals, a fan chart, accounts at risk, loyalty.

Definitions (also in ``docs/whatif.md``):

- **paired difference** on seed ``s``: ``Δ_s = x_s(scenario) − x_s(baseline)``,
  both runs on the same seed (common random numbers); the table gives the
  mean of ``Δ_s`` with the Student-t 95% interval :func:`sim.report.mean_ci`;
- **P(beats baseline)**: the share of seeds with ``Δ_s > 0`` (a tie counts
  as not beating); every outcome here is better when higher;
- **churn probability** of an account: the share of baseline seeds in which
  we are no longer its main supplier at the horizon.

:func:`write_report` writes ``report.html`` (self-contained: CSS inline, the
figures embedded as base64 PNG), ``report.md``, the PNGs and the tidy tables.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.report import mean_ci  # noqa: E402
from sim.results import atomic_write, write_text  # noqa: E402
from sim.whatif.book import Book  # noqa: E402
from sim.whatif.run import BASELINE, OUTCOMES, Results  # noqa: E402

AT_RISK_ROWS = 15
FIGURES: dict[str, str] = {
    "effects.png": "Paired effects on our outcomes",
    "fan_chart.png": "Our monthly revenue",
    "loyalty.png": "Person- vs firm-bound loyalty",
}


def paired_table(results: Results) -> pd.DataFrame:
    """Scenario × outcome: baseline and scenario means, mean paired difference, CI, P(beats)."""
    rows = []
    for scenario in results.scenarios[1:]:
        for outcome in OUTCOMES:
            base = results.outcome(BASELINE, outcome)
            value = results.outcome(scenario, outcome)
            diff = value - base
            mean, low, high, n = mean_ci(diff)
            finite = np.isfinite(diff)
            rows.append({
                "scenario": scenario, "outcome": outcome,
                "baseline": float(np.nanmean(base)), "value": float(np.nanmean(value)),
                "difference": mean, "ci_low": low, "ci_high": high,
                "p_beats": float((diff[finite] > 0).mean()) if finite.any() else np.nan, "n": n,
            })
    return pd.DataFrame(rows)


def at_risk_table(results: Results, book: Book, rows: int = AT_RISK_ROWS) -> pd.DataFrame:
    """Our accounts by annual volume at risk ``P(churn)·volume`` in the baseline, largest first.

    Columns: account, annual volume, trust now and months since contact now
    (the book), churn probability, mean months silently dissatisfied over the
    horizon and median trust at the horizon (baseline runs).
    """
    runs = results.accounts[results.accounts["scenario"] == BASELINE]
    per = runs.groupby("account_id").agg(
        churn_probability=("left", "mean"), silent_months=("silent_months", "mean"),
        trust_at_horizon=("trust", "median"),
    )
    book_rows = book.accounts.set_index("account_id")
    table = per.join(book_rows[["annual_volume", "trust", "months_since_contact"]])
    table["volume_at_risk"] = table["churn_probability"] * table["annual_volume"]
    table = table.reset_index().sort_values(
        ["volume_at_risk", "churn_probability", "account_id"], ascending=[False, False, True])
    return table[["account_id", "annual_volume", "trust", "months_since_contact",
                  "silent_months", "churn_probability", "trust_at_horizon",
                  "volume_at_risk"]].head(rows).reset_index(drop=True)


# ---------------------------------------------------------------- figures


def _png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def _label(name: str) -> str:
    return name.replace("_", " ")


def effects_figure(table: pd.DataFrame) -> bytes:
    """Mean paired difference and 95% CI per scenario, one panel per outcome."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(3.0 * len(OUTCOMES), 0.45 *
                             len(scenarios) + 1.4), sharey=True, constrained_layout=True)
    y = np.arange(len(scenarios))[::-1]
    for ax, (outcome, label) in zip(np.atleast_1d(axes), OUTCOMES.items(), strict=True):
        sub = table[table["outcome"] == outcome].set_index("scenario").loc[scenarios]
        err = np.vstack([sub["difference"] - sub["ci_low"], sub["ci_high"] - sub["difference"]])
        colors = np.where(sub["ci_low"] > 0, "tab:green", np.where(sub["ci_high"] < 0,
                                                                   "tab:red", "tab:gray"))
        for k, color in enumerate(colors):
            ax.errorbar(sub["difference"].iloc[k], y[k], xerr=np.nan_to_num(err[:, k:k + 1]),
                        fmt="o", color=color, capsize=3, ms=4)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"Δ {label.lower()}", fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].set_yticks(y, [_label(s) for s in scenarios])
    fig.suptitle("Scenario − baseline, same seeds: mean and 95% CI", fontsize=10)
    return _png(fig)


def fan_chart(results: Results, horizon: int, events: dict[str, list[int]]) -> bytes:
    """Our monthly revenue per scenario vs the baseline: median, 50% and 90% bands over seeds.

    A dotted line marks each month in ``events[scenario]`` (when its events start).
    """
    steps = results.steps
    scenarios = results.scenarios[1:] or [BASELINE]
    cols = min(4, len(scenarios))
    rows = -(-len(scenarios) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), sharex=True,
                             sharey=True, squeeze=False, constrained_layout=True)

    def band(ax: plt.Axes, scenario: str, color: str) -> None:
        wide = steps[steps["scenario"] == scenario].pivot(index="step", columns="seed",
                                                           values="revenue")
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
        ax.fill_between(q.index, q[0.05], q[0.95], color=color, alpha=0.18, lw=0)
        ax.fill_between(q.index, q[0.25], q[0.75], color=color, alpha=0.35, lw=0)
        ax.plot(q.index, q[0.5], color=color, lw=1.4, label=_label(scenario))

    for ax, scenario in zip(axes.flat, scenarios, strict=False):
        band(ax, BASELINE, "tab:gray")
        if scenario != BASELINE:
            band(ax, scenario, "tab:blue")
        for month in events.get(scenario, []):
            ax.axvline(month, color="black", ls=":", lw=0.9)
        ax.set_title(_label(scenario), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_xlim(1, horizon)
    for ax in axes.flat[len(scenarios):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("revenue per month", fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("month", fontsize=8)
    fig.suptitle("Our revenue per month: median, 50% and 90% of seeds (grey: baseline; "
                 "dotted: the scenario's events)",
                 fontsize=10)
    return _png(fig)


def loyalty_figure(results: Results, book: Book) -> bytes:
    """Mean Lp and Lf of our ties at the horizon per scenario; our accounts' Lp vs Lf (F2, L3)."""
    last = results.steps[results.steps["step"] == results.steps["step"].max()]
    means = last.groupby("scenario", sort=False)[["loyalty_person", "loyalty_firm"]].mean()
    means = means.loc[results.scenarios]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True,
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    x = np.arange(len(means))
    left.bar(x, means["loyalty_person"], color="tab:orange", label="bound to the salesperson Lp")
    left.bar(x, means["loyalty_firm"], bottom=means["loyalty_person"], color="tab:blue",
             label="bound to the firm Lf")
    share = means["loyalty_person"] / (means["loyalty_person"] + means["loyalty_firm"])
    for k, s in enumerate(share):
        left.text(k, means.iloc[k].sum(), f"{s:.0%}", ha="center", va="bottom", fontsize=7)
    left.set_xticks(x, [_label(s) for s in means.index], rotation=30, ha="right", fontsize=8)
    left.set_title("Our ties at the horizon (mean over seeds; % = person-bound share)",
                   fontsize=9)
    left.set_ylim(0, 1.3 * float(means.sum(axis=1).max() or 1.0))
    left.legend(fontsize=8, ncols=2, loc="upper left")

    runs = results.accounts[results.accounts["scenario"] == BASELINE]
    per = runs.groupby("account_id").agg(lp=("loyalty_person", "mean"),
                                         lf=("loyalty_firm", "mean"), churn=("left", "mean"))
    per = per.join(book.accounts.set_index("account_id")["annual_volume"])
    dots = right.scatter(per["lp"], per["lf"], c=per["churn"], cmap="RdYlGn_r", vmin=0, vmax=1,
                         s=12 + 60 * per["annual_volume"] / per["annual_volume"].max(),
                         edgecolors="black", linewidths=0.3)
    top = float(max(per["lp"].max(), per["lf"].max(), 1e-9))
    right.plot([0, top], [0, top], color="gray", lw=0.8, ls="--")
    right.set_xlabel("loyalty to the salesperson Lp", fontsize=8)
    right.set_ylabel("loyalty to the firm Lf", fontsize=8)
    right.set_title("Our accounts, baseline at the horizon (size: volume)", fontsize=9)
    fig.colorbar(dots, ax=right, label="churn probability")
    return _png(fig)


# ---------------------------------------------------------------- text


def _money(x: float) -> str:
    return f"{x:,.0f}"


FORMATS = {"revenue": _money, "profit": _money, "accounts_retained": lambda x: f"{x:.1f}",
           "share_of_wallet": lambda x: f"{x:.3f}", "mean_trust": lambda x: f"{x:.3f}"}


def headline(table: pd.DataFrame) -> list[dict[str, str]]:
    """Rows of the headline table, formatted: scenario, outcome, baseline, scenario, Δ, P."""
    rows = []
    for _, r in table.iterrows():
        f = FORMATS[r["outcome"]]
        rows.append({
            "Scenario": _label(r["scenario"]), "Outcome": OUTCOMES[r["outcome"]],
            "Baseline": f(r["baseline"]), "Scenario value": f(r["value"]),
            "Paired difference [95% CI]": f"{f(r['difference'])} [{f(r['ci_low'])}, "
                                          f"{f(r['ci_high'])}]",
            "P(beats baseline)": f"{r['p_beats']:.2f}",
        })
    return rows


def risk_rows(risk: pd.DataFrame) -> list[dict[str, str]]:
    """Rows of the at-risk table, formatted."""
    return [{
        "Account": str(r["account_id"]), "Annual volume": f"{r['annual_volume']:,.1f}",
        "Trust now": f"{r['trust']:.2f}",
        "Months since contact now": str(int(r["months_since_contact"])),
        "Months silently dissatisfied": f"{r['silent_months']:.1f}",
        "P(churn)": f"{r['churn_probability']:.2f}",
        "Trust at horizon (median)": "—" if np.isnan(r["trust_at_horizon"])
        else f"{r['trust_at_horizon']:.2f}",
        "Volume at risk": f"{r['volume_at_risk']:,.1f}",
    } for _, r in risk.iterrows()]


def _md_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "_(none)_"
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[h] for h in head) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(rows: list[dict[str, str]], css: str) -> str:
    if not rows:
        return "<p><em>(none)</em></p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>"
                   for r in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _sections(results: Results, book: Book, seeds: int, horizon: int) -> list[tuple[str, str]]:
    """(heading, Markdown-ish paragraph) pairs shared by the HTML and the Markdown."""
    ours = int((book.accounts["current_supplier"] == book.our_supplier).sum())
    unit = "the unit of annual_volume"
    return [
        ("Setting", f"{len(book.accounts)} accounts ({ours} ours), {len(book.suppliers)} "
                    "suppliers; our "
                    f"firm: {book.our_supplier}. {seeds} seeds × {len(results.scenarios)} runs "
                    f"(baseline and {len(results.scenarios) - 1} scenarios), {horizon} months "
                    f"(one step = one month). Money is in {unit}."),
        ("Definitions", "Paired difference: on each seed, scenario − baseline (same seed, same "
                        "random streams); mean and Student-t 95% interval over seeds. "
                        "P(beats baseline): share of seeds where the paired difference is > 0. "
                        "Accounts retained: our accounts (current_supplier) for which we are "
                        "still the main supplier at the horizon. Churn probability: share of "
                        "baseline seeds in which we are no longer the account's main supplier "
                        "at the horizon. Months silently dissatisfied: months in which the "
                        "account was dissatisfied and did not complain (the absence of "
                        "complaints that precedes silent exit, F5)."),
    ]


def write_report(out: Path, results: Results, book: Book, seeds: int, horizon: int,
                 events: dict[str, list[int]]) -> Path:
    """Write report.html, report.md, the figures and the tidy tables into ``out``.

    ``events`` gives the months at which each scenario's events happen (for the fan chart).
    """
    out.mkdir(parents=True, exist_ok=True)
    table = paired_table(results)
    risk = at_risk_table(results, book)
    images = {
        "effects.png": effects_figure(table) if len(table) else None,
        "fan_chart.png": fan_chart(results, horizon, events),
        "loyalty.png": loyalty_figure(results, book),
    }
    images = {k: v for k, v in images.items() if v is not None}
    for name, data in images.items():
        atomic_write(out / name, lambda p, data=data: p.write_bytes(data))
    for name, frame in (("outcomes", results.outcomes), ("steps", results.steps),
                        ("accounts", results.accounts), ("paired", table)):
        atomic_write(out / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))

    sections = _sections(results, book, seeds, horizon)
    head_rows, risk_list = headline(table), risk_rows(risk)
    captions = {
        "effects.png": "Green: the 95% interval lies above 0; red: below 0; grey: contains 0.",
        "fan_chart.png": "Median over seeds, 50% band (darker) and 90% band (lighter); grey: "
                         "baseline, blue: the scenario; dotted: when its events happen.",
        "loyalty.png": "Left: stacked mean loyalty of our active ties. Right: each of our "
                       "accounts (baseline, mean over seeds), coloured by churn probability; "
                       "below the diagonal the bond is mostly with the salesperson (F2, L3).",
    }
    title = f"What if …? {book.our_supplier}'s accounts over {horizon} months"
    md = [f"# {title}", ""]
    for heading, text in sections:
        md += [f"## {heading}", "", text, ""]
    md += ["## Scenario vs baseline", "", _md_table(head_rows), ""]
    md += [f"![{FIGURES['effects.png']}](effects.png)", ""] if "effects.png" in images else []
    md += ["## Revenue over time", "", f"![{FIGURES['fan_chart.png']}](fan_chart.png)", "",
           captions["fan_chart.png"], ""]
    md += ["## Accounts most at risk", "", "Baseline runs, sorted by annual volume at risk "
           "(P(churn) × annual volume).", "", _md_table(risk_list), ""]
    md += ["## Person- vs firm-bound loyalty", "", f"![{FIGURES['loyalty.png']}](loyalty.png)",
           "", captions["loyalty.png"], ""]
    write_text(out / "report.md", "\n".join(md))

    def figure(name: str) -> str:
        data = base64.b64encode(images[name]).decode("ascii")
        return (f'<figure><img alt="{html.escape(FIGURES[name])}" '
                f'src="data:image/png;base64,{data}"><figcaption>{html.escape(captions[name])}'
                "</figcaption></figure>")

    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, text in sections:
        body += [f"<h2>{html.escape(heading)}</h2>", f"<p>{html.escape(text)}</p>"]
    body += ["<h2>Scenario vs baseline</h2>", _html_table(head_rows, "headline")]
    body += [figure("effects.png")] if "effects.png" in images else []
    body += ["<h2>Revenue over time</h2>", figure("fan_chart.png")]
    body += ["<h2>Accounts most at risk</h2>",
             "<p>Baseline runs, sorted by annual volume at risk (P(churn) × annual volume).</p>",
             _html_table(risk_list, "risk")]
    body += ["<h2>Person- vs firm-bound loyalty</h2>", figure("loyalty.png")]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body) + "</body></html>\n"
    )
    write_text(out / "report.html", page)
    return out / "report.html"


CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child, .headline td:nth-child(2), .headline th:nth-child(2) {
  text-align: left; }
figure { margin: 1em 0; } img { max-width: 100%; }
figcaption { font-size: 0.85em; color: #555; }
"""
