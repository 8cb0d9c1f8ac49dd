"""The what-if report: paired effects with 95% intervals, a fan chart, accounts at risk, loyalty.

Definitions (also in ``docs/whatif.md``):

- **paired difference** on seed ``s``: ``Δ_s = x_s(scenario) − x_s(baseline)``,
  both runs on the same seed (common random numbers); the table gives the
  mean of ``Δ_s`` with the Student-t 95% interval :func:`sim.report.mean_ci`;
- **P(beats baseline)**: the share of seeds with ``Δ_s > 0`` (a tie counts
  as not beating); every outcome here is better when higher;
- **P(loss)** of an account in a scenario: the share of that scenario's
  seeds in which we are no longer its main supplier at the horizon;
  **revenue at risk** ``= P(loss) × our annual revenue`` from it (the book's
  ``annual_volume × share_of_wallet × our price paid``).

Money is in the book's currency (``currency=`` labels it); time in months.
:func:`write_report` writes ``report.html`` (self-contained: CSS inline, the
figures embedded as base64 PNG), ``report.md``, the PNGs, ``at_risk.csv``
and the tidy tables.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.report import mean_ci  # noqa: E402
from sim.results import atomic_write, write_text  # noqa: E402
from sim.whatif.book import Book  # noqa: E402
from sim.whatif.history import BaselineFit, History  # noqa: E402
from sim.whatif.people import our_annual_revenue, sales_force  # noqa: E402
from sim.whatif.run import BASELINE, COSTS, OUTCOMES, Results, Scenario  # noqa: E402
from sim.whatif.start import money_unit  # noqa: E402

AT_RISK_ROWS = 10  # per scenario in the report; at_risk.csv has them all
MIN_SEEDS = 20
WARM_START_TOLERANCE = 0.05
LABEL_WIDTH = 24  # characters per line of a scenario name in the figures
FIGURES: dict[str, str] = {
    "effects.png": "Paired effects on our outcomes",
    "fan_chart.png": "Our monthly revenue",
    "warm_start.png": "Baseline vs the book",
    "loyalty.png": "Person- vs firm-bound loyalty",
    "history.png": "The history vs the calibrated baseline",
}
#: Outcomes of the headline table: OUTCOMES (higher is better) and our total cost (lower).
HEADLINE: dict[str, str] = {**OUTCOMES, "cost": "Cost over the horizon"}
LOWER_IS_BETTER = frozenset({"cost"})
MONEY = frozenset({"revenue", "profit", "cost"})


def paired_table(results: Results) -> pd.DataFrame:
    """Scenario × outcome: baseline and scenario means, mean paired difference, CI, P(beats).

    P(beats) counts seeds with a better value: higher, or lower for :data:`LOWER_IS_BETTER`.
    """
    rows = []
    for scenario in results.scenarios[1:]:
        for outcome in HEADLINE:
            base = results.outcome(BASELINE, outcome)
            value = results.outcome(scenario, outcome)
            diff = value - base
            mean, low, high, n = mean_ci(diff)
            finite = np.isfinite(diff)
            better = -diff if outcome in LOWER_IS_BETTER else diff
            rows.append({
                "scenario": scenario, "outcome": outcome,
                "baseline": float(np.nanmean(base)), "value": float(np.nanmean(value)),
                "difference": mean, "ci_low": low, "ci_high": high,
                "p_beats": float((better[finite] > 0).mean()) if finite.any() else np.nan,
                "n": n,
            })
    columns = ["scenario", "outcome", "baseline", "value", "difference", "ci_low", "ci_high",
               "p_beats", "n"]
    return pd.DataFrame(rows, columns=columns)  # no rows: the baseline ran alone


def at_risk_table(results: Results, book: Book, haggle_discount: float) -> pd.DataFrame:
    """One row per (scenario, account of ours) with P(loss) > 0, largest revenue at risk first.

    Columns: scenario, account_id, name, salesperson_id, key_account (when
    the book has them), our_annual_revenue, p_loss_baseline, p_loss_scenario,
    revenue_at_risk (``p_loss_scenario × our_annual_revenue``), then the
    book's other columns. The baseline's own rows come first.
    """
    p_loss = results.accounts.groupby(["scenario", "account_id"], sort=False)["left"].mean()
    p_loss = p_loss.rename("p_loss_scenario").reset_index()
    base = p_loss[p_loss["scenario"] == BASELINE].set_index("account_id")["p_loss_scenario"]
    p_loss["p_loss_baseline"] = p_loss["account_id"].map(base)
    revenue = our_annual_revenue(book, haggle_discount)
    p_loss["our_annual_revenue"] = p_loss["account_id"].map(revenue)
    p_loss["revenue_at_risk"] = p_loss["p_loss_scenario"] * p_loss["our_annual_revenue"]
    a = book.accounts.set_index("account_id")
    typed = {"annual_volume", "adversarial", "current_supplier", "salesperson_id",
             "needs_profile", "trust", "satisfaction", "share_of_wallet", "tenure_months",
             "months_since_contact", "key_account", "name"}
    extra = [c for c in a.columns if c not in typed and not c.startswith("need_")]
    first = [c for c in ("name", "salesperson_id", "key_account") if c in a.columns]
    table = p_loss.join(a[first + extra], on="account_id")
    table = table[table["p_loss_scenario"] > 0]
    order = {name: k for k, name in enumerate(results.scenarios)}
    table = table.assign(_order=table["scenario"].map(order)).sort_values(
        ["_order", "revenue_at_risk", "account_id"], ascending=[True, False, True])
    columns = ["scenario", "account_id", *first, "our_annual_revenue", "p_loss_baseline",
               "p_loss_scenario", "revenue_at_risk", *extra]
    return table[columns].reset_index(drop=True)


def leavers(book: Book, scenarios: dict[str, Scenario], haggle_discount: float
            ) -> list[dict[str, object]]:
    """Who leaves in each scenario: id, firms, month, follow period, accounts and revenue held."""
    rows = []
    for name, scenario in scenarios.items():
        for k, index in scenario.salespeople.items():
            e = scenario.cfg.scenario.events[k]
            force = sales_force(book, haggle_discount, e.supplier).iloc[index]
            target = (book.suppliers[e.target].id if 0 <= e.target < len(book.suppliers)
                      else "a random rival")
            rows.append({"scenario": name, "salesperson_id": force["salesperson_id"],
                         "from": book.suppliers[e.supplier].id, "to": target, "month": e.t,
                         "follow_months": e.duration, "accounts": int(force["accounts"]),
                         "share_of_accounts": float(force["share_of_accounts"]),
                         "annual_revenue": float(force["annual_revenue"]),
                         "share_of_revenue": float(force["share_of_revenue"])})
    return rows


def warm_start(results: Results, book: Book, haggle_discount: float) -> dict[str, float]:
    """Baseline month 1 and last month vs the book: our revenue and trust on our book accounts.

    ``revenue_*`` are monthly, in the book's currency; ``*_error`` are
    (model − book)/book in month 1 (mean over seeds).
    """
    base = results.steps[results.steps["scenario"] == BASELINE]
    per_month = base.groupby("step")[["book_revenue", "book_trust"]].mean()
    ours = book.accounts[book.accounts["current_supplier"] == book.our_supplier]
    revenue = float(our_annual_revenue(book, haggle_discount).sum()) / 12.0
    trust = float(ours["trust"].mean())
    first, last = per_month.iloc[0], per_month.iloc[-1]
    return {
        "book_revenue": revenue, "book_trust": trust,
        "revenue_month1": float(first["book_revenue"]), "trust_month1": float(first["book_trust"]),
        "revenue_last": float(last["book_revenue"]), "trust_last": float(last["book_trust"]),
        "revenue_error": float(first["book_revenue"]) / revenue - 1.0,
        "trust_error": float(first["book_trust"]) / trust - 1.0,
        "last_month": int(per_month.index[-1]),
    }


# ---------------------------------------------------------------- figures


def _png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def _label(name: str) -> str:
    return name.replace("_", " ")


def _wrapped(name: str, width: int = LABEL_WIDTH) -> str:
    """A scenario name on lines of at most ``width`` characters (long words are broken)."""
    return "\n".join(textwrap.wrap(_label(name), width, break_long_words=True)) or name


def _unit(outcome: str, currency: str) -> str:
    return f" ({currency})" if outcome in MONEY else ""


def effects_figure(table: pd.DataFrame, currency: str) -> plt.Figure:
    """Mean paired difference and 95% CI per scenario, one panel per outcome (two rows)."""
    scenarios = list(dict.fromkeys(table["scenario"]))
    labels = [_wrapped(s) for s in scenarios]
    lines = sum(label.count("\n") + 1 for label in labels)
    cols = 3
    rows = -(-len(HEADLINE) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, rows * (0.3 * lines + 1.2) + 0.6),
                             sharey=True, constrained_layout=True, squeeze=False)
    y = np.arange(len(scenarios))[::-1]
    for ax, (outcome, label) in zip(axes.flat, HEADLINE.items(), strict=True):
        sub = table[table["outcome"] == outcome].set_index("scenario").loc[scenarios]
        err = np.vstack([sub["difference"] - sub["ci_low"], sub["ci_high"] - sub["difference"]])
        good, bad = ("tab:red", "tab:green") if outcome in LOWER_IS_BETTER else (
            "tab:green", "tab:red")
        colors = np.where(sub["ci_low"] > 0, good, np.where(sub["ci_high"] < 0, bad,
                                                            "tab:gray"))
        for k, color in enumerate(colors):
            ax.errorbar(sub["difference"].iloc[k], y[k], xerr=np.nan_to_num(err[:, k:k + 1]),
                        fmt="o", color=color, capsize=3, ms=4)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"Δ {label.lower()}{_unit(outcome, currency)}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.ticklabel_format(axis="x", style="plain")
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.4g}"))
    for row in axes:
        row[0].set_yticks(y, labels)
    fig.suptitle("Scenario − baseline, same seeds: mean and 95% CI (green: better, "
                 "red: worse than the baseline)", fontsize=10)
    return fig


def fan_chart(results: Results, horizon: int, events: dict[str, list[int]], currency: str
              ) -> plt.Figure:
    """Our monthly revenue per scenario vs the baseline: median, 50% and 90% bands over seeds.

    A dotted line marks each month in ``events[scenario]`` (when its events start).
    """
    steps = results.steps
    scenarios = results.scenarios[1:] or [BASELINE]
    cols = min(3, len(scenarios))
    rows = -(-len(scenarios) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.0 * rows + 0.6), sharex=True,
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
        ax.set_title(_wrapped(scenario, 40), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_xlim(1, horizon)
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel("month", fontsize=8)
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    for ax in axes.flat[len(scenarios):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"revenue per month ({currency})", fontsize=8)
    fig.suptitle("Our revenue per month: median, 50% and 90% of seeds (grey: baseline; "
                 "dotted: the scenario's events)",
                 fontsize=10)
    return fig


def warm_start_figure(results: Results, book: Book, warm: dict[str, float], currency: str
                      ) -> plt.Figure:
    """Baseline revenue and trust on our book accounts per month vs the book's values (dashed)."""
    base = results.steps[results.steps["scenario"] == BASELINE]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), constrained_layout=True)
    for ax, column, book_value, label in (
        (axes[0], "book_revenue", warm["book_revenue"], f"revenue per month ({currency})"),
        (axes[1], "book_trust", warm["book_trust"], "mean trust"),
    ):
        wide = base.pivot(index="step", columns="seed", values=column)
        q = wide.quantile([0.05, 0.5, 0.95], axis=1).T
        ax.fill_between(q.index, q[0.05], q[0.95], color="tab:gray", alpha=0.25, lw=0,
                        label="90% of seeds")
        ax.plot(q.index, wide.mean(axis=1), color="tab:gray", lw=1.6, label="model, mean")
        ax.axhline(book_value, color="tab:blue", ls="--", lw=1.2, label="the book")
        ax.set_xlabel("month", fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=8, loc="lower left")
    axes[0].yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    fig.suptitle("Baseline on our accounts of the book: month 1 starts where the book is "
                 "(dashed), then drifts", fontsize=10)
    return fig


def history_match(results: Results, history: History) -> pd.DataFrame:
    """Per month of the history: its revenue with the 95% interval (±1.96 s.e.), the
    baseline's mean revenue over seeds with the 5–95% range of the seeds, and whether the
    mean lies inside the history's interval; accounts lost so far, history vs baseline."""
    base = results.steps[results.steps["scenario"] == BASELINE]
    months = history.months
    wide = base.pivot(index="step", columns="seed", values="revenue").loc[1:months]
    lost = base.pivot(index="step", columns="seed", values="book_accounts_lost").loc[1:months]
    frame = pd.DataFrame({
        "month": np.arange(1, months + 1), "label": list(history.labels),
        "history": history.revenue, "history_low": history.revenue - 1.96 * history.revenue_se,
        "history_high": history.revenue + 1.96 * history.revenue_se,
        "baseline": wide.mean(axis=1).to_numpy(),
        "baseline_p05": wide.quantile(0.05, axis=1).to_numpy(),
        "baseline_p95": wide.quantile(0.95, axis=1).to_numpy(),
        "baseline_lost": lost.mean(axis=1).to_numpy(),
        "history_lost": (np.cumsum(history.accounts_lost) if history.accounts_lost is not None
                         else np.full(months, np.nan)),
    })
    frame["within"] = frame["baseline"].between(frame["history_low"], frame["history_high"])
    return frame


def history_figure(match: pd.DataFrame, currency: str) -> plt.Figure:
    """The history's revenue with its 95% interval vs the calibrated baseline; accounts lost."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), constrained_layout=True)
    ax = axes[0]
    ax.errorbar(match["month"], match["history"], yerr=match["history"] - match["history_low"],
                fmt="o", color="black", ms=3, capsize=2, label="history ± 1.96 s.e.")
    ax.fill_between(match["month"], match["baseline_p05"], match["baseline_p95"],
                    color="tab:blue", alpha=0.2, lw=0, label="baseline, 90% of seeds")
    ax.plot(match["month"], match["baseline"], color="tab:blue", lw=1.6, label="baseline, mean")
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel(f"our revenue per month ({currency})", fontsize=8)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.legend(fontsize=8)
    ax = axes[1]
    if match["history_lost"].notna().any():
        ax.step(match["month"], match["history_lost"], where="post", color="black",
                label="history")
    ax.plot(match["month"], match["baseline_lost"], color="tab:blue", label="baseline, mean")
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel("accounts lost so far", fontsize=8)
    ax.legend(fontsize=8)
    for a in axes:
        a.tick_params(labelsize=8)
    fig.suptitle("The baseline calibrated to the team's history", fontsize=10)
    return fig


def history_block(fit: BaselineFit, match: pd.DataFrame, currency: str
                  ) -> list[tuple[str, object]]:
    """The report's section on the history: what was fitted, how well, month by month."""
    result = fit.fit
    estimates = "; ".join(
        f"{e.key} = {e.value:.4g} [95% interval {e.low:.4g}, {e.high:.4g}] (default "
        f"{e.default:.4g})" if e.default is not None else f"{e.key} = {e.value:.4g}"
        for e in result.estimates)
    within = int(match["within"].sum())
    default = ("" if result.default_distance is None else
               f" (default parameters: J = {result.default_distance:.3g})")
    text = (
        f"Before the scenarios ran, the baseline was calibrated to {fit.history.path.name} "
        f"({fit.history.months} months): {estimates}. Distance J = {result.distance:.3g}"
        f"{default}, Σ z² over the months' revenue and the accounts lost (python -m "
        "sim.calibrate's method; files in history_fit/). In "
        f"{within} of {fit.history.months} months the baseline's mean revenue lies within "
        "the history's 95% interval.")
    rows = [{"month": str(r.label), f"history ({currency})":
             f"{_money(r.history)} [{_money(r.history_low)}, {_money(r.history_high)}]",
             f"baseline ({currency})": f"{_money(r.baseline)} [{_money(r.baseline_p05)}, "
             f"{_money(r.baseline_p95)}]", "within": "yes" if r.within else "no",
             "accounts lost, history": "–" if np.isnan(r.history_lost) else f"{r.history_lost:.0f}",
             "accounts lost, baseline": f"{r.baseline_lost:.1f}"}
            for r in match.itertuples()]
    return [("p", text), ("figure", "history.png"), ("table", (rows, "history"))]


def loyalty_figure(results: Results, book: Book) -> plt.Figure:
    """Mean Lp and Lf of our ties at the horizon per scenario; our accounts' Lp vs Lf (F2, L3)."""
    last = results.steps[results.steps["step"] == results.steps["step"].max()]
    means = last.groupby("scenario", sort=False)[["loyalty_person", "loyalty_firm"]].mean()
    means = means.loc[results.scenarios]
    longest = max(_wrapped(s, 18).count("\n") + 1 for s in means.index)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8 + 0.25 * longest),
                                      constrained_layout=True,
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    x = np.arange(len(means))
    left.bar(x, means["loyalty_person"], color="tab:orange", label="bound to the salesperson Lp")
    left.bar(x, means["loyalty_firm"], bottom=means["loyalty_person"], color="tab:blue",
             label="bound to the firm Lf")
    share = means["loyalty_person"] / (means["loyalty_person"] + means["loyalty_firm"])
    for k, s in enumerate(share):
        left.text(k, means.iloc[k].sum(), f"{s:.0%}", ha="center", va="bottom", fontsize=7)
    left.set_xticks(x, [_wrapped(s, 18) for s in means.index], rotation=30, ha="right",
                    fontsize=7)
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
    fig.colorbar(dots, ax=right, label="P(loss)")
    return fig


# ---------------------------------------------------------------- text


def _money(x: float) -> str:
    return f"{x:,.0f}"


FORMATS = {"revenue": _money, "profit": _money, "cost": _money,
           "accounts_retained": lambda x: f"{x:.1f}", "share_of_wallet": lambda x: f"{x:.3f}",
           "mean_trust": lambda x: f"{x:.3f}"}


def headline(table: pd.DataFrame, currency: str) -> list[dict[str, str]]:
    """Rows of the headline table, formatted: scenario, outcome, baseline, scenario, Δ, P."""
    rows = []
    for _, r in table.iterrows():
        f = FORMATS[r["outcome"]]
        rows.append({
            "Scenario": _label(r["scenario"]),
            "Outcome": HEADLINE[r["outcome"]] + _unit(r["outcome"], currency),
            "Baseline": f(r["baseline"]), "Scenario value": f(r["value"]),
            "Paired difference [95% CI]": f"{f(r['difference'])} [{f(r['ci_low'])}, "
                                          f"{f(r['ci_high'])}]",
            "P(beats baseline)": f"{r['p_beats']:.2f}",
        })
    return rows


def risk_rows(risk: pd.DataFrame, currency: str) -> list[dict[str, str]]:
    """Rows of one scenario's at-risk table, formatted."""
    rows = []
    for _, r in risk.iterrows():
        row = {"Account": str(r["account_id"])}
        if "name" in r:
            row["Name"] = str(r["name"])
        row["Salesperson"] = str(r["salesperson_id"]) or "—"
        if "key_account" in r:
            row["Key account"] = "yes" if r["key_account"] else ""
        row |= {f"Our annual revenue ({currency})": _money(r["our_annual_revenue"]),
                "P(loss) baseline": f"{r['p_loss_baseline']:.2f}",
                "P(loss) scenario": f"{r['p_loss_scenario']:.2f}",
                f"Revenue at risk ({currency}/year)": _money(r["revenue_at_risk"])}
        rows.append(row)
    return rows


def leaver_rows(people: list[dict[str, object]], currency: str) -> list[dict[str, str]]:
    """Rows of the who-leaves table, formatted."""
    return [{"Scenario": _label(str(r["scenario"])), "Who leaves": str(r["salesperson_id"]),
             "From → to": f"{r['from']} → {r['to']}", "Month": str(r["month"]),
             "Accounts follow over": f"{r['follow_months']} months",
             "Our accounts held": f"{r['accounts']} ({r['share_of_accounts']:.0%})",
             f"Our annual revenue held ({currency})":
                 f"{_money(float(r['annual_revenue']))} ({r['share_of_revenue']:.0%})"}
            for r in people]


def sales_force_rows(book: Book, haggle_discount: float, currency: str) -> list[dict[str, str]]:
    """Our salespeople in the book: accounts and annual revenue held, with shares."""
    table = sales_force(book, haggle_discount)
    return [{"Salesperson": str(r["salesperson_id"]),
             "Our accounts": f"{r['accounts']} ({r['share_of_accounts']:.0%})",
             f"Our annual revenue ({currency})":
                 f"{_money(r['annual_revenue'])} ({r['share_of_revenue']:.0%})"}
            for _, r in table.iterrows()]


def cost_rows(results: Results, currency: str) -> list[dict[str, str]]:
    """Per scenario: paired Δ revenue and Δ of each cost kind [95% CI] (where profit moves)."""
    rows = []
    for scenario in results.scenarios[1:]:
        row = {"Scenario": _label(scenario)}
        for column, label in (("revenue", "revenue"), ("cost", "total cost"),
                              *((k, COSTS[k]) for k in COSTS)):
            diff = results.outcome(scenario, column) - results.outcome(BASELINE, column)
            mean, low, high, _ = mean_ci(diff)
            row[f"Δ {label}"] = f"{_money(mean)} [{_money(low)}, {_money(high)}]"
        rows.append(row)
    return rows


#: Why a kind of cost falls after a harmful event, in plain words (M10, M14).
WHY_COST_FALLS: dict[str, str] = {
    "cost_units": "less volume delivered",
    "cost_coordination": "fewer active ties carrying coordination overhead",
    "cost_contacts": "fewer cross-functional and monitoring contacts",
    "cost_investments": "fewer dependency investments — a firm invests only in ties at the "
                        "expansion stage or beyond (M10), the event pushed ties back, and the "
                        "dependency it no longer builds would pay off after the horizon",
    "cost_sales_force": "fewer salaries",
    "cost_one_off": "lower one-off costs",
    "cost_to_serve": "a lower cost to serve",
    "cost_services": "lower service-line costs",
}


def surprises(table: pd.DataFrame, results: Results, currency: str) -> list[str]:
    """Plain-words explanations of effects against intuition, with the numbers.

    Flagged: profit up while revenue is down (both intervals clear of 0) —
    costs fell by more than revenue; the cost kinds that fell most say why —
    and accounts lost while mean trust holds (the mean is over the ties that
    survive: the accounts lost no longer count in it).
    """
    notes = []
    cells = table.set_index(["scenario", "outcome"])
    for scenario in results.scenarios[1:]:
        notes += _trust_of_survivors(cells, scenario)
        rev, prof = cells.loc[(scenario, "revenue")], cells.loc[(scenario, "profit")]
        if not (prof["ci_low"] > 0 and rev["ci_high"] < 0):
            continue
        drops = {k: float(np.mean(results.outcome(scenario, k) - results.outcome(BASELINE, k)))
                 for k in COSTS}
        top = sorted(drops, key=drops.get)[:3]
        parts = ", ".join(f"{COSTS[k]} {_money(drops[k])}" for k in top if drops[k] < 0)
        why = "; ".join(WHY_COST_FALLS[k] for k in top if drops[k] < 0)
        notes.append(
            f"{_label(scenario)}: profit rises by {_money(prof['difference'])} {currency} "
            f"[{_money(prof['ci_low'])}, {_money(prof['ci_high'])}] although revenue falls by "
            f"{_money(-rev['difference'])} {currency}: costs fell by more than revenue "
            f"({parts} {currency}): {why}. The business the event drove away cost more than it "
            "earned within the horizon (see the overhead per account above). It is not good "
            "news: pruning unprofitable ties deliberately would save the same without the "
            "damage to trust and accounts retained.")
    return notes


def _trust_of_survivors(cells: pd.DataFrame, scenario: str) -> list[str]:
    """The note for over a tenth of the accounts lost (interval below 0) while mean trust
    does not fall (its interval reaches 0 or above)."""
    lost, trust = cells.loc[(scenario, "accounts_retained")], cells.loc[(scenario, "mean_trust")]
    if not (lost["ci_high"] < 0 and -lost["difference"] > 0.1 * lost["baseline"]
            and trust["ci_high"] >= 0):
        return []
    return [f"{_label(scenario)}: we keep {-lost['difference']:.1f} fewer accounts "
            f"[{-lost['ci_high']:.1f}, {-lost['ci_low']:.1f}] yet mean trust changes by only "
            f"{trust['difference']:+.3f} [{trust['ci_low']:+.3f}, {trust['ci_high']:+.3f}]: "
            "mean trust is over the ties still active at the horizon: the accounts lost no "
            "longer count in it, so the trust of those that stay can hold while many leave. "
            "Read the accounts retained and the revenue, not mean trust, for the damage."]


def unprofitable(book: Book, scenarios: dict[str, Scenario], currency: str) -> str:
    """How many of our ties cost more in coordination overhead than their margin brings."""
    cfg = scenarios[BASELINE].cfg
    unit = money_unit(book, cfg)
    profile = getattr(cfg.strategy, book.suppliers[0].strategy)
    overhead = profile.coordination * profile.overhead_per_account * unit
    revenue = our_annual_revenue(book, cfg.buyers.haggle_discount)
    ours = revenue[revenue > 0] / 12.0
    margin = ours * (1.0 - cfg.market.unit_cost / book.suppliers[0].price)
    below = int((margin < overhead).sum())
    return (f"Our coordination overhead is {overhead:,.1f} {currency} per active account and "
            f"month (κ × overhead per account, {book.suppliers[0].strategy}); {below} of our "
            f"{ours.size} accounts bring a monthly margin below that (revenue less unit cost), "
            "and ties where we are a minor supplier bring less still: losing such ties raises "
            "profit.")


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
    return (f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def write_report(out: Path, results: Results, book: Book, scenarios: dict[str, Scenario],
                 seeds: int, horizon: int, currency: str = "money",
                 baseline_fit: BaselineFit | None = None) -> Path:
    """Write report.html, report.md, the figures, at_risk.csv and the tidy tables into ``out``.

    With ``baseline_fit`` (``history=``), a section compares the history with the
    calibrated baseline (:func:`history_match`, ``history.csv``).
    """
    out.mkdir(parents=True, exist_ok=True)
    base_cfg = scenarios[BASELINE].cfg
    haggle = base_cfg.buyers.haggle_discount
    unit = money_unit(book, base_cfg)
    table = paired_table(results)
    risk = at_risk_table(results, book, haggle)
    warm = warm_start(results, book, haggle)
    people = leavers(book, scenarios, haggle)
    events = {name: sorted({e.t for e in sc.cfg.scenario.events})
              for name, sc in scenarios.items()}
    figures = {
        "effects.png": effects_figure(table, currency) if len(table) else None,
        "fan_chart.png": fan_chart(results, horizon, events, currency),
        "warm_start.png": warm_start_figure(results, book, warm, currency),
        "loyalty.png": loyalty_figure(results, book),
    }
    match = None
    if baseline_fit is not None:
        match = history_match(results, baseline_fit.history)
        figures["history.png"] = history_figure(match, currency)
        atomic_write(out / "history.csv", lambda p: match.to_csv(p, index=False))
    images = {k: _png(v) for k, v in figures.items() if v is not None}
    for name, data in images.items():
        atomic_write(out / name, lambda p, data=data: p.write_bytes(data))
    for name, frame in (("outcomes", results.outcomes), ("steps", results.steps),
                        ("accounts", results.accounts), ("paired", table)):
        atomic_write(out / f"{name}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
    atomic_write(out / "at_risk.csv", lambda p: risk.to_csv(p, index=False))

    ours = int((book.accounts["current_supplier"] == book.our_supplier).sum())
    setting = (
        f"{len(book.accounts)} accounts ({ours} ours), {len(book.suppliers)} suppliers; our "
        f"firm: {book.our_supplier}. {seeds} seeds × {len(results.scenarios)} runs (baseline "
        f"and {len(results.scenarios) - 1} scenarios), {horizon} months (one step = one "
        f"month). Money is in {currency}: the model computes in units of the mean account's "
        f"monthly order, and 1 model unit = {unit:,.2f} {currency} (scale factor = mean "
        "annual_volume / (12 × purchase probability "
        f"{base_cfg.buyers.purchase_prob:g})). Read: " + "; ".join(book.notes) + ".")
    few = (f"Only {seeds} seeds: P(loss) comes in steps of {1 / seeds:.2g} and the intervals "
           f"are wide; run seeds={MIN_SEEDS} or more before acting on it.") if (
        seeds < MIN_SEEDS) else ""
    one_off = [f"{_label(n)}: {e.kind.replace('_', ' ')} at month {e.t} costs "
               f"{e.cost:g} model units = {_money(e.cost * unit)} {currency} once"
               for n, sc in scenarios.items() for e in sc.cfg.scenario.events if e.cost > 0]
    ok = (abs(warm["revenue_error"]) <= WARM_START_TOLERANCE
          and abs(warm["trust_error"]) <= WARM_START_TOLERANCE)
    rel = base_cfg.relationship
    drift = (
        f"In month 1 the baseline earns {_money(warm['revenue_month1'])} {currency} from our "
        f"accounts of the book (the book: {_money(warm['book_revenue'])} {currency} a month, "
        f"{warm['revenue_error']:+.1%}) at mean trust {warm['trust_month1']:.3f} (the book: "
        f"{warm['book_trust']:.3f}, {warm['trust_error']:+.1%})"
        + (", within the 5% the warm start aims at. " if ok else
           ": more than 5% off — check the book's share_of_wallet and trust columns. ")
        + f"By month {warm['last_month']} it earns {_money(warm['revenue_last'])} {currency} "
        f"({warm['revenue_last'] / warm['book_revenue'] - 1:+.1%}) at trust "
        f"{warm['trust_last']:.3f}. This drift is the model's own dynamics, not an event: "
        f"trust decays toward T₀ = {rel.initial_trust:g} by ε = {rel.decay:g} per month on "
        "ties without contact (entropy, M9, F5), falls when delivery misses the promise — "
        "violations weigh more than pleasant surprises (M8) and salespeople inflate promises "
        "(ψ, M7) — and the accounts' choices settle to the model's prices and capabilities. "
        + ("The baseline was calibrated to your history (below); compare scenarios with the "
           "baseline." if baseline_fit is not None else
           "The book is not calibrated to your history (history=FILE does that); compare "
           "scenarios with the baseline, not with the book."))
    money_note = (
        f"Revenue at risk = P(loss) × our annual revenue from the account (annual_volume × "
        f"share_of_wallet × our price paid), in {currency} per year. All {len(risk)} rows "
        "(every scenario, every account with P(loss) > 0, with the book's other columns) "
        "are in at_risk.csv.")
    defs = ("Paired difference: on each seed, scenario − baseline (same seed, same random "
            "streams); mean and Student-t 95% interval over seeds. P(beats baseline): share of "
            "seeds where the scenario is better (higher; lower for cost). Accounts retained: "
            "our accounts (current_supplier) for which we are still the main supplier at the "
            "horizon. P(loss): share of a scenario's seeds in which we are no longer the "
            "account's main supplier at the horizon. A departing salesperson's accounts follow "
            "over the months shown: each month another equal part of their person-bound "
            "loyalty moves to the new employer.")
    explained = surprises(table, results, currency)
    why = unprofitable(book, scenarios, currency)
    captions = {
        "effects.png": "Green: the 95% interval is on the better side of 0; red: on the worse "
                       f"side; grey: contains 0. Money in {currency}.",
        "fan_chart.png": "Median over seeds, 50% band (darker) and 90% band (lighter); grey: "
                         "baseline, blue: the scenario; dotted: when its events happen.",
        "warm_start.png": "Mean over seeds and 90% band of the baseline, on our accounts of "
                          "the book; dashed: what the book says.",
        "history.png": "Left: the history's monthly revenue with its 95% interval and the "
                       "calibrated baseline (mean, 90% of seeds). Right: accounts lost so far.",
        "loyalty.png": "Left: stacked mean loyalty of our active ties. Right: each of our "
                       "accounts (baseline, mean over seeds), coloured by P(loss); below the "
                       "diagonal the bond is mostly with the salesperson (F2, L3).",
    }
    risk_by = {name: risk_rows(risk[risk["scenario"] == name].head(AT_RISK_ROWS), currency)
               for name in results.scenarios}
    title = f"What if …? {book.our_supplier}'s accounts over {horizon} months"

    blocks: list[tuple[str, list[tuple[str, object]]]] = [
        ("Setting", [("p", setting), ("warn", few)]),
        ("Who leaves", [("p", "Our salespeople as the book gives them:"),
                        ("table", (sales_force_rows(book, haggle, currency), "force")),
                        ("table", (leaver_rows(people, currency), "leavers"))] if people else
         [("p", "No scenario has a salesperson leave.")]),
        ("Scenario vs baseline", [("table", (headline(table, currency), "headline")),
                                  ("figure", "effects.png")]),
        ("Where profit comes from", [
            ("p", f"Paired differences over the {horizon} months, in {currency}, mean [95% CI], "
                  "by cost kind; they add up to the total cost. Goods: unit cost × volume "
                  "delivered; sales force: salaries; coordination: κ × overhead per account × "
                  "active accounts (M1); contacts: cross-functional and monitoring contacts; "
                  "investments: dependency investments (M10); one-off: the events' own costs."),
            ("table", (cost_rows(results, currency), "costs")),
            ("p", "One-off event costs: " + ("; ".join(one_off) if one_off else "none") + "."),
            ("p", why), *(("warn", note) for note in explained)]),
        ("Revenue over time", [("figure", "fan_chart.png")]),
        ("Book vs model", [("p", drift), ("figure", "warm_start.png")]),
        *([("History vs calibrated baseline", history_block(baseline_fit, match, currency))]
          if baseline_fit is not None and match is not None else []),
        ("Accounts at risk", [("p", money_note), *(
            item for name in results.scenarios for item in (
                ("h3", _label(name)), ("table", (risk_by[name], "risk"))))]),
        ("Person- vs firm-bound loyalty", [("figure", "loyalty.png")]),
        ("Definitions", [("p", defs)]),
    ]

    md = [f"# {title}", ""]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, items in blocks:
        md += [f"## {heading}", ""]
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for kind, value in items:
            if kind in ("p", "warn") and value:
                md += [f"**{value}**" if kind == "warn" else str(value), ""]
                css = ' class="warn"' if kind == "warn" else ""
                body.append(f"<p{css}>{html.escape(str(value))}</p>")
            elif kind == "h3":
                md += [f"### {value}", ""]
                body.append(f"<h3>{html.escape(str(value))}</h3>")
            elif kind == "table":
                rows, css = value
                md += [_md_table(rows), ""]
                body.append(_html_table(rows, css))
            elif kind == "figure" and value in images:
                md += [f"![{FIGURES[value]}]({value})", "", captions[value], ""]
                data = base64.b64encode(images[value]).decode("ascii")
                body.append(f'<figure><img alt="{html.escape(FIGURES[value])}" '
                            f'src="data:image/png;base64,{data}"><figcaption>'
                            f"{html.escape(captions[value])}</figcaption></figure>")
    write_text(out / "report.md", "\n".join(md))
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body) + "</body></html>\n"
    )
    write_text(out / "report.html", page)
    return out / "report.html"


CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
  color: #222; overflow-wrap: anywhere; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; } h3 { font-size: 1em; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child, .headline td:nth-child(2), .headline th:nth-child(2) {
  text-align: left; max-width: 22em; }
.warn { background: #fff4e0; border-left: 4px solid #e69500; padding: 0.4em 0.8em; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; }
"""
