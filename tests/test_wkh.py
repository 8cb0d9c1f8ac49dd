"""market=wkh reduces the model exactly to Weisbuch–Kirman–Herreiner (brief §4)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import RelationshipModel, make_config
from sim.rules import choice


@pytest.fixture
def wkh_model() -> RelationshipModel:
    cfg = make_config(["market=wkh", "market.n_buyers=2000", "market.n_suppliers=3",
                       "buyers.choice_intensity=1.0", "buyers.memory=0.2",
                       "market.profit_per_purchase=0.5", "seed=4"])
    return RelationshipModel(cfg)


def test_wkh_config_switches_every_other_mechanism_off():
    cfg = make_config(["market=wkh"])
    assert cfg.market.departments == ["product"]
    assert cfg.market.payoff == "constant"
    assert cfg.relationship.decay == 0.0
    assert cfg.buyers.switching_weight == 0.0
    assert cfg.buyers.adversarial_share == 0.0


def test_wkh_attraction_update_is_exact(wkh_model):
    """J ← (1−γ)·J + π·[chosen], for every buyer and seller, to float32 precision."""
    m = wkh_model
    rng = np.random.default_rng(0)
    start = rng.uniform(0.0, 2.0, m.ties.trust.shape).astype(np.float32)
    m.ties.loyalty_person[:] = 0.3 * start
    m.ties.loyalty_firm[:] = 0.7 * start
    m.run_for(1)
    chosen = m.market.orders > 0
    assert (chosen.sum(axis=1) == 1).all(), "every WKH buyer buys from exactly one seller"
    expected = (1 - 0.2) * start + 0.5 * chosen
    np.testing.assert_allclose(m.ties.attraction(), expected, rtol=1e-6, atol=1e-6)


def test_wkh_logit_choice_matches_hand_computed_probabilities(wkh_model):
    """P(j) ∝ exp(β·J): with J = (1, 0, 0) and β = 1, P = (e, 1, 1)/(e + 2)."""
    m = wkh_model
    m.ties.loyalty_firm[:] = 0.0
    m.ties.loyalty_person[:] = 0.0
    m.ties.loyalty_firm[:, 0] = 1.0
    p_hand = np.array([np.e, 1.0, 1.0]) / (np.e + 2.0)
    u = choice.utility(m.ties.attraction(), m.market.policy.list_price, m.ties.dependency,
                       m.market.policy.health, m.market.buyers.price_sensitivity[:, None], 0.0, 0.0)
    p = choice.choice_probabilities(u, m.market.buyers.beta[:, None], m.ties.active)
    np.testing.assert_allclose(p, np.broadcast_to(p_hand, p.shape), rtol=1e-6)
    m.run_for(1)
    freq = (m.market.orders > 0).mean(axis=0)
    se = np.sqrt(p_hand * (1 - p_hand) / m.market.orders.shape[0])
    assert np.all(np.abs(freq - p_hand) < 4 * se), (freq, p_hand)


def test_wkh_loyalty_emerges_above_critical_beta():
    """Searching below β_c = nγ/π, loyal well above it (order parameter Σp² per buyer)."""
    def order(beta: float) -> float:
        cfg = make_config(["market=wkh", "market.n_buyers=500", f"buyers.choice_intensity={beta}",
                           "steps=300", "seed=1"])
        model = RelationshipModel(cfg)
        model.run_for(cfg.steps)
        return model.datacollector.get_model_vars_dataframe()["loyalty_order"].iloc[-1]

    beta_c = 2 * 0.1 / 1.0
    assert order(0.5 * beta_c) < 0.52
    assert order(2.0 * beta_c) > 0.9
