"""Agent-based simulation of buyer–seller relationships: lone seller vs company-wide.

Public API::

    from sim import make_config, RelationshipModel
    cfg = make_config(["strategy=company_wide", "seed=1"])
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    model.summary()
"""

from sim.api import make_config
from sim.config import Config, ConfigError
from sim.model import RelationshipModel
from sim.results import ResultsError, load_results, load_steps

__all__ = [
    "Config",
    "ConfigError",
    "RelationshipModel",
    "ResultsError",
    "load_steps",
    "load_results",
    "make_config",
]
