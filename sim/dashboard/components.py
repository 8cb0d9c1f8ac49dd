"""The dashboard's Solara components: controls, lesson card, charts, network, table.

One :class:`~sim.dashboard.live.LiveRun` per page. Play runs a thread that
steps the run and then hands the page a new
:class:`~sim.dashboard.live.Picture`; the components draw only from that
picture, so drawing never reads the model while it steps. Pause stops the
loop before its next step; an error in a step stops playing, shows one line
and keeps the run.

Stable test hooks (``data-testid``): ``step`` (the step counter), ``play``,
``pause``, ``step-button`` (the Step button; ``step`` is the counter),
``reset``, ``speed``, ``lesson``, ``error``, ``shock-message``.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import Any

import solara

from sim.dashboard import figures
from sim.dashboard.figures import CHARTS, PAIRS
from sim.dashboard.lessons import DEFAULT_LESSON, GLOSSARY, LESSONS, Lesson
from sim.dashboard.live import LiveRun, Picture
from sim.dashboard.settings import SETTINGS, build_config, lesson_settings

#: Steps per second the speed control offers.
SPEEDS: dict[str, float] = {"1 step/s": 1.0, "2 steps/s": 2.0, "5 steps/s": 5.0,
                            "10 steps/s": 10.0, "20 steps/s": 20.0}
DEFAULT_SPEED = "5 steps/s"
MIN_PAUSE_S = 0.03  # between two steps while playing: time to send the page's updates
SHOCK_BUTTONS: dict[str, str] = {
    "salesperson_leaves": "Salesperson leaves",
    "quality_failure": "Quality failure",
    "price_war": "Price war",
    "switch_strategy": "Switch to company-wide",
}
LEADER = "The supplier with most customers"

CSS = """
.classroom { font-size: 16px; line-height: 1.35; color: #222; max-width: 100%;
  overflow-x: hidden; }
.classroom .top-bar { flex-wrap: wrap; align-items: center; gap: 4px 10px;
  padding: 2px 0 4px; border-bottom: 1px solid #ddd; }
.classroom .app-title { font-size: 16px; font-weight: 600; color: #555; }
.classroom .step-counter { font-size: 20px; font-weight: 600; min-width: 90px; }
.classroom.main { display: grid; grid-template-columns: minmax(270px, 330px) minmax(0, 1fr);
  gap: 12px; }
.classroom .lesson p { margin: 3px 0; }
.classroom .lesson h2 { font-size: 19px; margin: 4px 0; }
.classroom .chart-title { font-size: 16px; font-weight: 600; margin: 6px 0 0; }
.classroom .pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
  gap: 10px; }
.classroom .effects { font-size: 15px; background: #fff7e6; padding: 4px 8px;
  border-left: 4px solid #d94801; }
.classroom .error { color: #b00020; font-weight: 600; }
.classroom .shock-message { color: #8a4500; }
.classroom .legend-item { margin-right: 14px; white-space: nowrap; }
.classroom .swatch { display: inline-block; width: 14px; height: 14px; margin-right: 4px;
  vertical-align: -2px; }
.classroom .supplier-table { border-collapse: collapse; font-size: 15px; width: 100%; }
.classroom .supplier-table th { text-align: left; font-weight: 600; padding: 2px 6px;
  border-bottom: 1px solid #999; vertical-align: bottom; }
.classroom .supplier-table td { padding: 2px 6px; }
.classroom .supplier-table td.num { text-align: right; }
.classroom .note { font-size: 14px; color: #555; }
.classroom .glossary dt { font-weight: 600; }
.classroom .glossary dd { margin: 0 0 4px 0; }
.classroom .v-btn { font-size: 15px; text-transform: none; letter-spacing: normal; }
.classroom .v-btn.lesson-action { height: auto; min-height: 36px; white-space: normal;
  padding: 6px 12px; }
.classroom .v-btn.fold { justify-content: flex-start; text-transform: none; font-size: 16px;
  letter-spacing: normal;
  border-bottom: 1px solid #ddd; border-radius: 0; }
.classroom .v-label, .classroom .v-select__selection { font-size: 16px; }
.classroom .v-label--active { transform: translateY(-18px) scale(0.875); }
.solara-footer, footer { display: none !important; }
@media (max-width: 860px) { .classroom.main { grid-template-columns: minmax(0, 1fr); } }
"""


def _html(body: str, classes: str = "") -> None:
    """Raw HTML (already escaped by the caller), in a div of ``classes``."""
    solara.HTML(tag="div", unsafe_innerHTML=f"<div class='{classes}'>{body}</div>"
                if classes else body)


@solara.component
def Controls(run: LiveRun, picture: solara.Reactive[Picture], error: solara.Reactive[str],
             generation: solara.Reactive[int]) -> None:
    """Play, Pause, Step, Reset and the speed control (Reset bumps ``generation``)."""
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(DEFAULT_SPEED)
    # the stop signal of the loop now playing: each Play starts a loop with its own
    loop = solara.use_memo(lambda: {"stop": threading.Event()}, [run])

    def step_once() -> bool:
        step = run.steps + 1
        try:
            run.step()
            picture.set(run.picture())
        except Exception as err:  # any error: one line, the run is kept
            error.set(f"Step {step} failed ({type(err).__name__}: {err}); "
                      "the run is kept, press Step to try again.")
            return False
        return True

    def play_loop(stop: threading.Event) -> None:
        """Step on a steady beat of the chosen speed until ``stop``; a late step does not
        shift the beat unless it is more than one beat late."""
        due = time.perf_counter()
        while not stop.is_set():
            if not step_once():
                break
            beat = 1.0 / SPEEDS[speed.value]
            now = time.perf_counter()
            due = max(due + beat, now - beat)
            stop.wait(max(MIN_PAUSE_S, due - now))
        if loop["stop"] is stop:  # not replaced by a newer Play
            playing.set(False)

    def play() -> None:
        if playing.value:
            return
        if error.value:
            error.set("")
        stop = threading.Event()
        loop["stop"].set()
        loop["stop"] = stop
        playing.set(True)
        threading.Thread(target=_in_context(lambda: play_loop(stop)), daemon=True,
                         name="dashboard-play").start()

    def pause() -> None:
        loop["stop"].set()
        playing.set(False)

    def step() -> None:
        if not playing.value:
            if error.value:
                error.set("")
            step_once()

    def reset() -> None:
        pause()
        generation.set(generation.value + 1)

    solara.use_effect(lambda: pause, [run])  # a page or run that goes away stops its loop
    with solara.Row(classes=["controls"], style={"align-items": "center", "gap": "6px",
                                                  "flex-wrap": "wrap"}):
        solara.Button("▶ Play", on_click=play, color="primary", disabled=playing.value,
                      attributes={"data-testid": "play"})
        solara.Button("❚❚ Pause", on_click=pause, disabled=not playing.value,
                      attributes={"data-testid": "pause"})
        solara.Button("Step", on_click=step, disabled=playing.value,
                      attributes={"data-testid": "step-button"})
        solara.Button("Reset", on_click=reset, attributes={"data-testid": "reset"})
        with solara.Div(style={"width": "140px"}, attributes={"data-testid": "speed"}):
            solara.Select("Speed", value=speed, values=list(SPEEDS))


def _in_context(target: Callable[[], None]) -> Callable[[], None]:
    """``target`` run in the current Solara kernel context (a thread needs it to set state)."""
    from solara.server import kernel_context

    try:
        context = kernel_context.get_current_context()
    except RuntimeError:  # no server (tests rendering in process)
        return target

    def run() -> None:
        with context:
            target()

    return run


@solara.component
def LessonCard(lesson: Lesson) -> None:
    """The lesson: the fact, what to do, what to watch, what to ask."""
    body = "".join(
        f"<p><b>{k}</b> {html.escape(v)}</p>"
        for k, v in (("The fact:", lesson.fact), ("Do:", lesson.todo),
                     ("Watch:", lesson.watch), ("Ask the class:", lesson.ask))
    )
    _html(f"<h2 class='lesson-title'>{html.escape(lesson.title)}</h2>{body}", "lesson")


@solara.component
def ShockPanel(run: LiveRun, lesson: Lesson) -> None:
    """The lesson's one-click shocks, any shock on any supplier, and what they did."""
    message = solara.use_memo(lambda: solara.reactive(""), [run])
    target = solara.use_reactive(LEADER)
    names = [LEADER] + [f"Supplier {j + 1}" for j in range(run.n_suppliers)]

    def hit(kind: str, who: str | None) -> None:
        j = run.leader(None if who in (None, "leader") else who)
        if j is None:
            message.set(f"There is no {who.replace('_', '-')} supplier in this market.")
            return
        message.set(run.shock(kind, j))

    def hit_selected(kind: str) -> None:
        if target.value == LEADER:
            hit(kind, None)
        else:
            message.set(run.shock(kind, names.index(target.value) - 1))

    for action in lesson.actions:
        solara.Button(action.label, color="warning", classes=["lesson-action"],
                      on_click=lambda a=action: hit(a.kind, a.who))
    def any_shock() -> None:
        solara.Select("Shock hits", value=target, values=names)
        with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
            for kind, label in SHOCK_BUTTONS.items():
                solara.Button(label, outlined=True, color="warning",
                              on_click=lambda kind=kind: hit_selected(kind))

    Fold("Shocks for any supplier", any_shock)
    if message.value:
        _html(f"<span data-testid='shock-message'>⚡ {html.escape(message.value)}</span>",
              "shock-message")


@solara.component
def SettingsPanel(values: solara.Reactive[dict[str, Any]]) -> None:
    """The market's settings, folded away; any change starts a new run."""

    def setter(key: str) -> Callable[[Any], None]:
        return lambda value: values.set({**values.value, key: value})

    def controls() -> None:
        for key, s in SETTINGS.items():
            v = values.value[key]
            if s.options:
                solara.Select(s.label, value=v, values=list(s.options), on_value=setter(key))
            elif s.is_int:
                solara.SliderInt(f"{s.label}: {v}", value=int(v), min=int(s.lo), max=int(s.hi),
                                 step=int(s.step), on_value=setter(key))
            else:
                solara.SliderFloat(f"{s.label}: {v:g}", value=float(v), min=s.lo, max=s.hi,
                                   step=s.step, on_value=setter(key))
        _html("Needs beyond the product: 0 = the product only, 1 = spread over service, "
              "installation, logistics and finance. Decay and turnover are per step.", "note")

    Fold("Settings (a change starts a new run)", controls)


@solara.component
def Glossary() -> None:
    """The words of the lesson, one per concept."""
    Fold("Glossary", lambda: _html("<dl class='glossary'>" + "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in GLOSSARY.items()
    ) + "</dl>"))


@solara.component
def Fold(title: str, body: Callable[[], None]) -> None:
    """A section folded away; ``body`` builds its content only while it is open, so that
    each step's render stays small."""
    is_open = solara.use_reactive(False)
    solara.Button(("▾ " if is_open.value else "▸ ") + title, text=True, classes=["fold"],
                  on_click=lambda: is_open.set(not is_open.value))
    if is_open.value:
        with solara.Column(gap="4px", style={"padding": "0 8px"}):
            body()


@solara.component
def ChartView(picture: Picture, key: str, width: int, height: int,
              always: bool = False) -> None:
    """A chart (or a pair on one y-scale); unless ``always``, a one-line note instead
    while it has nothing to show."""
    keys = PAIRS.get(key, (key,))
    if not always and figures.is_empty(picture, key):
        if picture.now.step:
            _html(f"{html.escape(CHARTS[keys[0]].title)}: none yet.", "note")
        return
    y_max = figures.y_limit(picture, keys)
    with solara.Div(classes=["pair"] if len(keys) > 1 else []):
        for k in keys:
            with solara.Div():
                _html(html.escape(CHARTS[k].title), "chart-title")
                _html(figures.line_chart(picture, k, width // len(keys), height, y_max))


@solara.component
def NetworkView(picture: Picture) -> None:
    """The network, redrawn only when the run has read it again (every few steps)."""
    svg = solara.use_memo(lambda: figures.network_svg(picture),
                          [picture.network_step, id(picture.layout)])
    _html(svg)
    _html(html.escape(figures.network_caption(picture)), "note")


@solara.component
def Dashboard(values: solara.Reactive[dict[str, Any]]) -> None:
    """The whole page for the chosen lesson and settings."""
    key = "|".join(f"{k}={values.value[k]}" for k in sorted(values.value))
    generation = solara.use_reactive(0)
    run = solara.use_memo(lambda: LiveRun(build_config(**values.value)),
                          [key, generation.value])
    picture = solara.use_memo(lambda: solara.reactive(run.picture()), [run])
    error = solara.use_reactive("")
    lesson = LESSONS[values.value["lesson"]]
    titles = {item.title: k for k, item in LESSONS.items()}

    solara.Style(CSS)
    with solara.Div(classes=["classroom", "main"]):
        with solara.Column(gap="6px"):
            _html("Buyers and sellers: lone seller vs the whole company", "app-title")
            with solara.Div(attributes={"data-testid": "lesson"}):
                solara.Select("Lesson", value=lesson.title, values=list(titles),
                              on_value=lambda t: values.set(lesson_settings(titles[t])))
            LessonCard(lesson)
            ShockPanel(run, lesson)
            SettingsPanel(values)
            Glossary()
        Live(run, picture, error, generation, lesson)


@solara.component
def Live(run: LiveRun, picture: solara.Reactive[Picture], error: solara.Reactive[str],
         generation: solara.Reactive[int], lesson: Lesson) -> None:
    """The controls and everything that changes with each step: the only component that
    re-renders while the run plays (one render per step)."""
    now = picture.value
    with solara.Column(gap="4px", style={"min-width": "0"}):
        with solara.Row(classes=["top-bar"]):
            Controls(run, picture, error, generation)
            _html(f"Step <span data-testid='step'>{now.now.step}</span>", "step-counter")
        if error.value:
            _html(f"<span data-testid='error'>{html.escape(error.value)}</span>", "error")
        _html(figures.legend_html(now.now.strategies))
        with solara.Div(classes=["key-chart"]):
            ChartView(now, lesson.key_chart, 640, 270, always=True)
        if now.effects:
            _html("<br>".join(html.escape(line) for line in now.effects[-3:]), "effects")
        with solara.Div(classes=["pair"]):
            for side in lesson.side_charts:
                with solara.Div():
                    ChartView(now, side, 310, 220)
        _html(figures.supplier_table(now))
        with solara.Div(style={"max-width": "420px"}):
            NetworkView(now)


settings = solara.reactive(lesson_settings(DEFAULT_LESSON))


@solara.component
def Page() -> None:
    """The app's page (``solara run sim/app.py``)."""
    solara.Title("Buyers and sellers: a classroom dashboard")
    Dashboard(settings)
