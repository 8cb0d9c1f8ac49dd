"""Shared helpers: build and run a model from Hydra overrides."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sim import RelationshipModel, make_config


def run_model(overrides: Sequence[str], steps: int | None = None) -> RelationshipModel:
    """Compose a config from overrides, run it (``cfg.steps`` or ``steps``), return the model."""
    cfg = make_config(list(overrides))
    model = RelationshipModel(cfg)
    model.run_for(steps if steps is not None else cfg.steps)
    return model


def set_field(cfg: object, path: str, value: object) -> None:
    """Set a dotted field of a config dataclass, e.g. ``set_field(cfg, "market.price", 2)``."""
    *parents, leaf = path.split(".")
    node = cfg
    for p in parents:
        node = getattr(node, p)
    setattr(node, leaf, value)


@pytest.fixture
def small() -> list[str]:
    """Overrides of a small, quick market."""
    return ["market.n_buyers=150", "steps=40"]


def sweep_in_process(folder, monkeypatch, overrides: Sequence[str]) -> int:
    """Run ``python -m sim -m <overrides>`` in this process, in ``folder``; its exit code."""
    import sys

    from hydra.core.global_hydra import GlobalHydra

    import sim.__main__ as cli

    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", ["sim", "-m", *overrides, "hydra/job_logging=none",
                                      "hydra/hydra_logging=none"])
    GlobalHydra.instance().clear()
    try:
        cli.main()
    except SystemExit as exit_:
        return exit_.code
    return 0
