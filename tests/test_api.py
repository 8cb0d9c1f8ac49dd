"""make_config composes configs/ without Hydra for plain overrides, exactly as Hydra does."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from sim.api import (
    CONFIG_DIR,
    GROUPS,
    compose_config,
    compose_plain,
    config_from_plain,
    make_config,
)
from sim.config import ConfigError, to_config

OPTIONS = [f"{g}={p.stem}" for g in GROUPS for p in sorted((CONFIG_DIR / g).glob("*.yaml"))]
CASES = [
    [],
    *[[o] for o in OPTIONS],
    ["market=wkh", "buyers.choice_intensity=0.4", "seed=3"],
    ["strategy=company_wide", "market.n_buyers=500", "relationship.decay=1e-3"],
    ["engine=agent", "steps=40", "collect_every=5", "warmup_share=0.5"],
    ["market.supply_capacity=0.9", "scenario=new_entrant", "network=erdos_renyi"],
    ["market.supply_capacity=null", "buyers.needs_breadth=1", "sales.capacity=0"],
]


@pytest.mark.parametrize("overrides", CASES, ids=lambda o: " ".join(o) or "defaults")
def test_plain_composition_equals_hydra(overrides):
    plain = compose_plain(overrides)
    assert plain is not None
    # repr tells 1 from 1.0: the same values and the same types
    assert repr(asdict(config_from_plain(plain))) == repr(asdict(to_config(
        compose_config(overrides))))


@pytest.mark.parametrize("overrides", [
    *CASES[-3:], ["+experiment=sensitivity"],
    ["scenario.events=[{kind:price_war,t:3,supplier:1,severity:0.2,duration:2}]"],
], ids=lambda o: " ".join(o))
def test_config_is_built_as_omegaconf_builds_it(overrides):
    from omegaconf import OmegaConf

    from sim.config import Config, from_plain

    plain = OmegaConf.to_container(compose_config(overrides), resolve=True)
    by_omegaconf = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), plain))
    assert repr(asdict(from_plain(Config, plain))) == repr(asdict(by_omegaconf))


@pytest.mark.parametrize(("override", "field"), [
    ("steps=abc", "steps"), ("market.n_buyer=5", "market.n_buyer"),
    ("buyers.needs_breadth=2.5", "buyers.needs_breadth"),
])
def test_plain_composition_rejects_as_hydra_does(override, field):
    with pytest.raises(ConfigError, match=field):
        make_config([override])


@pytest.mark.parametrize("overrides", [
    ["+experiment=buyer_stance"], ["+lesson=f2_salesperson_leaves"],
    ["strategy.assignment=[lone_seller,hybrid]"], ["seed=${oc.env:HOME}"], ["hydra.run.dir=x"],
])
def test_what_only_hydra_reads_goes_to_hydra(overrides):
    assert compose_plain(overrides) is None


def test_make_config_falls_back_to_hydra():
    cfg = make_config(["+lesson=f2_salesperson_leaves"])
    assert cfg.scenario.name == "lesson_f2" and cfg.steps == 200


def test_import_sim_does_not_load_hydra_or_pandas():
    import subprocess
    import sys

    code = ("import sys, sim; from sim import make_config, RelationshipModel; "
            "make_config(['seed=1']); "
            "print(sorted(m for m in ('hydra', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "['pandas']"  # Mesa's DataCollector needs pandas; no Hydra
