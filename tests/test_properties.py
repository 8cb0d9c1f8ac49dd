"""Property tests: any valid configuration runs and keeps every tie variable in its bounds."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import Config, RelationshipModel
from sim.config import EVENT_KINDS, NETWORKS, STRATEGIES, EventConfig, validate

UNIT_STATE = ("trust", "satisfaction", "commitment", "dependency", "expectation", "knowledge",
              "wallet", "grievance")


@st.composite
def configs(draw) -> Config:
    cfg = Config()
    cfg.seed = draw(st.integers(0, 10_000))
    cfg.steps = draw(st.integers(1, 12))
    cfg.engine = draw(st.sampled_from(["vector", "agent"]))
    m, b, r, s = cfg.market, cfg.buyers, cfg.relationship, cfg.sales
    m.n_buyers = draw(st.integers(1, 40))
    m.n_suppliers = draw(st.integers(1, 5))
    m.noise = draw(st.floats(0.0, 0.5))
    m.uncertainty = draw(st.floats(0.0, 0.5))
    m.supply_capacity = draw(st.one_of(st.none(), st.floats(0.1, 2.0)))
    b.needs_breadth = draw(st.floats(0.0, 1.0))
    b.adversarial_share = draw(st.floats(0.0, 1.0))
    b.purchase_prob = draw(st.floats(0.0, 1.0))
    b.memory = draw(st.floats(0.01, 1.0))
    b.choice_intensity = draw(st.floats(0.0, 20.0))
    b.quotes = draw(st.integers(1, 4))
    r.decay = draw(st.floats(0.0, 1.0))
    r.trust_gain = draw(st.floats(0.0, 2.0))
    r.trust_loss = draw(st.floats(0.0, 2.0))
    r.silent_churn_hazard = draw(st.floats(0.0, 1.0))
    r.reconsider_rate = draw(st.floats(0.0, 1.0))
    r.word_of_mouth = draw(st.floats(0.0, 1.0))
    s.departure_hazard = draw(st.floats(0.0, 0.5))
    s.promise_inflation = draw(st.floats(0.0, 1.0))
    cfg.strategy.assignment = draw(st.lists(st.sampled_from(STRATEGIES), min_size=1, max_size=3))
    cfg.network.kind = draw(st.sampled_from(NETWORKS))
    cfg.network.degree = draw(st.integers(0, 8))
    cfg.network.consideration = draw(st.integers(1, 5))
    cfg.collect_every = draw(st.integers(1, cfg.steps))
    cfg.scenario.events = [
        EventConfig(kind=draw(st.sampled_from(EVENT_KINDS)), t=draw(st.integers(1, cfg.steps)),
                    supplier=0, severity=draw(st.floats(0.0, 1.0)),
                    duration=draw(st.integers(1, 5)), count=draw(st.integers(1, 5)),
                    cost=draw(st.floats(0.0, 5.0)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    return validate(cfg)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_any_valid_config_runs_and_stays_in_bounds(cfg):
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    ties = model.ties
    for name in UNIT_STATE:
        values = getattr(ties, name)
        assert np.isfinite(values).all(), name
        assert values.min() >= -1e-6 and values.max() <= 1 + 1e-6, (name, values.min(),
                                                                     values.max())
    for name in ("loyalty_person", "loyalty_firm"):
        assert np.isfinite(getattr(ties, name)).all(), name
    assert (model.market.orders >= 0).all() and np.isfinite(model.market.orders).all()
    capability = model.market.firms.capability
    assert np.isfinite(capability).all() and capability.max() <= 1 + 1e-6
    summary = model.summary()
    for entry in summary["suppliers"]:
        for key, value in entry.items():
            assert value is None or not isinstance(value, float) or np.isfinite(value), key
