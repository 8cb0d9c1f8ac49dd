"""Sweeps that resume: the sweep folder, its ``sweep.json`` manifest, progress, the final report.

A sweep (``python -m sim -m …``, e.g. ``+experiment=<name>``) writes one
folder per run, named by a short hash of the run's overrides
(:func:`sim.tasks.run_name`; the parameters are in its manifest and its data),
into ``results/<name>/<timestamp>_<command hash>/`` (an absolute path, unique
per command even within one second). Four pieces make it resumable:

- the resolver ``${sweep_dir:<name>}`` picks the folder: the newest
  ``results/<name>/*/`` whose ``sweep.json`` records the *same command*
  (the same overrides) and is not complete, else a new one;
- the sweeper ``hydra/sweeper=cells`` (``hydra_plugins/sim_sweeper``) drops
  complete runs and runs still queued in SLURM before submitting, batches the
  rest into tasks, and records lost tasks (:mod:`sim.tasks`);
- ``sim.__main__`` skips a run whose folder already holds a complete manifest;
- :class:`SweepCallback` (a Hydra callback) checks every cell's config before
  anything runs, writes ``sweep.json`` (command, total, status, failed runs
  with their errors), shows a progress bar, and at the end aggregates the
  runs with :func:`sim.report.report` and the experiment's own analysis. If
  some runs failed or are missing, the process exits with status 1 after the
  others finish; interrupted (SIGTERM, Ctrl-C), the sweep is marked
  "interrupted" with the command that resumes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra import compose
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from tqdm import tqdm

from sim import design, tasks
from sim.config import ConfigError, to_config
from sim.results import (
    command_line,
    git_commit,
    is_complete,
    now,
    override_key,
    versions,
    write_json,
)

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
    root = (RESULTS / name).absolute()
    for manifest in sorted(root.glob(f"*/{MANIFEST}"), reverse=True):
        info = _read(manifest)
        if info.get("key") == key and info.get("status") != "complete":
            return str(manifest.parent)
    return str(root / f"{now().strftime('%Y-%m-%d_%H-%M-%S')}_{key[:6]}")


def run_dirname(override_dirname: str) -> str:
    """``${run_dirname:${hydra.job.override_dirname}}``: a run folder's short name (sweepers
    other than ``cells``, which names runs itself with :func:`sim.tasks.run_name`)."""
    return tasks.run_name(override_dirname.split(","))


def register_resolvers() -> None:
    """Register ``${sweep_dir:…}``, ``${run_dirname:…}`` and ``${design_rows:…}`` (idempotent)."""
    if not OmegaConf.has_resolver("sweep_dir"):
        OmegaConf.register_new_resolver("sweep_dir", sweep_dir)
    if not OmegaConf.has_resolver("run_dirname"):
        OmegaConf.register_new_resolver("run_dirname", run_dirname)
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
    """A progress bar of runs done (complete or failed) in a sweep folder.

    Once the sweeper has said which runs it launched (:meth:`watch`), a poll
    looks only at runs not yet done, and only for a file's existence: a run
    is done when its ``manifest.json`` (written last, atomically) exists, or
    an ``error.json`` newer than the sweep's start. Polls are spaced at least
    50 times their own duration apart (and at least a second), so that on a
    cluster file system the bar costs at most 2% of a metadata server's time.
    """

    def __init__(self, folder: Path, total: int | None, desc: str) -> None:
        self.folder = folder
        self.started = now().timestamp()
        self.names: list[str] | None = None
        self.done: set[str] = set()
        self.bar = tqdm(total=total, initial=self._done(), desc=desc, unit="run",
                        dynamic_ncols=True, file=sys.stderr)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def watch(self, names: Sequence[str]) -> None:
        """Poll only these runs from now on."""
        self.names = list(names)

    def _done(self) -> int:
        if self.names is None:
            return sum(1 for run in _subdirs(self.folder) if self._is_done(run.name))
        for name in self.names:
            if name not in self.done and (name in _lost or self._is_done(name)):
                self.done.add(name)
        return len(self.done)

    def _is_done(self, name: str) -> bool:
        run = os.path.join(self.folder, name)  # strings, not Paths: 10,000 runs a poll
        if os.path.exists(os.path.join(run, "manifest.json")):
            return True
        try:
            return os.stat(os.path.join(run, ERROR)).st_mtime >= self.started
        except OSError:
            return False

    def _poll(self) -> None:
        pause = 1.0
        while not self._stop.wait(pause):
            tic = time.perf_counter()
            self.bar.update(self._done() - self.bar.n)
            pause = max(1.0, 50 * (time.perf_counter() - tic))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.bar.update(self._done() - self.bar.n)
        self.bar.close()


def status(folder: Path, total: int | None) -> dict[str, Any]:
    """Runs of a sweep folder by state: complete, failed (with their errors), missing.

    Failures are read from the runs' ``error.json`` and, for runs whose error
    could not be written or whose task was lost, from :func:`record_lost`.
    """
    complete, failed = [], []
    for run in _subdirs(folder):
        if is_complete(run):
            complete.append(run.name)
        elif (run / ERROR).is_file():
            failed.append({"run": run.name, **_read(run / ERROR)})
    done = set(complete) | {f["run"] for f in failed}
    failed += [{"run": name, "error": reason.strip().splitlines()[-1], "traceback": reason}
               for name, reason in sorted(_lost.items()) if name not in done]
    missing = None if total is None else max(total - len(complete) - len(failed), 0)
    state = "failed" if failed else "incomplete" if missing else "complete"
    return {"status": state, "total": total, "complete": len(complete), "failed": failed,
            "missing": missing}


#: The launching process's progress bar and sweep callback (kept off the callback: Hydra
#: pickles its callbacks into every job, and a thread cannot be pickled).
_progress: list[Progress] = []
_callbacks: list[SweepCallback] = []
#: Runs that failed without an ``error.json`` (it could not be written, or the task was
#: lost): run name → error, recorded by the sweeper in the launching process.
_lost: dict[str, str] = {}


def watch(runs: Sequence[tasks.Run]) -> None:
    """The sweeper's plan: the progress bar polls only these runs."""
    for progress in _progress:
        progress.watch([run.name for run in runs])


def attempt() -> int:
    """The number of this attempt at the current sweep (1 for a new sweep)."""
    return _callbacks[-1].info.get("attempts", 1) if _callbacks else 1


def record_lost(folder: Path, names: Sequence[str], reason: str) -> None:
    """Record runs that did not finish and left no ``error.json``: in ``sweep.json`` at the
    end, and in the run's ``error.json`` where it can be written."""
    for name in names:
        run = folder / name
        if is_complete(run) or (run / ERROR).is_file():
            continue
        _lost[name] = reason
        with contextlib.suppress(OSError):  # a full disk: sweep.json keeps the record
            write_json(run / ERROR, {"error": reason.strip().splitlines()[-1],
                                     "traceback": reason, "finished": now().isoformat()})


def interrupted(folder: Path, signum: int) -> None:
    """Stop the sweep after SIGTERM or Ctrl-C: manifest "interrupted", the resume command,
    exit status 128 + signal number."""
    while _progress:
        _progress.pop().close()
    resume = " ".join(shlex.quote(a) for a in ["python", "-m", "sim", *command_line()[1:]])
    state = status(folder, _callbacks[-1].total if _callbacks else None)
    state.update(status="interrupted", resume=resume)
    if _callbacks:
        _callbacks[-1]._write(folder, state)
    print(f"interrupted ({signal.Signals(signum).name}): {state['complete']} of "
          f"{state['total'] or '?'} runs complete in {folder}; resume with:\n  {resume}",
          file=sys.stderr)
    sys.exit(128 + signum)


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
        folder = Path(config.hydra.sweep.dir).absolute()  # workers may start anywhere
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
        _callbacks.append(self)
        _lost.clear()
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
        failed = bool(state["failed"] or state["missing"])
        if state["failed"]:
            names = ", ".join(f["run"] for f in state["failed"][:5])
            more = ", …" if len(state["failed"]) > 5 else ""
            print(f"error: {len(state['failed'])} of {self.total} runs failed ({names}{more}); "
                  f"errors in {folder / MANIFEST}; re-run the command to retry them",
                  file=sys.stderr)
        if state["missing"]:
            print(f"error: {state['missing']} of {self.total} runs are missing (neither "
                  f"complete nor failed) in {folder}; re-run the command to run them",
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
