"""Notebook API: compose a validated config from Hydra overrides, and run it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from sim import experiments
from sim.config import Config, register_configs, to_config
from sim.sweep import register_resolvers

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The Hydra config node for ``overrides``, as ``python -m sim`` would build it."""
    register_configs()
    register_resolvers()
    experiments.register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    return cfg


def make_config(overrides: Sequence[str] = ()) -> Config:
    """A validated :class:`~sim.config.Config` from Hydra overrides.

    >>> cfg = make_config(["strategy=company_wide", "seed=1"])
    >>> cfg.strategy.assignment
    ['company_wide']
    """
    return to_config(compose_config(overrides))
