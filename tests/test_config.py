"""Configuration: every parameter is a documented field; validation names field, value, range."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import pytest

from sim import Config, ConfigError, make_config
from sim.config import EventConfig, validate
from tests.conftest import set_field


def _leaf_fields(node, prefix=""):
    """(path, field) of every non-dataclass field, recursively."""
    for f in fields(node):
        value = getattr(node, f.name)
        if is_dataclass(value):
            yield from _leaf_fields(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f


def test_every_parameter_has_a_one_line_description():
    undocumented = [path for path, f in _leaf_fields(Config())
                    if path != "scenario.events" and not f.metadata.get("help")]
    assert undocumented == []
    assert all("\n" not in f.metadata["help"] for path, f in _leaf_fields(Config())
               if path != "scenario.events")


def test_defaults_validate():
    assert validate(Config()) is not None


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        ("market.n_suppliers", 0, "an integer in [1, 1_000]"),
        ("buyers.needs_breadth", -0.1, "[0.0, 1.0]"),
        ("relationship.decay", 1.2, "[0.0, 1.0]"),
        ("network.kind", "lattice", "erdos_renyi"),
        ("sales.departure_hazard", 2.0, "[0.0, 1.0]"),
        ("strategy.company_wide.coordination", 1.5, "[0.0, 1.0]"),
        ("relationship.tc_trust_slope", 0.6, "τ(1) ≥ 0"),
        ("market.departments", ["sales", "service"], "with product"),
        ("market.payoff", "profit", "surplus"),
    ],
)
def test_validation_names_the_field_the_value_and_what_is_allowed(path, value, fragment):
    cfg = Config()
    set_field(cfg, path, value)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert path in str(err.value) and repr(value) in str(err.value)
    assert fragment in str(err.value)


def test_event_outside_the_horizon_is_rejected():
    cfg = Config()
    cfg.steps = 20
    cfg.scenario.events = [EventConfig(kind="price_war", t=30, supplier=1)]
    with pytest.raises(ConfigError, match=r"scenario.events\[0\].t=30"):
        validate(cfg)


def test_unknown_key_is_an_error():
    with pytest.raises(Exception, match="bogus"):
        make_config(["+market.bogus=1"])


def test_make_config_composes_groups():
    cfg = make_config(["strategy=company_wide", "seed=1", "buyers=broad"])
    assert cfg.strategy.assignment == ["company_wide"] and cfg.seed == 1
    assert cfg.buyers.needs_breadth == 0.9
