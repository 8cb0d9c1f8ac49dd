"""The model as a Mesa user drives it: keyword parameters, live agents, batch_run, DataCollector."""

from __future__ import annotations

import warnings

import mesa
import numpy as np
import pytest

from sim import ConfigError, RelationshipModel, make_config
from sim.agents import Buyer, Salesperson, Supplier
from sim.model import STEP

SMALL = {"n_buyers": 120, "n_suppliers": 4, "steps": 12}


def test_keyword_parameters_set_the_config():
    model = RelationshipModel(n_buyers=150, n_suppliers=3, strategy="company_wide",
                              needs_breadth=0.7, steps=7, seed=5)
    cfg = model.cfg
    assert (cfg.market.n_buyers, cfg.market.n_suppliers, cfg.steps, cfg.seed) == (150, 3, 7, 5)
    assert cfg.buyers.needs_breadth == pytest.approx(0.7)
    assert cfg.strategy.assignment == ["company_wide"]
    assert len(model.agents_by_type[Buyer]) == 150 and len(model.supplier_list) == 3


def test_keywords_and_overrides_give_the_same_run_as_the_config():
    by_keywords = RelationshipModel(**SMALL, seed=2, overrides=["relationship.decay=0.05"])
    by_config = RelationshipModel(make_config(
        ["market.n_buyers=120", "market.n_suppliers=4", "steps=12", "seed=2",
         "relationship.decay=0.05"]))
    assert by_keywords.cfg == by_config.cfg
    by_keywords.run_model()
    by_config.run_model()
    assert by_keywords.summary() == by_config.summary()


def test_parameters_apply_on_top_of_a_ready_config():
    cfg = make_config(["strategy=lone_seller", "seed=4"])
    model = RelationshipModel(cfg, n_buyers=80, overrides=["sales.capacity=3"], rng=9)
    assert model.cfg.market.n_buyers == 80 and model.cfg.sales.capacity == 3
    assert model.cfg.strategy.assignment == ["lone_seller"] and model.cfg.seed == 9


def test_unknown_parameter_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown parameter 'n_buyer'.*n_buyers"):
        RelationshipModel(n_buyer=10)
    with pytest.raises(ConfigError, match="seed"):
        RelationshipModel(seed="seven")


def test_model_stops_at_steps():
    model = RelationshipModel(**SMALL)
    model.run_model()  # runs while model.running
    assert model.steps == 12 and not model.running


def test_batch_run():
    results = mesa.batch_run(
        RelationshipModel,
        parameters={"n_buyers": [60], "strategy": ["lone_seller", "company_wide"], "steps": [5]},
        rng=[1, 2], max_steps=100, number_processes=1, display_progress=False,
    )
    rows = [r for r in results if r["AgentID"] is None or r.get("kind") in (None, "Supplier")]
    assert {r["strategy"] for r in results if "strategy" in r} >= {"lone_seller", "company_wide"}
    assert max(r["Step"] for r in results) == 5  # stopped at steps, not at max_steps
    runs = {(r["RunId"], r["seed"]) for r in results}
    assert len(runs) == 4 and {seed for _, seed in runs} == {1, 2}
    assert rows and all(0.0 <= r["mean_trust"] <= 1.0 for r in results if r["Step"] > 0)


def test_batch_run_without_a_seed_draws_and_records_one():
    first = RelationshipModel(n_buyers=30, steps=2, rng=None)
    second = RelationshipModel(n_buyers=30, steps=2, rng=None)
    assert first.cfg.seed != second.cfg.seed


def test_writing_salesperson_attributes_changes_the_run():
    def run(edit: bool) -> dict:
        model = RelationshipModel(**SMALL, strategy="lone_seller", seed=3)
        if edit:
            for person in model.agents_by_type[Salesperson]:
                person.skill, person.inflation, person.capacity = 0.05, 0.9, 1
        model.run_model()
        return model.summary()

    assert run(True) != run(False)
    assert run(True)["strategies"]["lone_seller"]["mean_trust"] < run(False)[
        "strategies"]["lone_seller"]["mean_trust"]


def test_agents_are_views_of_the_market():
    model = RelationshipModel(**SMALL, seed=1)
    person = next(iter(model.agents_by_type[Salesperson]))
    person.skill = 0.25
    assert model.market.salesforce.skill[person.index] == np.float32(0.25)
    model.market.salesforce.capacity[person.index] = 7
    assert person.capacity == 7
    buyer = model.agents_by_type[Buyer].select(lambda b: b.index == 3).to_list()[0]
    buyer.volume = 4.0
    assert model.market.buyers.volume[3] == 4.0
    supplier = model.supplier_list[1]
    supplier.strategy = "hybrid"
    assert model.market.firms.strategy[1] == "hybrid"
    model.step()
    assert model.market.policy.coordination[1] == model.cfg.strategy.hybrid.coordination
    assert buyer.trust_in(0) == model.market.ties.trust[3, 0]


def test_a_departed_salesperson_agent_is_removed_and_a_new_hire_appears():
    model = RelationshipModel(**SMALL, strategy="lone_seller", seed=2)
    people = model.agents_by_type[Salesperson]
    person = next(iter(people))
    before = len(people)
    person.leave(None)
    assert person.employer is None and person not in model.agents_by_type[Salesperson]
    assert len(model.agents_by_type[Salesperson]) == before  # replaced, below plan


def test_datacollector_starts_at_step_zero_with_agent_reporters():
    model = RelationshipModel(**SMALL, seed=1, agents_every=5)
    model.run_for(6)
    market = model.datacollector.get_model_vars_dataframe()
    assert len(market) == 7  # steps 0..6
    frame = model.supplier_frame()
    assert frame["step"].min() == 0 and frame["step"].max() == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    assert sorted(agents["Step"].unique().tolist()) == [0.0, 5.0]
    buyers = agents[agents["kind"] == "Buyer"]
    assert len(buyers) == 2 * 120 and buyers["main_trust"].notna().any()
    assert (agents["kind"] == "Supplier").sum() == 2 * 4


def test_agent_reporters_are_off_by_default_but_exist():
    model = RelationshipModel(**SMALL)
    model.run_for(2)
    agents = model.datacollector.get_agent_vars_dataframe()
    assert agents.empty and "main_trust" in agents.columns


def test_step_schedule_is_declared_with_brief_ids():
    assert [a.action for a in STEP] == ["visit_accounts", "serve_accounts", "place_order",
                                        "fill_orders", "evaluate", "invest"]
    assert all(a.mechanisms for a in STEP)
    assert {a.agents for a in STEP} == {Buyer, Salesperson, Supplier}
