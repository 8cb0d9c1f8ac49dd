"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

Runs one simulation (or, with ``-m``, a sweep) and writes config.yaml,
manifest.json, steps.parquet and summary.json into the Hydra run directory.
A bad value stops the run with one message naming the field, exit status 2,
and no result folder.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.api import CONFIG_DIR
from sim.config import ConfigError, register_configs, to_config
from sim.model import RelationshipModel
from sim.results import manifest, now, write_run

log = logging.getLogger("sim")
register_configs()


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(dcfg: DictConfig) -> None:
    """Validate, simulate, write the run folder."""
    out = Path(HydraConfig.get().runtime.output_dir)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        cfg = to_config(dcfg)
    except ConfigError as err:
        shutil.rmtree(out, ignore_errors=True)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    started = now()
    model = RelationshipModel(cfg)
    model.run_for(cfg.steps)
    summary = model.summary()
    write_run(
        out,
        OmegaConf.to_yaml(dcfg, resolve=True),
        model.supplier_frame(),
        summary,
        manifest(cfg.seed, started, now(), engine=cfg.engine, strategy=cfg.strategy.name),
    )
    shares = {k: round(v["market_share"], 3) for k, v in summary["strategies"].items()}
    log.info("seed %d done in %s: market share %s", cfg.seed, out, shares)


if __name__ == "__main__":
    main()
