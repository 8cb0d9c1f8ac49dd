"""One simulated run of a candidate: every outcome a target can name, from one model run.

The run is the config of the candidate's overrides at one seed. Strategy and
market outcomes are its ``summary.json`` entries (means over the summary
window, the last ``1 − warmup_share`` of the steps); F7's measures come from
the buyers' procurement books over the same window
(:func:`sim.validate.facts.f7_measures`). Every candidate runs on the same
seeds (common random numbers), so differences between candidates are the
parameters' effect, not the draws'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.calibrate.targets import Target


def simulate(overrides: tuple[str, ...], seed: int, targets: Sequence[Target]) -> list[float]:
    """The targets' outcomes (NaN where the run has none) of one run at ``seed``.

    A candidate whose config breaks a relation between fields (e.g. the τ
    slope above τ(0), :func:`sim.config.validate`) has no outcomes: all NaN,
    so the search scores it as infeasible.
    """
    import logging

    from sim.api import make_config
    from sim.config import ConfigError
    from sim.model import RelationshipModel
    from sim.validate.facts import f7_measures

    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        cfg = make_config([*overrides, f"seed={seed}"])
    except ConfigError:
        return [math.nan] * len(targets)
    model = RelationshipModel(cfg)
    start = int(math.floor(cfg.warmup_share * cfg.steps))
    model.run_for(start)
    books = model.market.procurement.copy()
    model.run_for(cfg.steps - start)
    summary = model.summary()
    f7 = (f7_measures(model.market.procurement.since(books))
          if any(t.group == "F7" for t in targets) else {})
    values = []
    for target in targets:
        head, tail = target.key
        if head == "F7":
            value = f7[tail]
        elif head == "market":
            value = summary["market"].get(tail)
        else:
            value = summary["strategies"].get(head, {}).get(tail)
        values.append(math.nan if value is None else float(value))
    return values
