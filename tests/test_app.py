"""Component tests of the teaching dashboard (sim/app.py): presets, settings, shocks, views."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara", reason="the dashboard extra is missing: pip install -e .[dashboard]")

import solara  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mesa.visualization.solara_viz import _check_model_params  # noqa: E402

from sim import app  # noqa: E402
from sim.app import (  # noqa: E402
    LESSONS,
    SETTINGS,
    SHOCKS,
    DashboardModel,
    apply_shock,
    build_config,
    health_figure,
    lesson_settings,
    market_figure,
    network_figure,
    supplier_table,
    table_html,
)

LESSON_DIR = Path(__file__).resolve().parents[1] / "configs" / "lesson"


@pytest.fixture(scope="module")
def running() -> DashboardModel:
    """A small F2 market run for 12 steps (shocks mutate copies built from it)."""
    model = DashboardModel("f2_salesperson_leaves", n_buyers=150)
    model.run_for(12)
    return model


def test_every_lesson_has_a_config_and_text():
    files = {p.stem for p in LESSON_DIR.glob("*.yaml")}
    assert files == set(LESSONS)
    assert {k.split("_")[0] for k in LESSONS} == {"f1", "f2", "f4", "f5", "f7", "f8", "f9"}
    for lesson in LESSONS.values():
        assert lesson.title and lesson.fact and lesson.todo and lesson.watch and lesson.ask


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_preset_loads_and_steps(lesson):
    values = lesson_settings(lesson)
    assert set(values) == {"lesson", *SETTINGS}
    model = DashboardModel(**values)  # what SolaraViz's reset passes
    assert model.lesson.key == lesson
    model.run_for(3)
    assert model.steps == 3
    assert len(model.supplier_frame()) == (3 + 1) * len(model.supplier_list)  # steps 0..3


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
        n_buyers=100,
        n_suppliers=3,
        needs_breadth=0.1,
        adversarial_share=0.5,
        decay=0.04,
        promise_inflation=0.2,
        turnover=0.01,
        network="Hubs (Barabási–Albert)",
        seed=4,
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
    cfg = build_config("f2_salesperson_leaves", n_suppliers=2)
    assert len(cfg.scenario.events) == 1  # suppliers 0 → 1 still exist
    with pytest.raises(ValueError, match="unknown lesson"):
        build_config("no_such_lesson")


def test_model_signature_suits_solaraviz():
    values = lesson_settings("f1_team_selling")
    _check_model_params(DashboardModel.__init__, values)  # raises on a bad name
    assert set(inspect.signature(DashboardModel.__init__).parameters) == {"self", *values}


def test_labels_are_plain_language():
    labels = [s.label for s in SETTINGS.values()] + list(SHOCKS.values())
    labels += [lesson.title for lesson in LESSONS.values()]
    assert not [label for label in labels if "_" in label]
    table = supplier_table(DashboardModel("f1_team_selling", n_buyers=60))
    assert not [c for c in table.columns if "_" in c]


def _fresh(running: DashboardModel) -> DashboardModel:
    model = DashboardModel("f2_salesperson_leaves", n_buyers=150)
    model.run_for(running.steps)
    return model


def test_salesperson_shock_moves_the_accounts(running):
    model = _fresh(running)
    j = 2  # a lone seller (suppliers 0, 2 are lone sellers)
    before = int((model.market.salesforce.employer == j).sum())
    message = apply_shock(model, "salesperson_leaves", j)
    assert "left for Supplier" in message
    assert model.market.departures[-1]["from"] == j and model.market.departures[-1]["to"] != j
    assert int((model.market.salesforce.employer == j).sum()) == before  # a new hire replaces them
    assert model.shock_log[-1][0] == model.steps
    model.step()


def test_quality_failure_lasts_three_steps(running):
    model = _fresh(running)
    product = model.market.departments.index("product")
    leader = app.market_leader(model)
    apply_shock(model, "quality_failure")  # the market leader by default, from the next step
    model.step()
    assert model.market.firms.quality_shock[leader, product] == pytest.approx(0.8)
    model.run_for(2)
    assert model.market.firms.quality_shock[leader, product] == pytest.approx(0.8)  # steps 1–3 hit
    model.step()
    assert model.market.firms.quality_shock[leader, product] == 0.0


def test_price_war_and_switch(running):
    model = _fresh(running)
    apply_shock(model, "price_war", 1)
    model.step()
    assert model.market.firms.price_cut[1] == pytest.approx(0.2)
    model.run_for(9)
    assert model.market.firms.price_cut[1] == pytest.approx(0.2)  # steps 1–10 at the cut price
    model.step()
    assert model.market.firms.price_cut[1] == 0.0
    assert "company-wide" in apply_shock(model, "switch_company_wide", 0)
    assert model.supplier_list[0].strategy == "company_wide"
    assert "already" in apply_shock(model, "switch_company_wide", 0)
    with pytest.raises(ValueError):
        apply_shock(model, "meteor", 0)


def test_views_render(running):
    empty = DashboardModel("f9_partner_failure", n_buyers=60)
    for model in (empty, running):
        for fig in (network_figure(model), network_figure(model, "volume"),
                    market_figure(model), health_figure(model)):
            assert isinstance(fig, Figure)
            fig.canvas.draw()
        html = table_html(supplier_table(model))
        assert html.count("<tr>") == len(model.supplier_list) + 1


def test_network_draws_at_most_300_buyers():
    model = DashboardModel("f1_team_selling", n_buyers=600)
    model.step()
    drawn, xy, edges = app._layout(model)
    assert drawn.size == app.MAX_DRAWN and xy.shape == (app.MAX_DRAWN, 2)
    assert edges.size == 0 or edges.max() < app.MAX_DRAWN
    assert np.abs(xy).max() <= 1.1 + 1e-9
    network_figure(model).canvas.draw()


def test_page_renders_and_a_shock_button_works_in_process():
    """The page renders headless (sidebar portals aside); a shock button acts on its model."""
    import ipyvuetify as v

    box, rc = solara.render(app.Page(), handle_error=False)
    rc.find(v.Btn, children=[SHOCKS["price_war"]]).widget.click()
    texts = [w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets]
    assert any("cuts its price by 20%" in t for t in texts)
    rc.close()
