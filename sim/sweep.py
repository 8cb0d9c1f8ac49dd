"""Sweeps that resume: the sweep folder, its ``sweep.json`` manifest, progress, the final report.

A sweep (``python -m sim -m …``, e.g. ``+experiment=<name>``) writes one
folder per run, named by the run's overrides (``hydra.job.override_dirname``),
into ``results/<name>/<timestamp>/``. Three pieces make it resumable:

- the resolver ``${sweep_dir:<name>}`` picks the folder: the newest
  ``results/<name>/*/`` whose ``sweep.json`` records the *same command*
  (the same overrides) and is not complete, else a new timestamped one;
- ``sim.__main__`` skips a run whose folder already holds a complete manifest;
- :class:`SweepCallback` (a Hydra callback) checks every cell's config before
  anything runs (so the sweeper ``hydra/sweeper=cells`` can skip Hydra's own
  serial check of every job), writes ``sweep.json`` (command, total, status, failed runs
  with their tracebacks), shows a progress bar, and at the end aggregates the
  runs with :func:`sim.report.report` and the experiment's own analysis. If
  some runs failed, the process exits with status 1 after the others finish.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from hydra import compose
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from tqdm import tqdm

from sim import design
from sim.config import ConfigError, to_config
from sim.results import git_commit, is_complete, now, override_key, versions, write_json

log = logging.getLogger("sim")

MANIFEST = "sweep.json"
ERROR = "error.json"
RESULTS = Path("results")
#: Loggers of Hydra's launchers, which list every job at INFO (the progress bar replaces them).
LAUNCHER_LOGGERS = ("hydra_plugins", "hydra._internal.core_plugins")
#: Overrides that do not change what is computed per cell (left out of cell checks).
PER_RUN_KEYS = ("seed", "design.row")


def command_key(overrides: list[str]) -> str:
    """A short hash that identifies a sweep command by its (sorted) overrides."""
    return hashlib.sha256("\n".join(sorted(overrides)).encode()).hexdigest()[:16]


def sweep_dir(name: str, *, _root_: DictConfig) -> str:
    """``${sweep_dir:<name>}``: the unfinished sweep of the same command, or a new folder.

    The launching process decides once; :meth:`SweepCallback.on_multirun_start`
    then pins the choice as a Hydra override of every job.
    """
    key = command_key(list(_root_.hydra.overrides.task))
    root = RESULTS / name
    for manifest in sorted(root.glob(f"*/{MANIFEST}"), reverse=True):
        info = _read(manifest)
        if info.get("key") == key and info.get("status") != "complete":
            return str(manifest.parent)
    return str(root / now().strftime("%Y-%m-%d_%H-%M-%S"))


def register_resolvers() -> None:
    """Register ``${sweep_dir:…}`` and ``${design_rows:…}`` (idempotent)."""
    if not OmegaConf.has_resolver("sweep_dir"):
        OmegaConf.register_new_resolver("sweep_dir", sweep_dir)
    if not OmegaConf.has_resolver("design_rows"):
        OmegaConf.register_new_resolver("design_rows", design.rows)


def job_overrides(config: DictConfig) -> list[list[str]] | None:
    """Each job's overrides, as Hydra's basic sweeper (or ours, ``hydra/sweeper=cells``, which
    extends it) will launch them; None for other sweepers (e.g. Optuna)."""
    # by name: Hydra's plugin scan may load a second copy of the BasicSweeper class
    if "BasicSweeper" not in {c.__name__ for c in get_class(config.hydra.sweeper._target_).mro()}:
        return None
    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
    overrides = OverridesParser.create().parse_overrides(arguments)
    return [job for batch in BasicSweeper.split_arguments(overrides, None) for job in batch]


def check_cells(jobs: list[list[str]]) -> None:
    """Compose and validate one job per cell (seeds and design rows share a cell's validity).

    Raises :class:`~sim.config.ConfigError` for the first bad cell.
    """
    seen: set[tuple[str, ...]] = set()
    for job in jobs:
        cell = tuple(o for o in job if override_key(o) not in PER_RUN_KEYS)
        if cell in seen:
            continue
        seen.add(cell)
        to_config(design.apply(compose(config_name="config", overrides=job)))


class Progress:
    """A progress bar of runs done (complete or failed) in a sweep folder, polled each second."""

    def __init__(self, folder: Path, total: int | None, desc: str) -> None:
        self.folder = folder
        self.started = now().timestamp()
        self.bar = tqdm(total=total, initial=self._done(), desc=desc, unit="run",
                        dynamic_ncols=True, file=sys.stderr)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _done(self) -> int:
        done = 0
        for run in _subdirs(self.folder):
            error = run / ERROR
            if is_complete(run) or (error.is_file() and error.stat().st_mtime >= self.started):
                done += 1
        return done

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            self.bar.update(self._done() - self.bar.n)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.bar.update(self._done() - self.bar.n)
        self.bar.close()


def status(folder: Path, total: int | None) -> dict[str, Any]:
    """Runs of a sweep folder by state: complete, failed (with tracebacks), missing."""
    complete, failed = [], []
    for run in _subdirs(folder):
        if is_complete(run):
            complete.append(run.name)
        elif (run / ERROR).is_file():
            failed.append({"run": run.name, **_read(run / ERROR)})
    missing = None if total is None else max(total - len(complete) - len(failed), 0)
    state = "failed" if failed else "incomplete" if missing else "complete"
    return {"status": state, "total": total, "complete": len(complete), "failed": failed,
            "missing": missing}


#: The launching process's progress bar (kept off the callback: Hydra pickles its callbacks
#: into every job, and a thread cannot be pickled).
_progress: list[Progress] = []


class SweepCallback(Callback):
    """Hydra callback of every sweep: check, manifest, progress bar, final report."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.info: dict[str, Any] = {}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        jobs = job_overrides(config)
        try:
            if jobs is not None:
                check_cells(jobs)
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        folder = Path(config.hydra.sweep.dir)
        _pin(config, [f"hydra.sweep.dir={folder}", "++hydra.job_logging.root.level=WARNING"])
        for name in LAUNCHER_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        self.total = None if jobs is None else len(jobs)
        command = list(config.hydra.overrides.task)
        previous = _read(folder / MANIFEST)
        self.info = {
            "name": folder.parent.name,
            "command": command,
            "key": command_key(command),
            "experiment": config.hydra.runtime.choices.get("experiment"),
            "launcher": config.hydra.launcher.get("_target_"),
            "created": previous.get("created", now().isoformat()),
            "attempts": previous.get("attempts", 0) + 1,
            "git_commit": git_commit(),
            "versions": versions(),
        }
        if previous and previous.get("git_commit") != self.info["git_commit"]:
            log.warning("resuming %s, started at commit %s, now at %s", folder,
                        previous.get("git_commit"), self.info["git_commit"])
        self._write(folder, {"status": "running", "total": self.total})
        done = sum(1 for run in _subdirs(folder) if is_complete(run))
        print(f"sweep {folder}: {self.total or '?'} runs, {done} already complete",
              file=sys.stderr)
        _progress.append(Progress(folder, self.total, self.info["experiment"] or "sweep"))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        folder = Path(config.hydra.sweep.dir)
        while _progress:
            _progress.pop().close()
        state = status(folder, self.total)
        self._write(folder, state)
        failed = bool(state["failed"])
        if failed:
            names = ", ".join(f["run"] for f in state["failed"][:5])
            more = ", …" if len(state["failed"]) > 5 else ""
            print(f"error: {len(state['failed'])} of {self.total} runs failed ({names}{more}); "
                  f"tracebacks in {folder / MANIFEST}; re-run the command to retry them",
                  file=sys.stderr)
        if state["complete"]:
            from sim.report import report_sweep

            try:
                report_sweep(folder, self.info.get("experiment"))
                print(f"report: {folder / 'report.md'}", file=sys.stderr)
            except Exception:  # Hydra would turn it into a warning and exit 0
                print(f"error: the report of {folder} failed:\n{traceback.format_exc()}",
                      file=sys.stderr)
                failed = True
        if failed:
            sys.exit(1)

    def _write(self, folder: Path, state: dict[str, Any]) -> None:
        write_json(folder / MANIFEST, {**self.info, **state, "updated": now().isoformat()})


def _pin(config: DictConfig, overrides: list[str]) -> None:
    """Add Hydra overrides to the launching config, so every job's config gets them.

    Each job's config is composed again from ``hydra.overrides.hydra`` plus
    its own overrides (``ConfigLoader.load_sweep_config``), on any launcher.
    """
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.overrides.hydra.extend(overrides)
        for item in overrides:
            key, _, value = item.partition("=")
            OmegaConf.update(config, key.lstrip("+"), value, force_add=True)


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def _read(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
