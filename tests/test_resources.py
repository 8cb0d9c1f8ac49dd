"""Resource limits: a run that cannot fit is refused before anything is built.

The memory estimate (:mod:`sim.resources`) is checked against what a run
really takes (peak RSS of a fresh process), and the bounds on suppliers,
steps and hires say why they are there.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sim import Config, ConfigError
from sim.config import EventConfig, validate
from sim.resources import BASE_BYTES, estimate_memory, machine_memory, size
from tests.conftest import set_field


def test_a_market_too_large_for_this_machine_is_refused_with_the_estimate():
    cfg = Config()
    cfg.market.n_buyers = 1_000_000_000
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    message = str(err.value)
    assert message.startswith("market.n_buyers=1000000000 is not allowed: expected a run that "
                              "fits in memory: 1,000,000,000 buyers × 4 suppliers")
    assert f"this machine has {size(machine_memory())}" in message
    assert re.search(r"need about [\d.]+ TB", message)


def test_the_field_that_drives_the_estimate_is_named():
    cfg = Config()
    cfg.market.n_buyers, cfg.network.degree = 5_000_000, 10_000  # edges, not ties, dominate
    with pytest.raises(ConfigError, match=r"^network\.degree=10000 is not allowed"):
        validate(cfg)


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        ("market.n_suppliers", 100_000, "at 1,000 suppliers one step takes seconds"),
        ("steps", 10_000_000, "a million steps of the default market take hours"),
        ("network.degree", 20_000, "the graph holds n_buyers·degree/2 edges"),
    ],
)
def test_size_bounds_say_why(path, value, why):
    cfg = Config()
    set_field(cfg, path, value)
    with pytest.raises(ConfigError, match=re.escape(why)):
        validate(cfg)


@pytest.mark.parametrize("kind", ["hire_salespeople", "invest_integration"])
def test_an_event_cannot_hire_thousands(kind):
    """5,000 hires into 50 buyers hung (each hire splits a book among all colleagues)."""
    cfg = Config()
    cfg.market.n_buyers = 50
    cfg.scenario.events = [EventConfig(kind=kind, t=2, supplier=0, count=5_000)]
    with pytest.raises(ConfigError, match=r"scenario.events\[0\].count=5000 .*count²"):
        validate(cfg)
    cfg.scenario.events[0].count = 200
    validate(cfg)


PEAK = """
import os
from sim import Config, RelationshipModel
RelationshipModel(Config(), steps=1).run_for(1)  # every module imported, as in a real run
page = os.sysconf("SC_PAGE_SIZE")
before = int(open("/proc/self/statm").read().split()[1]) * page  # resident now
cfg = Config()
cfg.market.n_buyers, cfg.market.n_suppliers, cfg.steps = {n}, {m}, 3
model = RelationshipModel(cfg)
model.run_for(3)
model.summary()
# VmHWM is this process's own peak; ru_maxrss would also count the RSS of the parent the
# interpreter was forked from (kept across exec), e.g. a pytest worker grown to 380 MB.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
print(peak_kb * 1024 - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("n", "m"), [(20_000, 50), (60_000, 4)])
def test_the_estimate_covers_a_real_run_without_overstating_it(n, m):
    """Peak RSS of building and running a model, above the resident memory before it, vs the
    estimate (without the base)."""
    proc = subprocess.run([sys.executable, "-c", PEAK.format(n=n, m=m)], capture_output=True,
                          text=True, check=True, timeout=600)
    measured = int(proc.stdout.strip())
    cfg = Config()
    cfg.market.n_buyers, cfg.market.n_suppliers, cfg.steps = n, m, 3
    estimate = estimate_memory(cfg).total - BASE_BYTES
    assert measured <= estimate <= 2 * measured, (measured, estimate)
