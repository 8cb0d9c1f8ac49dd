"""The dashboard's pictures as inline SVG and HTML strings, drawn by the browser.

SVG needs no browser assets (the page works offline) and its text stays
sharp at any size: a chart's ``viewBox`` is about the size it is shown at,
so its font sizes (≥ 14) are close to pixels on screen. Colours follow the
strategy: blues for company-wide suppliers, oranges for lone sellers,
purples for hybrids (colour-blind safe), one shade per supplier.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.dashboard.live import Picture, ShockMark

SHADES: dict[str, tuple[str, ...]] = {
    "company_wide": ("#08519c", "#6baed6", "#2171b5", "#9ecae1"),
    "lone_seller": ("#c04a02", "#fd8d3c", "#7f2704", "#fdae6b"),
    "hybrid": ("#54278f", "#9e9ac8", "#756bb1", "#bcbddc"),
}
STRATEGY_WORDS = {"lone_seller": "lone seller", "company_wide": "company-wide", "hybrid": "hybrid"}
NO_SUPPLIER = "#c8c8c8"
FONT = "font-family:Roboto,Arial,sans-serif"
MAX_POINTS = 400  # longer histories are thinned before drawing


def supplier_colours(strategies: Sequence[str]) -> list[str]:
    """One colour per supplier: its strategy's hue, a different shade for each of that kind."""
    seen: dict[str, int] = {}
    colours = []
    for s in strategies:
        k = seen.get(s, 0)
        seen[s] = k + 1
        shades = SHADES.get(s, SHADES["hybrid"])
        colours.append(shades[k % len(shades)])
    return colours


@dataclass(frozen=True)
class Chart:
    """A chart of the dashboard: its title, what it plots and how."""

    title: str
    column: str
    y_max: float | None = None  # None: from the data (equal for charts compared)
    cumulative: bool = False
    smooth: int = 1
    dashed_column: str = ""  # a second line per supplier, dashed (loyalty to the person)
    percent: bool = False


CHARTS: dict[str, Chart] = {
    "customers": Chart("Customers (buyers who buy most from the supplier)", "accounts"),
    "trust": Chart("Trust of its customers (0–1)", "mean_trust", y_max=1.0),
    "loyalty": Chart("Loyalty to the firm (solid) and to the person (dashed)", "loyalty_firm",
                     dashed_column="loyalty_person"),
    "profit": Chart("Profit per step (5-step average)", "profit", smooth=5),
    "haggling": Chart("Meeting time lost to haggling and paperwork", "transaction_cost",
                      y_max=0.6, percent=True),
    "partners": Chart("Strategic partners", "strategic_partners"),
    "strategy": Chart("Strategy: coordination κ (lone seller 0.25, hybrid 0.6, company-wide 0.9)",
                      "coordination", y_max=1.0),
    "silent": Chart("Customers lost silently (total)", "silent_churn", cumulative=True),
    "voiced": Chart("Customers lost after complaining (total)", "voiced_churn", cumulative=True),
}
#: A chart key that stands for two charts drawn side by side on one y-scale.
PAIRS: dict[str, tuple[str, str]] = {"churn": ("silent", "voiced")}


def chart_values(picture: Picture, chart: Chart, column: str) -> np.ndarray:
    """The (steps × suppliers) values a chart plots, step 0 left out (nothing measured yet)."""
    y = picture.series[column][1:].astype(float)
    if chart.cumulative:
        y = np.nancumsum(np.nan_to_num(y), axis=0)
    if chart.smooth > 1 and len(y):
        kernel = np.ones(chart.smooth)
        sums = np.apply_along_axis(lambda c: np.convolve(c, kernel)[: len(c)], 0, y)
        counts = np.minimum(np.arange(1, len(y) + 1), chart.smooth)[:, None]
        y = sums / counts
    return y


def is_empty(picture: Picture, key: str) -> bool:
    """Whether a chart has nothing to show yet (no step run, or all zero)."""
    keys = PAIRS.get(key, (key,))
    values = [chart_values(picture, CHARTS[k], CHARTS[k].column) for k in keys]
    return all(v.size == 0 or not np.nanmax(np.abs(np.nan_to_num(v))) for v in values)


def y_limit(picture: Picture, keys: Sequence[str]) -> float:
    """One upper y-limit for charts that are compared (the largest of their values)."""
    top = 0.0
    for key in keys:
        chart = CHARTS[key]
        for column in filter(None, (chart.column, chart.dashed_column)):
            v = chart_values(picture, chart, column)
            if v.size:
                top = max(top, float(np.nanmax(np.nan_to_num(v))))
    return _nice(top * 1.08) if top > 0 else 1.0


def _nice(x: float) -> float:
    exp = 10 ** np.floor(np.log10(x))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= x:
            return float(m * exp)
    return float(10 * exp)


def _ticks(hi: float, count: int = 4) -> list[float]:
    step = _nice(hi / count)
    return [i * step for i in range(int(hi / step + 1e-9) + 1)]


def _fmt(v: float, percent: bool) -> str:
    if percent:
        return f"{v:.0%}"
    if abs(v) >= 10 or float(v).is_integer():
        return f"{v:.0f}"
    return f"{v:.2f}".rstrip("0")


def line_chart(picture: Picture, key: str, width: int, height: int,
               y_max: float | None = None) -> str:
    """One chart as an SVG string: a line per supplier, labelled at its end; shocks marked."""
    chart = CHARTS[key]
    colours = supplier_colours(picture.now.strategies)
    steps = picture.steps[1:]
    x_hi = max(40, int(steps[-1]) if steps.size else 0)
    x_hi = int(np.ceil(x_hi / 20) * 20)
    hi = chart.y_max or y_max or y_limit(picture, [key])
    left, right, top, bottom = 52, 40, 26, 30
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + pw * x / x_hi

    def sy(y: float) -> float:
        return top + ph * (1 - min(max(y, 0.0), hi) / hi)

    out = [f"<svg viewBox='0 0 {width} {height}' width='100%' role='img' "
           f"style='{FONT};max-width:{int(width * 1.5)}px' data-chart='{key}'>"]
    for t in _ticks(hi):
        y = sy(t)
        out.append(f"<line x1='{left}' x2='{left + pw}' y1='{y:.1f}' y2='{y:.1f}' "
                   f"stroke='#e4e4e4'/><text x='{left - 6}' y='{y + 5:.1f}' font-size='14' "
                   f"text-anchor='end' fill='#333'>{_fmt(t, chart.percent)}</text>")
    for t in _ticks(x_hi, 4 if width >= 500 else 2):
        out.append(f"<text x='{sx(t):.1f}' y='{height - 8}' font-size='14' "
                   f"text-anchor='middle' fill='#333'>{t:.0f}</text>")
    out.append(f"<text x='{left - 12}' y='{height - 8}' font-size='14' text-anchor='end' "
               f"fill='#666'>step</text>")
    out.extend(_shock_marks(picture.shocks, steps, sx, top, ph, width))
    if steps.size:
        thin = slice(None, None, max(1, steps.size // MAX_POINTS))
        for column, dash in ((chart.column, ""), (chart.dashed_column, "6 4")):
            if not column:
                continue
            y = np.clip(np.nan_to_num(chart_values(picture, chart, column)[thin]), 0.0, hi)
            xs = np.round(left + pw * steps[thin] / x_hi, 1).tolist()
            for j, c in enumerate(colours):
                ys = np.round(top + ph * (1 - y[:, j] / hi), 1).tolist()
                pts = " ".join(f"{a},{b}" for a, b in zip(xs, ys, strict=True))
                out.append(f"<polyline points='{pts}' fill='none' stroke='{c}' "
                           f"stroke-width='2.5' stroke-dasharray='{dash}'/>")
        last = chart_values(picture, chart, chart.column)[-1]
        out.extend(_end_labels(last, colours, sx(float(steps[-1])), sy))
    else:
        out.append(f"<text x='{left + pw / 2}' y='{top + ph / 2}' font-size='16' "
                   f"text-anchor='middle' fill='#777'>press Step or Play</text>")
    out.append("</svg>")
    return "".join(out)


def _shock_marks(shocks: Sequence[ShockMark], steps: np.ndarray, sx, top: float,
                 ph: float, width: int) -> list[str]:
    """A dotted line at each shock that has happened, labelled at the top (rows staggered;
    a label that would run off the right edge ends at its line instead)."""
    now = int(steps[-1]) if steps.size else 0
    out = []
    for row, shock in enumerate(s for s in shocks if s.step <= now):
        x = sx(shock.step)
        out.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top - 4}' y2='{top + ph}' "
                   f"stroke='#222' stroke-dasharray='3 3'/>")
        label = f"⚡{shock.label}"
        fits = x + 3 + 7.5 * len(label) <= width
        out.append(f"<text x='{x + 3 if fits else x - 3:.1f}' y='{top - 8 + 16 * (row % 3):.1f}' "
                   f"font-size='14' text-anchor='{'start' if fits else 'end'}' fill='#222' "
                   f"style='paint-order:stroke' stroke='#fff' stroke-width='3'>"
                   f"{html.escape(label)}</text>")
    return out


def _end_labels(last: np.ndarray, colours: Sequence[str], x: float, sy) -> list[str]:
    """'S1', 'S2', … at the end of each line, nudged apart so they do not overlap."""
    order = np.argsort(-np.nan_to_num(last))
    placed: list[float] = []
    out = []
    for j in order:
        y = sy(float(np.nan_to_num(last[j]))) + 5
        while any(abs(y - p) < 15 for p in placed):
            y += 15
        placed.append(y)
        out.append(f"<text x='{x + 4:.1f}' y='{y:.1f}' font-size='14' font-weight='bold' "
                   f"fill='{colours[j]}'>S{j + 1}</text>")
    return out


def network_svg(picture: Picture, size: int = 310) -> str:
    """Buyers on their word-of-mouth network, coloured by main supplier, sized by trust in it.

    Suppliers are numbered squares around them, each with its salespeople as
    small triangles; a black ring marks a strategic partner.
    """
    lay, net = picture.layout, picture.network
    colours = supplier_colours(picture.now.strategies)
    half = size / 2

    def pos(v: np.ndarray) -> np.ndarray:
        return half + v * half / 1.6

    xy = pos(lay.xy)
    out = [f"<svg viewBox='0 0 {size} {size}' width='100%' style='{FONT};max-width:{size}px' "
           f"data-chart='network'>"]
    if lay.edges.size:
        segs = "".join(f"M{xy[a, 0]:.0f} {xy[a, 1]:.0f}L{xy[b, 0]:.0f} {xy[b, 1]:.0f}"
                       for a, b in lay.edges)
        out.append(f"<path d='{segs}' stroke='#e2e2e2' stroke-width='0.7'/>")
    radius = 1.5 + 5.5 * net.trust
    for i in range(xy.shape[0]):
        j = int(net.main[i])
        fill = colours[j] if j >= 0 else NO_SUPPLIER
        ring = "stroke='#000' stroke-width='2'" if net.partner[i] else "stroke='#fff' " \
               "stroke-width='0.6'"
        out.append(f"<circle cx='{xy[i, 0]:.1f}' cy='{xy[i, 1]:.1f}' r='{radius[i]:.1f}' "
                   f"fill='{fill}' {ring}/>")
    m = len(colours)
    for j, a in enumerate(np.pi / 2 - 2 * np.pi * np.arange(m) / m):
        cx, cy = half + 1.28 * np.cos(a) * half / 1.6, half - 1.28 * np.sin(a) * half / 1.6
        out.append(f"<rect x='{cx - 13:.1f}' y='{cy - 13:.1f}' width='26' height='26' "
                   f"fill='{colours[j]}' stroke='#000'/><text x='{cx:.1f}' y='{cy + 6:.1f}' "
                   f"font-size='16' font-weight='bold' text-anchor='middle' fill='#fff' "
                   f"stroke='#000' stroke-width='0.6'>{j + 1}</text>")
        people = net.salespeople[j]
        for k in range(people):
            off = (k - (people - 1) / 2) * 9
            px = cx + 19 * np.cos(a) - off * np.sin(a)
            py = cy - 19 * np.sin(a) - off * np.cos(a)
            out.append(f"<path d='M{px:.1f} {py - 5:.1f}l4.5 8h-9z' fill='{colours[j]}' "
                       f"stroke='#000' stroke-width='0.6'/>")
    out.append("</svg>")
    return "".join(out)


def network_caption(picture: Picture) -> str:
    """What the network shows and when it was last drawn."""
    n, shown = picture.now.n_buyers, picture.layout.drawn.size
    who = f"{shown} of {n} buyers" if shown < n else f"all {n} buyers"
    return (f"Who buys from whom at step {picture.network_step} ({who}; redrawn every few "
            f"steps). Dot: a buyer in its main supplier's colour, larger = more trust; "
            f"black ring: strategic partner; square: supplier; triangle: salesperson.")


TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (label, outcome, format)
    ("Customers", "accounts", "int"),
    ("Share of sales", "market_share", "pct"),
    ("Trust", "mean_trust", "2f"),
    ("Loyalty held by the person", "person_bound_share", "pct"),
    ("Strategic partners", "strategic_partners", "int"),
    ("Profit", "profit", "1f"),
    ("Price", "price", "2f"),
)


def _cell(v: float, fmt: str) -> str:
    if np.isnan(v):
        return "–"
    return {"int": f"{v:.0f}", "pct": f"{v:.0%}", "2f": f"{v:.2f}", "1f": f"{v:.1f}"}[fmt]


def supplier_table(picture: Picture) -> str:
    """The suppliers now, one row each, in plain words (an HTML table)."""
    now = picture.now
    colours = supplier_colours(now.strategies)
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _, _ in TABLE_COLUMNS)
    rows = []
    for j, strategy in enumerate(now.strategies):
        cells = "".join(f"<td class='num'>{_cell(float(now.values[k][j]), fmt)}</td>"
                        for _, k, fmt in TABLE_COLUMNS)
        rows.append(f"<tr><td><span class='swatch' style='background:{colours[j]}'></span>"
                    f"Supplier {j + 1}</td><td>{STRATEGY_WORDS.get(strategy, strategy)}</td>"
                    f"{cells}</tr>")
    return (f"<table class='supplier-table'><thead><tr><th>Supplier</th><th>Strategy</th>{head}"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def legend_html(strategies: Sequence[str]) -> str:
    """The suppliers' colours with their strategies, for the top of the charts."""
    colours = supplier_colours(strategies)
    return "".join(
        f"<span class='legend-item'><span class='swatch' style='background:{c}'></span>"
        f"S{j + 1} {STRATEGY_WORDS.get(s, s)}</span>"
        for j, (c, s) in enumerate(zip(colours, strategies, strict=True))
    )
