"""Command line: ``python -m sim [group=option ...] [key=value ...]`` (Hydra).

Runs one simulation (or, with ``-m``, a sweep: e.g. ``+experiment=<name>``)
and writes config.yaml, manifest.json, steps.parquet and summary.json into
the Hydra run directory. Before Hydra makes that folder,
:class:`sim.run_folder.RunFolderCallback` validates the config and claims
the folder: a bad value stops the run with one line naming the field and
exit status 2, an unusable folder (not empty, not writable, no room) with
one line naming it and exit status 1; nothing is written either way. A run
that fails to write its results (disk full, permission lost) says so in one
line, exits with status 1 and removes what it wrote. In a sweep, a run whose
folder is already complete is skipped (resume), and a run that raises leaves
its traceback in ``error.json`` while the others go on (:mod:`sim.sweep`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig

from sim import design, experiments, run_folder
from sim.api import CONFIG_DIR, expand_calibrated
from sim.config import ConfigError, register_configs, to_config
from sim.model import RelationshipModel
from sim.results import TYPED_ARGV, config_yaml, is_complete, manifest, now, write_json, write_run
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
        if not in_sweep:  # RunFolderCallback normally stops it before the folder exists
            _give_up(f"error: {err}", 2)
        _record_failure(out, err)  # a sweep checked every cell first; this is one design row
        return
    try:
        started, cpu = now(), time.thread_time()
        model = RelationshipModel(cfg)
        model.run_for(cfg.steps)
        summary = model.summary()
        steps = model.supplier_frame()
        cpu = time.thread_time() - cpu  # this thread's CPU simulating (sweep efficiency)
        write_run(
            out,
            config_yaml(dcfg),
            steps,
            summary,
            manifest(cfg.seed, started, now(), engine=cfg.engine, strategy=cfg.strategy.name,
                     overrides=list(hc.overrides.task),
                     experiment=hc.runtime.choices.get("experiment"),
                     cpu_seconds=round(cpu, 3)),
        )
    except (OSError, MemoryError) as err:
        if in_sweep:
            _record_failure(out, err)
            return
        if isinstance(err, MemoryError):
            _give_up(f"error: out of memory in the run of {out}", 1)
        _give_up(f"error: cannot write {err.filename or out}: {err.strerror or err}", 1)
    except Exception as err:
        _record_failure(out, err)
        if not in_sweep:
            raise
        return
    (out / ERROR).unlink(missing_ok=True)
    shares = {k: round(v["market_share"], 3) for k, v in summary["strategies"].items()}
    log.info("seed %d done in %s: market share %s", cfg.seed, out, shares)


def _give_up(message: str, status: int) -> None:
    """A single run that cannot finish: remove what it wrote, print one line, exit."""
    for folder in run_folder.claimed:
        folder.release()
    print(message, file=sys.stderr)
    sys.exit(status)


def _record_failure(out: Path, err: BaseException) -> None:
    """Leave the error and its traceback in ``error.json``: the sweep manifest collects it."""
    log.error("run %s failed: %s", out, err)
    write_json(out / ERROR, {
        "error": f"{type(err).__name__}: {err}",
        "traceback": "".join(traceback.format_exception(err)),
        "finished": now().isoformat(),
    })


def check_overrides(args: list[str]) -> None:
    """Exit 2 with one line for an override Hydra cannot parse (e.g. unquoted unicode),
    or a sweep (``seed=1,2``) without ``-m``.

    Hydra's own messages are a lexer error or an "ambiguous value" over
    several lines; these name the override and what to do.
    """
    parser = OverridesParser.create()
    sweep = "-m" in args or "--multirun" in args
    for arg in args:
        if arg.startswith("-") or "=" not in arg:
            continue
        key = arg.partition("=")[0]
        try:
            override = parser.parse_overrides([arg])[0]
        except OverrideParseException:
            print(f"error: {arg!r} cannot be parsed: quote a value with spaces, unicode or "
                  f"special characters, e.g. {key}='…'", file=sys.stderr)
            sys.exit(2)
        if override.is_sweep_override() and not sweep:
            print(f"error: {arg!r} is a sweep over several values: run it with -m "
                  "(--multirun), or quote the value", file=sys.stderr)
            sys.exit(2)


#: Options of a sweep's batching as top-level keys (any launcher), and the keys of the
#: ``cells`` sweeper (``hydra_plugins/sim_sweeper``) that they set.
SWEEP_OPTIONS = {"sweep.runs_per_task": "hydra.sweeper.runs_per_task",
                 "sweep.max_array": "hydra.sweeper.max_array"}


def sweep_options(args: list[str]) -> list[str]:
    """``args`` with ``sweep.runs_per_task=K`` and ``sweep.max_array=N`` spelled as the
    sweeper's own keys (``hydra.sweeper.…``), which Hydra knows; anything else unchanged."""
    out = []
    for arg in args:
        key, sep, value = arg.partition("=")
        out.append(f"{SWEEP_OPTIONS[key]}={value}" if sep and key in SWEEP_OPTIONS else arg)
    return out


def cli() -> None:
    """``python -m sim``: check the overrides, then let Hydra run.

    ``+calibrated=PATH`` becomes the file's ``key=value`` overrides
    (:func:`sim.api.expand_calibrated`), and ``sweep.runs_per_task`` and
    ``sweep.max_array`` become the sweeper's keys first
    (:func:`sweep_options`; manifests and the resume command keep the command as typed).
    Hydra's own composition errors (an unknown group option, an unknown key
    without ``+``, a key added twice) become one line and exit status 2, like
    a bad value: Hydra is asked to raise them (``HYDRA_FULL_ERROR``) instead
    of printing its several lines.
    """
    typed = list(sys.argv)
    try:
        sys.argv[1:] = sweep_options(expand_calibrated(sys.argv[1:]))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    TYPED_ARGV[tuple(sys.argv)] = typed
    check_overrides(sys.argv[1:])
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    try:
        main()
    except (ConfigCompositionException, OverrideParseException) as err:
        text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        print(f"error: {text.split(' Config search path:')[0]}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    cli()
