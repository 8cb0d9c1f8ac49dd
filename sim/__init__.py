"""Agent-based simulation of buyer–seller relationships: lone seller vs company-wide.

Public API::

    from sim import RelationshipModel
    model = RelationshipModel(n_buyers=500, strategy="company_wide", steps=50, seed=1)
    model.run_model()
    model.summary()

or from Hydra-style overrides: ``RelationshipModel(make_config(["strategy=company_wide"]))``.
Names are imported on first use, so that ``import sim`` stays cheap.
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "Config": "sim.config",
    "ConfigError": "sim.config",
    "RelationshipModel": "sim.model",
    "ResultsError": "sim.results",
    "load_results": "sim.results",
    "load_steps": "sim.results",
    "make_config": "sim.api",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
