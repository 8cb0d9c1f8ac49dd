"""Tests of the teaching dashboard (sim/app.py → sim/dashboard/): presets, settings, the live
run, shocks and their effects, pictures, and the page rendered in process."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara", reason="the dashboard extra is missing: pip install -e .[dashboard]")

import solara  # noqa: E402

from sim import app  # noqa: E402
from sim.dashboard import components, figures  # noqa: E402
from sim.dashboard.figures import CHARTS, PAIRS  # noqa: E402
from sim.dashboard.lessons import GLOSSARY, LESSONS  # noqa: E402
from sim.dashboard.live import LiveRun  # noqa: E402
from sim.dashboard.settings import SETTINGS, build_config, lesson_settings  # noqa: E402

LESSON_DIR = Path(__file__).resolve().parents[1] / "configs" / "lesson"


def _run(lesson: str, steps: int = 0, **settings) -> LiveRun:
    run = LiveRun(build_config(lesson, **settings))
    for _ in range(steps):
        run.step()
    return run


@pytest.fixture(scope="module")
def f2() -> LiveRun:
    """Lesson F2 at its defaults, run past its scheduled shock at step 30."""
    return _run("f2_salesperson_leaves", 36)


def test_every_lesson_has_a_config_text_and_charts():
    assert {p.stem for p in LESSON_DIR.glob("*.yaml")} == set(LESSONS)
    assert {k.split("_")[0] for k in LESSONS} == {"f1", "f2", "f4", "f5", "f7", "f8", "f9"}
    assert "f1_market_chooses" in LESSONS  # firms that change strategy (adaptation)
    for lesson in LESSONS.values():
        assert lesson.title and lesson.fact and lesson.todo and lesson.watch and lesson.ask
        for key in (lesson.key_chart, *lesson.side_charts):
            assert key in CHARTS or key in PAIRS, key
        for action in lesson.actions:
            assert action.kind in components.SHOCK_BUTTONS
            assert action.who in ("leader", "lone_seller", "company_wide")


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_preset_loads_steps_and_draws(lesson):
    values = lesson_settings(lesson)
    assert set(values) == {"lesson", *SETTINGS}
    run = _run(**values, steps=3)
    picture = run.picture()
    assert picture.now.step == 3 and list(picture.steps) == [0, 1, 2, 3]
    keys = [LESSONS[lesson].key_chart, *LESSONS[lesson].side_charts]
    for key in keys:
        for k in PAIRS.get(key, (key,)):
            svg = figures.line_chart(picture, k, 640, 270)
            assert svg.count("<polyline") == len(picture.now.strategies) * (
                2 if CHARTS[k].dashed_column else 1)
    assert figures.network_svg(picture).count("<circle") == picture.layout.drawn.size
    assert figures.supplier_table(picture).count("<tr>") == len(picture.now.strategies) + 1


def test_presets_differ_where_the_lesson_says():
    assert lesson_settings("f1_team_selling")["needs_breadth"] == pytest.approx(0.9)
    assert lesson_settings("f8_adversarial")["adversarial_share"] == pytest.approx(1.0)
    assert lesson_settings("f7_trust_costs")["adversarial_share"] == pytest.approx(0.0)
    assert lesson_settings("f5_silence")["decay"] == pytest.approx(0.05)
    assert lesson_settings("f4_promises")["promise_inflation"] == pytest.approx(0.05)
    f9 = lesson_settings("f9_partner_failure")
    assert f9["n_suppliers"] == 3 and f9["strategies"] == "All company-wide"
    f2 = build_config("f2_salesperson_leaves")
    assert [e.kind for e in f2.scenario.events] == ["salesperson_leaves"]


def test_settings_override_the_lesson():
    cfg = build_config(
        "f1_team_selling",
        strategies="Alternating: lone seller, company-wide, hybrid",
        n_buyers=100, n_suppliers=3, needs_breadth=0.1, adversarial_share=0.5, decay=0.04,
        promise_inflation=0.2, turnover=0.01, network="Hubs (Barabási–Albert)", seed=4,
    )
    assert cfg.strategy.assignment == ["lone_seller", "company_wide", "hybrid"]
    assert (cfg.market.n_buyers, cfg.market.n_suppliers, cfg.seed) == (100, 3, 4)
    assert cfg.buyers.needs_breadth == pytest.approx(0.1)
    assert cfg.buyers.adversarial_share == pytest.approx(0.5)
    assert cfg.relationship.decay == pytest.approx(0.04)
    assert cfg.sales.promise_inflation == pytest.approx(0.2)
    assert cfg.sales.departure_hazard == pytest.approx(0.01)
    assert cfg.network.kind == "barabasi_albert"


def test_lesson_events_are_dropped_when_their_supplier_is_gone():
    assert len(build_config("f2_salesperson_leaves", n_suppliers=2).scenario.events) == 1
    with pytest.raises(ValueError, match="unknown lesson"):
        build_config("no_such_lesson")


def test_words_on_screen_are_plain_and_one_per_concept(f2):
    labels = [s.label for s in SETTINGS.values()] + list(components.SHOCK_BUTTONS.values())
    labels += [lesson.title for lesson in LESSONS.values()] + list(GLOSSARY)
    labels += [c.title for c in CHARTS.values()]
    assert not [label for label in labels if "_" in label]
    table = figures.supplier_table(f2.picture())
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", re.sub(r"<[^>]+>", " ", table))
    # "customer" means a buyer whose main supplier it is, everywhere; no "account" on screen
    shown = " ".join(labels) + table + " ".join(f2.picture().effects)
    assert "account" not in shown.lower()
    assert {"Trust", "Loyalty to the person", "Loyalty to the firm", "Strategic partner",
            "Share of wallet"} <= set(GLOSSARY)


def test_a_picture_never_changes_after_it_is_taken(f2):
    run = _run("f1_team_selling", 2)
    picture = run.picture()
    customers = picture.now.customers.copy()
    run.step()
    run.step()
    assert picture.now.step == 2 and len(picture.steps) == 3
    assert np.array_equal(picture.now.customers, customers)
    assert run.picture().now.step == 4


def test_drawing_while_another_thread_steps_never_fails():
    """The crash in class: reading the run while Play stepped it (now: one lock, copies)."""
    run = _run("f2_salesperson_leaves", 0, n_buyers=150)
    errors: list[BaseException] = []

    def play() -> None:
        try:
            for _ in range(60):
                run.step()
        except BaseException as err:  # noqa: BLE001 - any failure fails the test
            errors.append(err)

    player = threading.Thread(target=play)
    player.start()
    drawn = 0
    while player.is_alive() or drawn == 0:
        picture = run.picture()
        for key in ("customers", "loyalty", "partners"):
            figures.line_chart(picture, key, 640, 270)
        figures.network_svg(picture)
        drawn += 1
    player.join()
    assert not errors and run.steps == 60 and drawn > 1


def test_the_scheduled_shock_is_labelled_and_its_effect_measured(f2):
    picture = f2.picture()
    assert [(s.step, s.label) for s in picture.shocks] == [(30, "S1 salesperson leaves")]
    assert "⚡S1 salesperson leaves" in figures.line_chart(picture, "customers", 640, 270)
    (line,) = picture.effects
    assert line.startswith("Step 30 · S1 salesperson leaves: took ")
    before, after = map(int, re.search(r"Supplier 1: (\d+) → (\d+) customers", line).groups())
    assert after < before  # the lesson's point: the lone seller loses customers
    gain = re.search(r"Supplier 2: (\d+) → (\d+) customers", line)
    assert gain and int(gain[2]) > int(gain[1])
    assert line.endswith("in 5 steps")


def test_f2_company_wide_salesperson_takes_fewer_customers_than_a_lone_sellers():
    moved = {}
    for who in ("company_wide", "lone_seller"):
        run = _run("f2_salesperson_leaves", 60)
        supplier = run.leader(who)
        assert run.picture().now.strategies[supplier] == who
        assert "busiest salesperson leaves" in run.shock("salesperson_leaves", supplier)
        for _ in range(5):
            run.step()
        line = run.picture().effects[-1]
        target = re.findall(r"Supplier (\d+): (\d+) → (\d+) customers", line)[-1]
        moved[who] = int(target[2]) - int(target[1])
    assert moved["company_wide"] < moved["lone_seller"] / 4


def test_pressed_shocks_act_from_the_next_step():
    run = _run("f9_partner_failure", 3, n_buyers=150)
    assert "at step 4" in run.shock("quality_failure", 0)
    assert "at step 4" in run.shock("price_war", 1)
    assert "already sells company-wide" in run.shock("switch_strategy", 2)
    assert [s.step for s in run.picture().shocks] == [4, 4]
    model = run.model
    product = model.market.departments.index("product")
    for _ in range(3):
        run.step()
        assert model.market.firms.quality_shock[0, product] == pytest.approx(0.8)
        assert model.market.firms.price_cut[1] == pytest.approx(0.2)
    run.step()
    assert model.market.firms.quality_shock[0, product] == 0.0
    with pytest.raises(ValueError, match="unknown shock"):
        run.shock("meteor", 0)


def test_colours_follow_the_strategy():
    colours = figures.supplier_colours(["lone_seller", "company_wide", "lone_seller",
                                        "company_wide"])
    assert colours[0] in figures.SHADES["lone_seller"] and colours[2] in figures.SHADES[
        "lone_seller"]
    assert colours[1] in figures.SHADES["company_wide"] and colours[3] in figures.SHADES[
        "company_wide"]
    assert len(set(colours)) == 4


def test_compared_charts_share_one_scale_and_empty_ones_are_hidden():
    run = _run("f5_silence", 20, n_buyers=150)
    picture = run.picture()
    silent = figures.chart_values(picture, CHARTS["silent"], "silent_churn")
    assert figures.y_limit(picture, PAIRS["churn"]) >= silent.max()
    assert not figures.is_empty(picture, "churn")
    assert figures.is_empty(_run("f5_silence", 0).picture(), "churn")
    adversarial = _run("f8_adversarial", 5, n_buyers=150).picture()
    assert figures.is_empty(adversarial, "partners")


def test_chart_text_is_at_least_14px():
    picture = _run("f7_trust_costs", 5, n_buyers=100).picture()
    svg = figures.line_chart(picture, "haggling", 640, 270) + figures.network_svg(picture)
    sizes = [float(s) for s in re.findall(r"font-size='([\d.]+)'", svg)]
    assert sizes and min(sizes) >= 14


def _texts(rc) -> str:
    return " ".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def test_page_steps_resets_and_reports_an_error_in_one_line(monkeypatch):
    import ipyvuetify as v

    assert app.Page is components.Page  # what `solara run sim/app.py` serves
    values = solara.reactive(lesson_settings("f2_salesperson_leaves"))
    box, rc = solara.render(components.Dashboard(values), handle_error=False)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "data-testid='step'>2<" in _texts(rc)
    rc.find(v.Btn, children=["A company-wide salesperson leaves"]).widget.click()
    assert "busiest salesperson leaves for a rival at step 3." in _texts(rc)

    def broken(self: LiveRun) -> None:
        raise RuntimeError("dictionary changed size during iteration")

    monkeypatch.setattr(LiveRun, "step", broken)
    rc.find(v.Btn, children=["Step"]).widget.click()
    text = _texts(rc)
    assert "Step 3 failed (RuntimeError: dictionary changed size during iteration)" in text
    assert "data-testid='step'>2<" in text  # the run is kept
    monkeypatch.undo()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "data-testid='step'>3<" in _texts(rc) and "failed" not in _texts(rc)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert "data-testid='step'>0<" in _texts(rc)
    rc.close()


def test_play_steps_in_a_thread_and_pause_stops_before_the_next_step():
    import ipyvuetify as v

    values = solara.reactive({**lesson_settings("f1_team_selling"), "n_buyers": 100})
    box, rc = solara.render(components.Dashboard(values), handle_error=False)

    def shown() -> int:
        return int(re.search(r"data-testid='step'>(\d+)<", _texts(rc))[1])

    rc.find(v.Btn, children=["▶ Play"]).widget.click()
    rc.find(v.Btn, children=["▶ Play"]).widget.click()  # a second press starts no second loop
    time.sleep(1.5)
    rc.find(v.Btn, children=["❚❚ Pause"]).widget.click()
    paused = shown()
    assert 1 <= paused <= 12  # 5 steps/s by default (fewer on a busy machine), not twice that
    time.sleep(0.6)
    assert shown() <= paused + 1  # a step already running may finish, no further one
    settled = shown()
    time.sleep(0.6)
    assert shown() == settled
    assert not [t for t in threading.enumerate() if t.name == "dashboard-play"]
    rc.close()


def test_f1_market_chooses_the_strategy_the_needs_favour():
    """The class watches firms change strategy: all company-wide with broad needs, lone
    sellers with narrow ones (the lesson's defaults, seed 0), and the Strategy chart shows it."""
    broad = _run("f1_market_chooses", 150)
    assert broad.picture().now.strategies == ("company_wide",) * 6
    kappa = figures.chart_values(broad.picture(), CHARTS["strategy"], "coordination")
    assert kappa[0].min() < 0.3 and (kappa[-1] == pytest.approx(0.9))  # lone sellers switched
    narrow = _run("f1_market_chooses", 60, needs_breadth=0.1)
    assert narrow.picture().now.strategies == ("lone_seller",) * 6
