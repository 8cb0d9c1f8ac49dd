"""Suppliers that learn (adaptation group): the rules, the runs, the config and the experiment.

``adaptation=none`` is pinned bitwise by ``tests/test_speed_equivalence.py``;
L2 under learning sellers by ``tests/test_facts.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import experiments, load_results
from sim.config import STRATEGIES, ConfigError
from sim.model import RelationshipModel
from sim.rules import adaptation
from tests.conftest import sweep_in_process

SMALL = ["market.n_buyers=150", "steps=40", "market.supply_capacity=0.8"]


# ---------------------------------------------------------------- rules


def test_roth_erev_update_reinforces_the_option_played_and_forgets():
    q = np.array([[10.0, 10.0, 10.0]])
    got = adaptation.reinforce(q, np.array([1]), np.array([2.0]), forgetting=0.1,
                               experimentation=0.2, floor=0.5)
    # (1 − φ)·q + (1 − ε)·R on the option played, ε·R/(K − 1) on the others
    np.testing.assert_allclose(got, [[9.2, 10.6, 9.2]])
    low = adaptation.reinforce(q, np.array([0]), np.array([-100.0]), 0.1, 0.0, 0.5)
    assert low[0, 0] == 0.5 and low[0, 1] == pytest.approx(9.0)  # the floor holds


def test_pick_draws_in_proportion_to_propensity():
    q = np.array([1.0, 3.0, 6.0])
    uniform = np.random.default_rng(0).random(20_000)
    chosen = adaptation.pick(np.broadcast_to(q, (uniform.size, 3)), uniform)
    np.testing.assert_allclose(np.bincount(chosen, minlength=3) / uniform.size,
                               adaptation.probabilities(q), atol=0.01)
    assert adaptation.pick(q, np.array(0.999999)) == 2


def test_reward_is_profit_above_aspiration_in_units_of_its_deviation():
    r = adaptation.reward(np.array([12.0, 8.0, 5.0]), np.array([10.0, 10.0, 5.0]),
                          np.array([2.0, 4.0, 0.0]), sensitivity=1.5)
    np.testing.assert_allclose(r, [1.5, -0.75, 0.0])


def test_schlag_imitation_probability_is_proportional_to_the_profit_gap():
    p = adaptation.imitation_probability(np.array([0.0, 5.0, 10.0]), np.array([10.0, 10.0, 0.0]),
                                         spread=10.0)
    np.testing.assert_allclose(p, [1.0, 0.5, 0.0])
    assert adaptation.imitation_probability(np.array([1.0]), np.array([1.0]), 0.0)[0] == 0.0


def test_serving_rules_order_the_queue():
    partner = np.array([False, True, False, False])
    attraction = np.array([3.0, 0.0, 1.0, 2.0])
    volume = np.array([1.0, 2.0, 5.0, 0.5])
    tiebreak = np.array([0.4, 0.3, 0.2, 0.1])
    assert list(adaptation.serving_order_by("loyalty", partner, attraction, volume,
                                            tiebreak)) == [1, 0, 3, 2]
    assert list(adaptation.serving_order_by("volume", partner, attraction, volume,
                                            tiebreak)) == [2, 1, 0, 3]
    assert list(adaptation.serving_order_by("first_come", partner, attraction, volume,
                                            tiebreak)) == [3, 2, 1, 0]
    with pytest.raises(ValueError, match="unknown serving rule"):
        adaptation.serving_order_by("random", partner, attraction, volume, tiebreak)


def test_loyal_buyers_get_their_class_price():
    loyal = adaptation.loyal(np.array([[0.9, 0.1], [0.5, 0.5]]), 0.5)
    prices = adaptation.class_price(np.array([1.0, 2.0]), np.array([1.5, 2.5]), loyal)
    np.testing.assert_allclose(prices, [[1.5, 2.0], [1.0, 2.0]])


# ---------------------------------------------------------------- runs


@pytest.mark.parametrize("engine", ["vector", "agent"])
def test_reinforcement_is_deterministic_and_learns_in_both_engines(engine):
    def run():
        model = RelationshipModel(overrides=[*SMALL, "adaptation=reinforcement"],
                                  engine=engine, seed=3)
        model.run_model()
        return model

    a, b = run(), run()
    la, lb = a.market.learning, b.market.learning
    np.testing.assert_array_equal(la.price, lb.price)
    np.testing.assert_array_equal(la.serving, lb.serving)
    # propensities moved away from the uniform start, and prices come from the menu
    assert np.abs(la.price - 10.0).max() > 1.0 and (la.serving != 10.0).any()
    menu = a.cfg.market.unit_cost * np.array(a.cfg.adaptation.markups)
    assert np.isin(np.round(a.market.firms.price, 9), np.round(menu, 9)).all()


def test_fixed_suppliers_keep_their_price_and_serving_rule():
    model = RelationshipModel(overrides=[*SMALL, "adaptation=reinforcement",
                                         "adaptation.fixed=[0]"], seed=1)
    price0 = model.market.firms.price[0]
    model.run_model()
    learning = model.market.learning
    assert model.market.firms.price[0] == price0
    assert learning.chosen_serving[0] == -1 and (learning.chosen_serving[1:] >= 0).all()
    assert (learning.price[0] == 10.0).all() and not (learning.price[1:] == 10.0).all()
    # the Supplier agents are views of what was learned
    us, rival = model.supplier_list[0], model.supplier_list[1]
    assert us.serving_rule == "configured" and us.loyal_price == us.price
    assert rival.serving_rule in model.cfg.adaptation.serving_rules
    assert rival.loyal_price == learning.loyal_base[1]


def test_imitation_changes_strategies_only_every_k_steps_and_not_for_fixed_firms():
    model = RelationshipModel(overrides=["market.n_buyers=200", "steps=60", "strategy=three_way",
                                         "market.n_suppliers=6", "adaptation=imitation",
                                         "adaptation.revise_every=10", "adaptation.fixed=[0]"],
                              seed=0)
    history = []
    for _ in range(60):
        model.step()
        history.append(list(model.market.firms.strategy))
    changed = [t + 1 for t in range(1, 60) if history[t] != history[t - 1]]
    assert changed and all((t - 1) % 10 == 0 for t in changed), changed
    assert all(h[0] == "lone_seller" for h in history)
    assert {s for h in history for s in h} <= set(STRATEGIES)


@pytest.mark.parametrize("extreme", [
    ["adaptation.sensitivity=1000", "adaptation.aspiration_rate=0.001", "adaptation.forgetting=0",
     "adaptation.experimentation=1", "adaptation.propensity_floor=1e-6",
     "adaptation.initial_propensity=0.001"],
    ["adaptation.sensitivity=0", "adaptation.forgetting=1", "adaptation.aspiration_rate=1",
     "adaptation.initial_propensity=1000", "adaptation.markups=[100]",
     "adaptation.serving_rules=[volume]", "adaptation.loyal_wallet=0"],
])
def test_learning_stays_finite_at_the_bounds(extreme):
    model = RelationshipModel(overrides=[*SMALL, "adaptation=reinforcement",
                                         "adaptation.learn_strategy=true", *extreme], seed=0)
    model.run_model()
    learning = model.market.learning
    for q in (learning.price, learning.serving, learning.strategy):
        assert np.isfinite(q).all() and (q > 0).all()
    assert np.isfinite(model.supplier_frame()[["profit", "price", "revenue"]]).all().all()


def test_learned_strategy_is_one_of_the_profiles():
    model = RelationshipModel(overrides=[*SMALL, "adaptation=reinforcement",
                                         "adaptation.learn_strategy=true",
                                         "adaptation.revise_every=5"], seed=2)
    model.run_model()
    learning = model.market.learning
    assert [STRATEGIES[k] for k in learning.chosen_strategy] == model.market.firms.strategy
    assert (learning.strategy != 10.0).any()


def test_an_unknown_adaptation_option_names_the_options():
    from hydra.errors import MissingConfigException

    from sim.api import make_config
    with pytest.raises(MissingConfigException, match="imitation"):
        make_config(["adaptation=learning"])


@pytest.mark.parametrize("override, message", [
    ("adaptation.name=learning", r"adaptation.name='learning'.*one of"),
    ("adaptation.markups=[]", r"adaptation.markups.*non-empty"),
    ("adaptation.markups=[1.2,1.1]", "increasing order"),
    ("adaptation.markups=[0,1.1]", r"adaptation.markups\[0\]=0"),
    ("adaptation.serving_rules=[loyalty,loyalty]", "each name once"),
    ("adaptation.serving_rules=[random]", "names from"),
    ("adaptation.forgetting=1.5", r"adaptation.forgetting=1.5.*\[0.0, 1.0\]"),
    ("adaptation.aspiration_rate=0", r"adaptation.aspiration_rate=0.*s/w"),
    ("adaptation.revise_every=0", "adaptation.revise_every=0"),
    ("adaptation.fixed=[4]", r"adaptation.fixed\[0\]=4.*supplier id in \[0, 3\]"),
])
def test_bad_adaptation_values_are_one_clear_error(override, message):
    from sim.api import make_config
    with pytest.raises(ConfigError, match=message):
        make_config([override])


# ---------------------------------------------------------------- the experiment


def test_coevolution_experiment_reports_the_strategy_mix(tmp_path, monkeypatch):
    assert "coevolution" in experiments.names()
    code = sweep_in_process(tmp_path, monkeypatch, [
        "+experiment=coevolution", "seeds=2", "steps=12", "market.n_buyers=60",
        "buyers=partnership", "buyers.needs_breadth=0.1,0.9", "hydra/launcher=basic"])
    assert code == 0
    (folder,) = [p.parent for p in tmp_path.glob("results/coevolution/*/sweep.json")]
    runs = load_results(folder)
    mix = experiments.analysis("coevolution").__globals__["strategy_mix"](folder, runs)
    assert len(mix) == 4 * 13  # 4 runs × steps 0–12
    np.testing.assert_allclose(mix[list(STRATEGIES)].sum(axis=1), 1.0)
    assert (mix[mix["step"] == 0][list(STRATEGIES)] == 1 / 3).all().all()
    report = (folder / "report.md").read_text()
    assert "| partnership | 0.9 |" in report and (folder / "mix.png").is_file()
