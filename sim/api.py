"""Configs from Python: overrides, keyword parameters, or a ready config, validated once.

:func:`make_config` composes ``configs/`` as ``python -m sim`` does. Plain
overrides (``group=option``, ``dotted.key=value``) are composed directly from
the YAML files, without starting Hydra (a tenth of the time); anything else
(``+key``, ``~key``, experiments, sweeps' interpolations) goes through Hydra's
own ``compose``. Both give the same config (``tests/test_api.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from copy import deepcopy
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from sim.config import Config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"

#: Keyword parameters of :class:`~sim.model.RelationshipModel` (Mesa style) and the config
#: key or group each one sets; any other key goes in ``overrides=[...]``.
PARAMETERS: dict[str, str] = {
    "n_buyers": "market.n_buyers",
    "n_suppliers": "market.n_suppliers",
    "needs_breadth": "buyers.needs_breadth",
    "adversarial_share": "buyers.adversarial_share",
    "departure_hazard": "sales.departure_hazard",
    "steps": "steps",
    "engine": "engine",
    "collect_every": "collect_every",
    "strategy": "strategy",  # a group: lone_seller, company_wide, mixed, hybrid, three_way
    "market": "market",
    "buyers": "buyers",
    "network": "network",
    "scenario": "scenario",
    "adaptation": "adaptation",  # a group: none, reinforcement, imitation
}
#: "no seed given": the config's seed stands
KEEP: Any = object()
#: the config groups, in the defaults' order
GROUPS = ("strategy", "buyers", "network", "adaptation", "scenario", "market")

_PLAIN_KEY = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")
_NUMBER = re.compile(r"[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|nan)",
                     re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_][\w\-]*")


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The Hydra config node for ``overrides``, as ``python -m sim`` would build it."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim import experiments
    from sim.config import register_configs
    from sim.sweep import register_resolvers

    register_configs()
    register_resolvers()
    experiments.register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])


def make_config(overrides: Sequence[str] = ()) -> Config:
    """A validated :class:`~sim.config.Config` from Hydra-style overrides.

    >>> cfg = make_config(["strategy=company_wide", "seed=1"])
    >>> cfg.strategy.assignment
    ['company_wide']
    """
    from sim.config import to_config

    overrides = expand_calibrated(overrides)
    plain = compose_plain(overrides)
    if plain is None:
        return to_config(compose_config(overrides))
    return config_from_plain(plain)


def model_config(
    cfg: Any, overrides: Sequence[str], seed: Any, params: Mapping[str, Any]
) -> Config:
    """The config of a :class:`~sim.model.RelationshipModel` built from its arguments.

    ``cfg`` (a Config, an OmegaConf node, or None for the defaults) comes
    first, then ``params`` (:data:`PARAMETERS`), then ``overrides``, then
    ``seed``: :data:`KEEP` keeps the config's seed; None (Mesa's "any seed",
    as ``batch_run`` passes it) draws one, recorded in the config.
    """
    from dataclasses import asdict

    from sim.config import Config, ConfigError, to_config

    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ConfigError(f"RelationshipModel: unknown parameter {unknown[0]!r}; allowed: "
                          f"{', '.join(PARAMETERS)}, overrides=[...], seed, rng, agents_every")
    extra = [f"{PARAMETERS[k]}={_literal(v)}" for k, v in params.items()]
    extra += expand_calibrated(overrides)
    if seed is None:
        seed = draw_seed()
    if seed is not KEEP:
        if isinstance(seed, bool) or not hasattr(seed, "__index__"):
            raise ConfigError(f"seed: {seed!r} is not allowed: expected an integer")
        extra.append(f"seed={int(seed)}")
    if cfg is None:
        return make_config(extra)
    base = cfg if isinstance(cfg, Config) else to_config(cfg)
    if not extra:
        return to_config(base)
    plain = compose_plain(extra, base=asdict(base))
    if plain is None:
        raise ConfigError(f"overrides {list(overrides)}: with a ready config only plain "
                          "'key=value' and 'group=option' overrides are allowed")
    return config_from_plain(plain)


#: ``+calibrated=PATH`` (or ``calibrated=PATH``): the overrides of a calibrated.yaml file
CALIBRATED = "calibrated"


def expand_calibrated(overrides: Sequence[str]) -> list[str]:
    """``overrides`` with each ``+calibrated=PATH`` replaced by the file's ``key=value`` items.

    ``PATH`` is a YAML mapping of config keys to values, nested
    (``relationship: {decay: 0.03}``) or dotted (``relationship.decay: 0.03``),
    as ``python -m sim.calibrate`` writes it (``calibrated.yaml``). Its items
    take the place of the argument, so overrides after it still win.
    """
    from sim.config import ConfigError

    out: list[str] = []
    for override in overrides:
        key, sep, path = override.partition("=")
        if not sep or key.lstrip("+") != CALIBRATED:
            out.append(override)
            continue
        file = Path(path)
        try:
            node = yaml.safe_load(file.read_text())
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"{override}: cannot read {file}: "
                              f"{getattr(err, 'strerror', None) or err}") from None
        if not isinstance(node, Mapping) or not node:
            raise ConfigError(f"{override}: {file} is not allowed: expected a YAML mapping of "
                              "config keys to values (a calibrated.yaml)")
        out += [f"{k}={_literal(v)}" for k, v in _flatten(node)]
    return out


def _flatten(node: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) pairs of a nested mapping; lists are values."""
    items: list[tuple[str, Any]] = []
    for key, value in node.items():
        if isinstance(value, Mapping):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def config_from_plain(plain: dict[str, Any]) -> Config:
    """The validated :class:`~sim.config.Config` of a plain dict, as OmegaConf would build it.

    Keys and types are checked first (one :class:`~sim.config.ConfigError`
    naming the field), integers become floats where a number is expected,
    then every value is validated.
    """
    from sim.config import Config, _check_plain, from_plain, validate

    _check_plain(plain, Config, "")
    return validate(from_plain(Config, plain))


def draw_seed() -> int:
    """A fresh seed from the operating system's entropy (for a run asked for "any seed")."""
    import numpy as np

    return int(np.random.SeedSequence().generate_state(1)[0])


# ------------------------------------------------------------------ composition without Hydra


def compose_plain(
    overrides: Sequence[str], base: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """``configs/`` composed as Hydra does, or None when an override needs Hydra itself.

    With ``base`` (a config as a dict), only the groups named in
    ``overrides`` are merged into it, then the key overrides.
    """
    from dataclasses import asdict

    from sim.config import Config

    groups, assignments = {}, []
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not _PLAIN_KEY.fullmatch(key) or key.startswith("hydra."):
            return None
        value = _parse(text)
        if value is _HYDRA:
            return None
        if key in GROUPS:
            if not isinstance(value, str) or not (CONFIG_DIR / key / f"{value}.yaml").is_file():
                return None
            groups[key] = value
        else:
            assignments.append((key.split("."), value))
    root = _yaml(CONFIG_DIR / "config.yaml")[0]
    if base is None:
        config = asdict(Config())
        chosen = {k: v for item in root["defaults"] if isinstance(item, dict)
                  for k, v in item.items() if k in GROUPS}
        load = [(g, groups.get(g, chosen[g])) for g in GROUPS]
    else:
        config = deepcopy(base)
        load = [(g, groups[g]) for g in GROUPS if g in groups]
    for group, option in load:
        node, is_global = _yaml(CONFIG_DIR / group / f"{option}.yaml")
        _merge(config, node if is_global else {group: node})
    if base is None:
        _merge(config, {k: v for k, v in root.items() if k not in ("defaults", "hydra")})
    for path, value in assignments:
        node = config
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return None
        node[path[-1]] = value
    return config


class _Hydra:
    """Marker: a value only Hydra's grammar can read."""


_HYDRA = _Hydra()


def _parse(text: str) -> Any:
    """A value as Hydra's override grammar reads the simple cases; else the marker."""
    if _NUMBER.fullmatch(text):
        clean = text.replace("_", "")
        try:
            return int(clean)
        except ValueError:
            return float(clean)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if _WORD.fullmatch(text):
        return text
    return _HYDRA


def _yaml(path: Path) -> tuple[dict[str, Any], bool]:
    """A config file's content (a fresh copy) and whether it is in the global package."""
    node, is_global = _read_yaml(path)
    return deepcopy(node), is_global


@cache
def _read_yaml(path: Path) -> tuple[dict[str, Any], bool]:
    text = path.read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader) or {}, "# @package _global_" in text


def _merge(into: dict[str, Any], node: Mapping[str, Any]) -> None:
    """Merge ``node`` into ``into`` (dicts recursively; other values, lists included, replace)."""
    for key, value in node.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _literal(value: Any) -> str:
    """A Python value as an override's value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value.item() if hasattr(value, "item") else value)
