"""Soak test (slow; ``make soak``): 10,000 steps at 2,000 buyers, every event kind recurring.

State stays finite and in bounds at every checkpoint, RSS does not grow by
more than ``MAX_RSS_GROWTH_MB`` after warm-up, and CPU time per step does not
drift (last 1,000 steps within ``MAX_DRIFT``× of steps 1,001–2,000). The
figures are printed and written to ``benchmarks/results/soak.json``.
"""

from __future__ import annotations

import pytest

from benchmarks import soak
from sim.market import DEPARTURE_LOG


@pytest.mark.slow
def test_soak_state_memory_and_speed_stay_steady():
    result = soak.run(steps=10_000, buyers=2_000)
    print(soak.report(result))
    soak.write("soak", result)
    assert len({c["suppliers"] for c in result["checkpoints"][1:]}) == 1  # entrants in warm-up
    # random turnover on top of the events, with the log bounded
    assert result["departures"] > 10 * result["config"]["salesperson_leaves_events"]
    assert result["departure_log"] == DEPARTURE_LOG
    assert result["problems"] == []
    assert result["rss_growth_after_warmup_mb"] <= soak.MAX_RSS_GROWTH_MB
    assert result["drift_ratio"] <= soak.MAX_DRIFT
