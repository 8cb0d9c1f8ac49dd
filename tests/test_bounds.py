"""Every accepted value keeps every outcome finite: each numeric field at its bounds.

Each numeric field of the config declares its bounds next to it
(``metadata["bounds"]``, :mod:`sim.constraints`). Here every such field is
set to its smallest and to its largest accepted value (the nearest float
inside an open end), one at a time, in a small market (30 buyers, 6 steps),
and the run must keep every tie variable finite, write no infinite value
into its steps table, keep the books (profit, revenue, cost, buyer value)
finite, and give a summary (with its CLV from the window means) that JSON
can write without NaN or inf.

The size fields (buyers, suppliers, steps, degree, …) are swept over the
sizes a small run allows; their upper bounds are about memory and time and
are tested in ``tests/test_resources.py``. The default suite runs the fields
whose bounds come from float32 arithmetic (:data:`ARITHMETIC`); ``-m slow``
(CI) runs every field and every event field.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import pytest

from sim import Config, RelationshipModel
from sim.config import EVENT_KINDS, EventConfig, validate
from sim.constraints import Interval
from tests.conftest import set_field

SMALL = {"market.n_buyers": 30, "steps": 6}
#: the size of the small run, or bounded by it: at most these values here
SMALL_MAX = {"market.n_buyers": 30, "market.n_suppliers": 12, "steps": 6, "collect_every": 6,
             "network.degree": 10_000, "sales.accounts_per_salesperson": 30}
BOOKS = ("profit", "revenue", "cost", "buyer_value", "buyer_cost", "price", "health")


def numeric_fields(node: Any, prefix: str = "") -> list[tuple[str, Interval]]:
    """(dotted path, interval) of every numeric field with declared bounds, recursively."""
    out = []
    for f in fields(node):
        value = getattr(node, f.name)
        if is_dataclass(value):
            out += numeric_fields(value, f"{prefix}{f.name}.")
        elif isinstance(f.metadata.get("bounds"), Interval):
            out.append((f"{prefix}{f.name}", f.metadata["bounds"]))
    return out


def ends(bounds: Interval) -> list[float]:
    """The smallest and the largest accepted value (only the smallest if there is no largest)."""
    lo = math.nextafter(bounds.lo, math.inf) if bounds.open_lo else bounds.lo
    hi = math.nextafter(bounds.hi, -math.inf) if bounds.open_hi else bounds.hi
    if math.isinf(hi):
        return [int(math.ceil(lo))] if bounds.integer else [float(lo)]
    if bounds.integer:
        return [int(math.ceil(lo)), int(math.floor(hi))]
    return [float(lo), float(hi)]


def small_config() -> Config:
    cfg = Config()
    for path, value in SMALL.items():
        set_field(cfg, path, value)
    return cfg


def assert_finite_run(cfg: Config) -> None:
    """Run ``cfg`` and check every outcome (see the module docstring)."""
    model = RelationshipModel(validate(cfg))
    model.run_for(cfg.steps)
    for name in ("trust", "satisfaction", "commitment", "dependency", "loyalty_person",
                 "loyalty_firm", "expectation", "knowledge", "wallet", "grievance"):
        assert np.isfinite(getattr(model.ties, name)).all(), name
    frame = model.supplier_frame()
    numbers = frame.select_dtypes("number")
    assert not np.isinf(numbers.to_numpy()).any()
    assert np.isfinite(frame[list(BOOKS)].to_numpy()).all()
    json.dumps(model.summary(), allow_nan=False)


#: bounds derived from float32 arithmetic: in the default suite; the others with -m slow
ARITHMETIC = ("buyers.choice_intensity", "market.value_per_quality", "buyers.volume_sigma",
              "market.discount_rate", "buyers.breadth_volume_elasticity", "buyers.memory",
              "buyers.price_sensitivity", "buyers.adversarial_price_factor", "market.price",
              "strategy.lone_seller.price_factor", "sales.contact_bond",
              "buyers.needs_concentration")


def _case(path: str, value: float) -> Any:
    marks = () if path in ARITHMETIC else pytest.mark.slow
    return pytest.param(path, value, id=f"{path}={value}", marks=marks)


CASES = [
    _case(path, value)
    for path, bounds in numeric_fields(Config())
    for value in ends(bounds)
    if path not in SMALL_MAX or value <= SMALL_MAX[path]
] + [_case(path, SMALL_MAX[path]) for path in SMALL_MAX]


def test_every_numeric_field_declares_its_bounds():
    declared = {path for path, _ in numeric_fields(Config())}
    numeric = {path for path, _ in _leaves(Config()) if path.split(".")[0] != "design"}
    assert numeric == declared


def _leaves(node: Any, prefix: str = ""):
    for f in fields(node):
        value = getattr(node, f.name)
        if is_dataclass(value):
            yield from _leaves(value, f"{prefix}{f.name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool) \
                or f.name == "supply_capacity":
            yield f"{prefix}{f.name}", value


@pytest.mark.parametrize(("path", "value"), CASES)
def test_a_field_at_its_bound_keeps_every_outcome_finite(path, value):
    cfg = small_config()
    set_field(cfg, path, value)
    if path == "collect_every":
        cfg.steps = max(cfg.steps, value)
    rel = cfg.relationship  # τ(1) = τ(0) − slope must stay ≥ 0
    if path == "relationship.tc_at_zero_trust":
        rel.tc_trust_slope = min(rel.tc_trust_slope, value)
    if path == "relationship.tc_trust_slope":
        rel.tc_at_zero_trust = max(rel.tc_at_zero_trust, value)
    assert_finite_run(cfg)


def _event_cases():
    """Each event kind with each of its numeric fields at the bounds a 6-step run allows."""
    m = Config().market.n_suppliers
    values = {"t": [1, 6], "supplier": [0, m - 1], "target": [-1, m - 1], "salesperson": [-1, 0],
              "severity": [0.0, 1.0], "duration": [1, 1_000_000], "count": [1, 200],
              "cost": [0.0, 1e6]}
    for kind in EVENT_KINDS:
        for name, ends_ in values.items():
            for value in ends_:
                yield pytest.param(kind, name, value, id=f"{kind}.{name}={value}",
                                   marks=pytest.mark.slow)


@pytest.mark.parametrize(("kind", "name", "value"), list(_event_cases()))
def test_an_event_field_at_its_bound_keeps_every_outcome_finite(kind, name, value):
    cfg = small_config()
    event = EventConfig(kind=kind, t=2, supplier=1)
    setattr(event, name, value)
    if name == "target" and value == event.supplier:
        event.supplier = 0
    cfg.scenario.events = [event]
    assert_finite_run(cfg)


@pytest.mark.parametrize(
    ("path", "value"),
    [("buyers.choice_intensity", 1e38), ("market.value_per_quality", 1e38),
     ("buyers.volume_sigma", 50.0), ("market.discount_rate", 1e-16),
     ("market.noise", math.inf), ("buyers.memory", math.nan)],
)
def test_values_that_broke_the_arithmetic_are_refused(path, value):
    """Each of these once gave inf or NaN outcomes; now the message says what is allowed."""
    cfg = small_config()
    set_field(cfg, path, value)
    allowed = r"is not allowed: expected a finite number in [\[(]"
    with pytest.raises(ValueError, match=allowed) as err:
        validate(cfg)
    assert "inf]" not in str(err.value)
