"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

Runs one simulation (or, with ``-m``, a sweep: e.g. ``+experiment=<name>``)
and writes config.yaml, manifest.json, steps.parquet and summary.json into
the Hydra run directory. A bad value stops the run with one message naming
the field, exit status 2, and no result folder. In a sweep, a run whose
folder is already complete is skipped (resume), and a run that raises leaves
its traceback in ``error.json`` while the others go on (:mod:`sim.sweep`).
"""

from __future__ import annotations

import logging
import shutil
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim import design, experiments
from sim.api import CONFIG_DIR
from sim.config import ConfigError, register_configs, to_config
from sim.model import RelationshipModel
from sim.results import is_complete, manifest, now, write_json, write_run
from sim.sweep import ERROR, register_resolvers

log = logging.getLogger("sim")
register_configs()
register_resolvers()
experiments.register()


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(dcfg: DictConfig) -> None:
    """Validate, simulate, write the run folder."""
    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    in_sweep = hc.mode == RunMode.MULTIRUN
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    if in_sweep and is_complete(out):
        log.info("%s is complete: skipped", out)
        return
    try:
        dcfg = design.apply(dcfg)
        cfg = to_config(dcfg)
    except ConfigError as err:
        if in_sweep:  # the sweep checked every cell first; this is one design row
            _record_failure(out, err)
            return
        shutil.rmtree(out, ignore_errors=True)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        started = now()
        model = RelationshipModel(cfg)
        model.run_for(cfg.steps)
        summary = model.summary()
        write_run(
            out,
            OmegaConf.to_yaml(dcfg, resolve=True),
            model.supplier_frame(),
            summary,
            manifest(cfg.seed, started, now(), engine=cfg.engine, strategy=cfg.strategy.name,
                     overrides=list(hc.overrides.task),
                     experiment=hc.runtime.choices.get("experiment")),
        )
    except Exception as err:
        _record_failure(out, err)
        if not in_sweep:
            raise
        return
    (out / ERROR).unlink(missing_ok=True)
    shares = {k: round(v["market_share"], 3) for k, v in summary["strategies"].items()}
    log.info("seed %d done in %s: market share %s", cfg.seed, out, shares)


def _record_failure(out: Path, err: BaseException) -> None:
    """Leave the error and its traceback in ``error.json``: the sweep manifest collects it."""
    log.error("run %s failed: %s", out, err)
    write_json(out / ERROR, {
        "error": f"{type(err).__name__}: {err}",
        "traceback": "".join(traceback.format_exception(err)),
        "finished": now().isoformat(),
    })


if __name__ == "__main__":
    main()
