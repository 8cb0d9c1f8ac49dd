"""Teaching dashboard: watch trust, dependency and loyalty evolve, live, in the browser.

Built on Mesa's SolaraViz (step, play, pause and reset are Mesa's own
controls). Start it with ``make dashboard`` (or ``solara run sim/app.py``).

* **Lesson presets** are Hydra configs in ``configs/lesson/`` (the same file
  runs alone: ``python -m sim +lesson=f2_salesperson_leaves``); :data:`LESSONS`
  holds the text shown in the app (what to do, what to watch, what to ask).
* **Settings** (sidebar) override the lesson's values; any change builds a new
  model at once. :class:`DashboardModel` is the thin keyword-argument wrapper
  SolaraViz needs around :class:`~sim.model.RelationshipModel`, which takes a
  :class:`~sim.config.Config`.
* **Shocks** (:func:`apply_shock`) act on the running model between steps.
* **Views** are matplotlib figures rendered on the server (no browser assets
  beyond Solara's own are needed, see ``../shared/SOLARA_OFFLINE.md``):
  :func:`network_figure`, :func:`market_figure`, :func:`health_figure`,
  :func:`supplier_table`.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from sim.api import compose_config
from sim.config import Config, EventConfig, to_config
from sim.model import RelationshipModel
from sim.shocks import pick_salesperson

# ------------------------------------------------------------------ lessons


@dataclass(frozen=True)
class Lesson:
    """A lesson preset: a config in ``configs/lesson/<key>.yaml`` and what to tell the class."""

    key: str
    title: str
    fact: str
    todo: str
    watch: str
    ask: str


LESSONS: dict[str, Lesson] = {
    lesson.key: lesson
    for lesson in (
        Lesson(
            "f1_team_selling",
            "F1 · Team selling beats the lone seller when needs are broad",
            "Buyers demand the whole company's resources: no single salesperson can meet "
            "all of a large customer's needs.",
            "Press Play. Later, move 'Needs beyond the product' down to 0.1 and play again.",
            "The company-wide suppliers (10% dearer) pull away on market share, trust and "
            "profit within about 20 steps; with narrow needs the cheaper lone sellers win.",
            "Why do the cheaper lone sellers lose when buyers need service, installation "
            "and logistics too?",
        ),
        Lesson(
            "f2_salesperson_leaves",
            "F2 · The salesperson leaves and takes the customers",
            "Loyalty vested in a salesperson walks out of the door with them; loyalty to "
            "the firm stays.",
            "Press Play. At step 30 supplier 1's busiest salesperson joins supplier 2. "
            "Then pick a company-wide supplier and press 'Salesperson leaves'.",
            "Supplier 1's market share drops and supplier 2's jumps at step 30; "
            "the lone sellers' loyalty is mostly with the salesperson (dashed lines).",
            "Is a star salesperson an asset or a risk for the firm? How would you protect "
            "the accounts?",
        ),
        Lesson(
            "f4_promises",
            "F4 · Promises made by sales, kept by operations",
            "Those who promise are not those who deliver: sales sets expectations, the "
            "other departments must keep them.",
            "Press Play to about step 60. Then move 'Over-promising by salespeople' to 0.2 "
            "and play again.",
            "The uncoordinated lone sellers keep fewer promises: their customers' trust "
            "stays low while the company-wide suppliers' trust grows. Over-promising "
            "by 20% breaks trust even at the coordinated firms.",
            "Who in a company should be allowed to promise what to a customer?",
        ),
        Lesson(
            "f5_silence",
            "F5 · Silence before churn",
            "Relationships decay without effort; the telling sign is the absence of "
            "complaints: the buyer leaves silently.",
            "Press Play and watch the two 'customers lost' panels.",
            "Far more customers leave silently than after complaining; company-wide "
            "suppliers, which call silent accounts, lose fewer.",
            "Is a customer who never complains a happy customer? What would you monitor?",
        ),
        Lesson(
            "f7_trust_costs",
            "F7 · Trust cuts transaction costs",
            "Low-trust buyers spend about half of their meeting time on haggling, "
            "contracts and blame; the most trusted suppliers only an eighth (Dyer & Chu).",
            "Press Play; compare 'Time lost to haggling' with the trust panel.",
            "Where trust rises (company-wide suppliers) the share of meeting time lost "
            "falls from about 0.39 to 0.31; where it sinks (lone sellers) it rises.",
            "Why is a trusted supplier cheaper to buy from even at a higher price?",
        ),
        Lesson(
            "f8_adversarial",
            "F8 · Adversarial buying",
            "Buyers who play suppliers against each other get lower prices, but no "
            "partnership and no joint improvement.",
            "Press Play to about step 100. Then move 'Share of adversarial buyers' to 0 "
            "and play again.",
            "Haggling and split orders keep every supplier's profit low and no strategic "
            "partner ever appears; with partnership buyers profits are about twice as "
            "high and the first partners appear.",
            "When is adversarial buying the right policy for a purchasing department?",
        ),
        Lesson(
            "f9_partner_failure",
            "F9 · The strategic partner and the one serious failure",
            "A strategic partner gets priority and a large share, but one serious failure "
            "ends the status at once.",
            "Play to about step 60 until strategic partners appear, then press "
            "'Quality failure' at the market leader.",
            "Within three steps the leader loses about half of its strategic partners "
            "(black rings) and its customers' trust falls from about 0.5 to 0.3.",
            "Is it fair that years of good service are undone by one failure? What should "
            "the supplier do the day after?",
        ),
    )
}
DEFAULT_LESSON = "f1_team_selling"

# ------------------------------------------------------------------ settings

STRATEGY_MIXES: dict[str, tuple[str, list[str]]] = {
    # label → (strategy preset name, assignment over suppliers)
    "Alternating: lone seller, company-wide": ("mixed", ["lone_seller", "company_wide"]),
    "All lone sellers": ("lone_seller", ["lone_seller"]),
    "All company-wide": ("company_wide", ["company_wide"]),
    "All hybrid": ("hybrid", ["hybrid"]),
    "Alternating: lone seller, company-wide, hybrid": (
        "three_way",
        ["lone_seller", "company_wide", "hybrid"],
    ),
}
NETWORK_LABELS: dict[str, str] = {
    "Small world (Watts–Strogatz)": "watts_strogatz",
    "Random (Erdős–Rényi)": "erdos_renyi",
    "Hubs (Barabási–Albert)": "barabasi_albert",
}
STRATEGY_LABELS = {"lone_seller": "lone seller", "company_wide": "company-wide", "hybrid": "hybrid"}


@dataclass(frozen=True)
class Setting:
    """One control of the sidebar: its label, the config field and its range or options."""

    label: str
    path: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    options: tuple[str, ...] = ()

    @property
    def is_int(self) -> bool:
        return not self.options and float(self.step).is_integer()


SETTINGS: dict[str, Setting] = {
    "strategies": Setting("Strategies of the suppliers", "strategy.assignment",
                          options=tuple(STRATEGY_MIXES)),
    "n_buyers": Setting("Number of buyers", "market.n_buyers", 50, 1000, 50),
    "n_suppliers": Setting("Number of suppliers", "market.n_suppliers", 2, 6, 1),
    "needs_breadth": Setting("Needs beyond the product", "buyers.needs_breadth", 0.0, 1.0, 0.1),
    "adversarial_share": Setting("Share of adversarial buyers", "buyers.adversarial_share",
                                 0.0, 1.0, 0.1),
    "decay": Setting("Decay of neglected ties", "relationship.decay", 0.0, 0.1, 0.01),
    "promise_inflation": Setting("Over-promising by salespeople", "sales.promise_inflation",
                                 0.0, 0.3, 0.05),
    "turnover": Setting("Salesperson turnover", "sales.departure_hazard", 0.0, 0.05, 0.005),
    "network": Setting("Word-of-mouth network", "network.kind", options=tuple(NETWORK_LABELS)),
    "seed": Setting("Random seed", "seed", 0, 20, 1),
}

_HYDRA_LOCK = threading.Lock()  # Hydra's global state is not thread-safe


def _get(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


def lesson_settings(lesson: str) -> dict[str, Any]:
    """The values of every sidebar control in a lesson's config (the lesson's defaults)."""
    if lesson not in LESSONS:
        raise ValueError(f"unknown lesson {lesson!r}: one of {sorted(LESSONS)}")
    with _HYDRA_LOCK:
        cfg = to_config(compose_config([f"+lesson={lesson}"]))
    values: dict[str, Any] = {"lesson": lesson}
    for key, s in SETTINGS.items():
        value = _get(cfg, s.path)
        if key == "strategies":
            value = next(
                (label for label, (_, a) in STRATEGY_MIXES.items() if a == list(value)),
                next(iter(STRATEGY_MIXES)),
            )
        elif key == "network":
            value = next(label for label, kind in NETWORK_LABELS.items() if kind == value)
        values[key] = value
    return values


def build_config(lesson: str = DEFAULT_LESSON, **settings: Any) -> Config:
    """The validated config of a lesson with the sidebar's values as overrides."""
    if lesson not in LESSONS:
        raise ValueError(f"unknown lesson {lesson!r}: one of {sorted(LESSONS)}")
    overrides = [f"+lesson={lesson}"]
    for key, value in settings.items():
        if value is None:
            continue
        s = SETTINGS[key]
        if key == "strategies":
            name, assignment = STRATEGY_MIXES[value]
            overrides += [f"strategy.name={name}", f"strategy.assignment=[{','.join(assignment)}]"]
        elif key == "network":
            overrides.append(f"network.kind={NETWORK_LABELS[value]}")
        else:
            overrides.append(f"{s.path}={value}")
    with _HYDRA_LOCK:
        cfg = to_config(compose_config(overrides))
    # scheduled events of the lesson must name existing suppliers
    n = cfg.market.n_suppliers
    cfg.scenario.events = [
        e for e in cfg.scenario.events if e.supplier < n and e.target < n and e.target != e.supplier
    ]
    return cfg


class DashboardModel(RelationshipModel):
    """:class:`RelationshipModel` built from a lesson and keyword settings (what SolaraViz passes).

    ``None`` keeps the lesson's own value. ``shock_log`` lists the shocks
    pressed in the app as ``(step, label)``. ``lock`` keeps a shock pressed
    while the model plays (Mesa steps in a thread) out of the middle of a step.
    """

    def __init__(
        self,
        lesson: str = DEFAULT_LESSON,
        strategies: str | None = None,
        n_buyers: int | None = None,
        n_suppliers: int | None = None,
        needs_breadth: float | None = None,
        adversarial_share: float | None = None,
        decay: float | None = None,
        promise_inflation: float | None = None,
        turnover: float | None = None,
        network: str | None = None,
        seed: int | None = None,
    ) -> None:
        settings = {
            "strategies": strategies, "n_buyers": n_buyers, "n_suppliers": n_suppliers,
            "needs_breadth": needs_breadth, "adversarial_share": adversarial_share,
            "decay": decay, "promise_inflation": promise_inflation, "turnover": turnover,
            "network": network, "seed": seed,
        }
        super().__init__(build_config(lesson, **settings))
        self.lesson = LESSONS[lesson]
        self.shock_log: list[tuple[int, str]] = [
            (e.t, _event_label(e)) for e in self.cfg.scenario.events
        ]
        self._layout: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.lock = threading.RLock()

    def step(self) -> None:
        with self.lock:
            super().step()


# ------------------------------------------------------------------ shocks

SHOCKS: dict[str, str] = {
    "salesperson_leaves": "Salesperson leaves for a competitor",
    "quality_failure": "Quality failure (3 steps)",
    "price_war": "Price war (20% cut, 10 steps)",
    "switch_company_wide": "Switch to company-wide",
}


def supplier_name(model: RelationshipModel, j: int) -> str:
    """'Supplier 2 (company-wide)': 1-based, with its current strategy."""
    return f"Supplier {j + 1} ({STRATEGY_LABELS[model.supplier_list[j].strategy]})"


def market_leader(model: RelationshipModel) -> int:
    """The supplier with the most main accounts now (0 before the first step)."""
    main = model.market.buyers.main_supplier
    counts = np.bincount(main[main >= 0], minlength=len(model.supplier_list))
    return int(np.argmax(counts))


def _event_label(e: EventConfig) -> str:
    names = {
        "salesperson_leaves": "salesperson leaves",
        "quality_failure": "quality failure",
        "price_war": "price war",
        "switch_strategy": "switch strategy",
    }
    return f"S{e.supplier + 1}: {names.get(e.kind, e.kind.replace('_', ' '))}"


def apply_shock(model: DashboardModel, kind: str, supplier: int | None = None) -> str:
    """Hit the running model with a shock now (it shows from the next step); a message.

    ``supplier`` None picks the market leader. Quality failures (product
    performance −80%: a serious failure for buyers who need mostly the product,
    F9) last 3 steps, price wars (−20%) 10 steps: both are scheduled as M15
    events starting with the next step (:meth:`sim.shocks.Schedule.add`).
    """
    with getattr(model, "lock", threading.RLock()):
        return _apply_shock(model, kind, supplier)


def _apply_shock(model: DashboardModel, kind: str, supplier: int | None) -> str:
    j = market_leader(model) if supplier is None else int(supplier)
    if not 0 <= j < len(model.supplier_list):
        raise ValueError(f"no supplier {j}")
    name = supplier_name(model, j)
    now = model.steps
    if kind == "salesperson_leaves":
        index = pick_salesperson(model.market, j, -1)
        person = None if index is None else model.salesperson(index)
        rivals = [s for s in model.supplier_list if s.index != j]
        if person is None or not rivals:
            return f"{name} has no salesperson who could leave."
        to = rivals[int(model.rng.integers(len(rivals)))]
        accounts = int((model.ties.owner[:, j] == person.index).sum())
        person.leave(to)
        message = (f"{name}'s busiest salesperson ({accounts} accounts) left for "
                   f"{supplier_name(model, to.index)}.")
    elif kind == "quality_failure":
        model.schedule.add(EventConfig(kind="quality_failure", t=now + 1, supplier=j,
                                       department="product", severity=0.8, duration=3))
        message = f"{name}'s product quality drops by 80% for the next 3 steps."
    elif kind == "price_war":
        model.schedule.add(EventConfig(kind="price_war", t=now + 1, supplier=j, severity=0.2,
                                       duration=10))
        message = f"{name} cuts its price by 20% for the next 10 steps."
    elif kind == "switch_company_wide":
        if model.supplier_list[j].strategy == "company_wide":
            return f"{name} already sells company-wide."
        model.supplier_list[j].switch_strategy("company_wide")
        message = f"Supplier {j + 1} now sells company-wide (from the next step)."
    else:
        raise ValueError(f"unknown shock {kind!r}: one of {list(SHOCKS)}")
    model.shock_log.append((now, f"S{j + 1}: {SHOCKS[kind].split(' (')[0].lower()}"))
    return message


# ------------------------------------------------------------------ views

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
NO_SUPPLIER = "#c8c8c8"
MAX_DRAWN = 300


def colour(j: int) -> str:
    return COLOURS[j % len(COLOURS)]


def _layout(model: DashboardModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drawn buyers (≤ MAX_DRAWN), their positions, and the edges among them; cached."""
    if getattr(model, "_layout", None) is None:
        n = model.ties.trust.shape[0]
        rng = np.random.default_rng(0)
        drawn = np.sort(rng.choice(n, MAX_DRAWN, replace=False)) if n > MAX_DRAWN else np.arange(n)
        adj = model.market.neighbours[drawn][:, drawn].tocoo()
        graph = nx.Graph()
        graph.add_nodes_from(range(drawn.size))
        graph.add_edges_from(zip(adj.row.tolist(), adj.col.tolist(), strict=True))
        pos = nx.spring_layout(graph, seed=0, iterations=40)
        xy = np.array([pos[i] for i in range(drawn.size)])
        xy = xy - np.median(xy, axis=0)
        xy = np.clip(xy / max(1e-9, float(np.percentile(np.abs(xy), 97))), -1.1, 1.1)
        edges = np.column_stack([adj.row, adj.col])
        model._layout = (drawn, xy, edges[edges[:, 0] < edges[:, 1]])
    return model._layout


def network_figure(model: DashboardModel, size_by: str = "trust") -> Figure:
    """Buyers coloured by main supplier, sized by trust in it or by volume; firms and salespeople.

    Buyers are dots on their word-of-mouth network (at most ``MAX_DRAWN`` drawn);
    suppliers are squares around them, each with its salespeople as triangles;
    strategic partners have a black ring.
    """
    drawn, xy, edges = _layout(model)
    t = model.ties
    main = model.market.buyers.main_supplier[drawn]
    has = main >= 0
    fig = Figure(figsize=(6.6, 4.8), dpi=80)
    ax = fig.subplots()
    if edges.size:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(xy[edges], colors="#dddddd", linewidths=0.5, zorder=1))
    if size_by == "volume":
        size = 12 + 40 * np.clip(model.market.buyers.volume[drawn], 0, 4)
    else:
        trust = np.where(has, t.trust[drawn, np.maximum(main, 0)], 0.1)
        size = 8 + 150 * trust**2
    colours = [colour(j) if j >= 0 else NO_SUPPLIER for j in main]
    partner = has & t.partner[drawn, np.maximum(main, 0)]
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=colours, edgecolors=np.where(
        partner, "black", "white"), linewidths=np.where(partner, 1.5, 0.4), zorder=2)
    m = len(model.supplier_list)
    angles = np.pi / 2 - 2 * np.pi * np.arange(m) / m
    employer = model.market.salesforce.employer
    for j, a in enumerate(angles):
        cx, cy = 1.32 * np.cos(a), 1.32 * np.sin(a)
        ax.scatter([cx], [cy], s=420, marker="s", c=colour(j), edgecolors="black", zorder=3)
        ax.text(cx, cy, str(j + 1), ha="center", va="center", color="white",
                fontsize=11, fontweight="bold", zorder=4)
        people = int((employer == j).sum())
        if people:
            spread = np.linspace(-0.28, 0.28, people) if people > 1 else np.zeros(1)
            px = cx + 0.2 * np.cos(a) - spread * np.sin(a)
            py = cy + 0.2 * np.sin(a) + spread * np.cos(a)
            ax.scatter(px, py, s=40, marker="^", c=colour(j), edgecolors="black",
                       linewidths=0.5, zorder=3)
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    shown = f"{drawn.size} of {model.ties.trust.shape[0]} buyers" if drawn.size < t.trust.shape[
        0] else f"{drawn.size} buyers"
    sized = "purchase volume" if size_by == "volume" else "trust in their main supplier"
    fig.suptitle(f"Who buys from whom, step {model.steps}\n({shown}; dot size: {sized})",
                 fontsize=9, x=0.35)
    handles = [Line2D([], [], marker="o", ls="", color=colour(j), label=supplier_name(model, j))
               for j in range(m)]
    handles += [
        Line2D([], [], marker="o", ls="", color=NO_SUPPLIER, label="no main supplier yet"),
        Line2D([], [], marker="o", ls="", mfc="white", mec="black", mew=1.5,
               label="strategic partner"),
        Line2D([], [], marker="s", ls="", color="grey", mec="black", label="supplier firm"),
        Line2D([], [], marker="^", ls="", color="grey", mec="black", label="salesperson"),
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
              frameon=False, title="Legend", title_fontsize=8)
    fig.subplots_adjust(left=0.0, right=0.7, top=0.93, bottom=0.01)
    return fig


def _frame(model: RelationshipModel) -> pd.DataFrame:
    df = model.supplier_frame()
    return df.sort_values(["supplier", "step"])


def _panels(model: DashboardModel, panels: list[tuple[str, Any]], title: str) -> Figure:
    """A 2×2 figure: one line per supplier in each panel; shocks as dotted lines."""
    fig = Figure(figsize=(7.2, 4.8), dpi=80)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    df = _frame(model) if model.steps else pd.DataFrame()
    m = len(model.supplier_list)
    for ax, (label, draw) in zip(axes, panels, strict=True):
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if df.empty:
            ax.text(0.5, 0.5, "press Step or Play", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
            continue
        for j, g in df.groupby("supplier"):
            draw(ax, g, colour(int(j)))
        for step, _ in model.shock_log:
            if step <= model.steps:
                ax.axvline(step, color="black", ls=":", lw=1)
    for ax in axes[2:]:
        ax.set_xlabel("step", fontsize=8)
    handles = [Line2D([], [], color=colour(j), label=supplier_name(model, j)) for j in range(m)]
    if model.shock_log:
        handles.append(Line2D([], [], color="black", ls=":", label="shock"))
    fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), fontsize=7,
               frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.89, bottom=0.18, hspace=0.32, wspace=0.22)
    return fig


def _line(column: str, smooth: int = 1, cumulative: bool = False, **kw: Any):
    def draw(ax: Any, g: pd.DataFrame, c: str) -> None:
        y = g[column].astype(float)
        if cumulative:
            y = y.fillna(0).cumsum()
        if smooth > 1:
            y = y.rolling(smooth, min_periods=1).mean()
        ax.plot(g["step"], y, color=c, lw=1.4, **kw)

    return draw


def _loyalty(ax: Any, g: pd.DataFrame, c: str) -> None:
    ax.plot(g["step"], g["loyalty_firm"], color=c, lw=1.4)
    ax.plot(g["step"], g["loyalty_person"], color=c, lw=1.4, ls="--")


def market_figure(model: DashboardModel) -> Figure:
    """Market share, trust, loyalty to the salesperson vs the firm, and profit, per supplier."""
    return _panels(
        model,
        [
            ("Market share (share of volume sold)", _line("market_share")),
            ("Mean trust of its customers", _line("mean_trust")),
            ("Loyalty: to the firm (solid), to the salesperson (dashed)", _loyalty),
            ("Profit per step (5-step average)", _line("profit", smooth=5)),
        ],
        "How the suppliers are doing",
    )


def health_figure(model: DashboardModel) -> Figure:
    """Transaction cost, strategic partners and silent vs voiced churn, per supplier."""
    return _panels(
        model,
        [
            ("Meeting time lost to haggling & paperwork", _line("transaction_cost")),
            ("Strategic partners", _line("strategic_partners")),
            ("Customers lost silently (total)", _line("silent_churn", cumulative=True)),
            ("Customers lost after complaining (total)", _line("voiced_churn",
                                                               cumulative=True)),
        ],
        "Health of the relationships",
    )


TABLE_COLUMNS: dict[str, str] = {
    "market_share": "Share",
    "accounts": "Customers",
    "mean_trust": "Trust",
    "person_bound_share": "Loyalty to sales­people",
    "strategic_partners": "Partners",
    "profit": "Profit",
    "price": "Price",
}
COUNTS = ("Customers", "Partners")


def supplier_table(model: DashboardModel) -> pd.DataFrame:
    """The current state per supplier, with plain-language column names."""
    rows = []
    for s in model.supplier_list:
        row: dict[str, Any] = {"Supplier": s.index + 1, "Strategy": STRATEGY_LABELS[s.strategy]}
        for key, label in TABLE_COLUMNS.items():
            value = float(s.metrics.get(key, float("nan")))
            row[label] = int(value) if label in COUNTS and not np.isnan(value) else value
        rows.append(row)
    return pd.DataFrame(rows)


def table_html(df: pd.DataFrame) -> str:
    """A small HTML table (no extra browser assets needed)."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "–" if np.isnan(v) else (f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}")
        return html.escape(str(v))

    head = "".join(f"<th style='padding:1px 5px'>{html.escape(c)}</th>" for c in df.columns)
    body = "".join(
        f"<tr><td style='padding:1px 5px'><span style='color:{colour(row[0] - 1)}'>■</span> "
        f"{row[0]}</td>"
        + "".join(f"<td style='padding:1px 5px;text-align:right'>{cell(v)}</td>"
                  for v in row[1:]) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return (f"<table class='supplier-table' style='border-collapse:collapse;font-size:12px'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


# ------------------------------------------------------------------ components

size_by = solara.reactive("trust")


@solara.component
def NetworkView(model: DashboardModel):
    update_counter.get()
    solara.FigureMatplotlib(network_figure(model, size_by.value), format="png")


@solara.component
def MarketView(model: DashboardModel):
    update_counter.get()
    solara.FigureMatplotlib(market_figure(model), format="png")


@solara.component
def HealthView(model: DashboardModel):
    update_counter.get()
    solara.FigureMatplotlib(health_figure(model), format="png")


@solara.component
def LessonView(model: DashboardModel):
    lesson = model.lesson
    body = "".join(
        f"<p style='margin:4px 0'><b>{html.escape(k)}</b> {html.escape(v)}</p>"
        for k, v in (("The fact:", lesson.fact), ("Do:", lesson.todo),
                     ("Watch:", lesson.watch), ("Ask the class:", lesson.ask))
    )
    solara.HTML(tag="div", unsafe_innerHTML=f"<h3 class='lesson-title'>{html.escape(lesson.title)}"
                f"</h3>{body}")


@solara.component
def StateView(model: DashboardModel):
    update_counter.get()
    message = solara.use_reactive("")
    target = solara.use_reactive("the market leader")
    names = ["the market leader"] + [f"Supplier {j + 1}" for j in range(len(model.supplier_list))]

    def hit(kind: str) -> None:
        j = None if target.value == "the market leader" else names.index(target.value) - 1
        message.set(f"Step {model.steps}: " + apply_shock(model, kind, j))
        force_update()

    with solara.Column(gap="4px"):
        solara.HTML(tag="div", unsafe_innerHTML=f"<b>Suppliers now (step {model.steps})</b>"
                    + table_html(supplier_table(model)))
        if message.value:
            solara.HTML(tag="div", unsafe_innerHTML=f"<span class='shock-message' style='"
                        f"color:#b45309;font-size:13px'>⚡ {html.escape(message.value)}</span>")
        with solara.Row():
            solara.Select("Shock hits", value=target, values=names)
            solara.Text("Dot size:", style={"align-self": "center", "white-space": "nowrap"})
            solara.ToggleButtonsSingle(value=size_by, values=["trust", "volume"])
        with solara.Row(style={"flex-wrap": "wrap"}):
            for kind, label in SHOCKS.items():
                solara.Button(label, on_click=lambda kind=kind: hit(kind), color="warning",
                              outlined=True, small=True)


def _settings_key(values: dict[str, Any]) -> str:
    return "|".join(f"{k}={values[k]}" for k in sorted(values))


settings = solara.reactive(lesson_settings(DEFAULT_LESSON))


@solara.component
def SettingsPanel():
    """Lesson picker and the main parameters; any change builds a new model."""
    values = settings.value
    titles = {lesson.title: key for key, lesson in LESSONS.items()}

    def set_lesson(title: str) -> None:
        settings.set(lesson_settings(titles[title]))

    def setter(key: str):
        def set_value(value: Any) -> None:
            settings.set({**settings.value, key: value})

        return set_value

    with solara.Card("Lesson and market"):
        solara.Select("Lesson", value=LESSONS[values["lesson"]].title, values=list(titles),
                      on_value=set_lesson)
        for key, s in SETTINGS.items():
            if s.options:
                solara.Select(s.label, value=values[key], values=list(s.options),
                              on_value=setter(key))
            elif s.is_int:
                solara.SliderInt(f"{s.label}: {values[key]}", value=int(values[key]),
                                 min=int(s.lo), max=int(s.hi), step=int(s.step),
                                 on_value=setter(key))
            else:
                solara.SliderFloat(f"{s.label}: {values[key]:g}", value=float(values[key]),
                                   min=s.lo, max=s.hi, step=s.step, on_value=setter(key))
        solara.Text("Needs beyond the product: 0 = the product only, 1 = spread over "
                    "service, installation, logistics, finance. Decay and turnover are per step. "
                    "Changing the lesson or a setting starts a new run.",
                    style={"font-size": "12px", "color": "grey"})


@solara.component
def Page():
    values = settings.value
    model = solara.use_memo(lambda: DashboardModel(**values), [_settings_key(values)])
    with solara.Sidebar():
        SettingsPanel()
    SolaraViz(
        model,
        components=[(LessonView, 0), (NetworkView, 0), (MarketView, 0), (StateView, 0),
                    (HealthView, 0)],
        model_params=dict(values),
        name="Buyer–seller relationships: lone seller vs the whole company",
        play_interval=150,
    ).key(_settings_key(values))
