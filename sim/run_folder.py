"""The folder of one run (``python -m sim``): checked before anything is written, and
cleaned of nothing but what the run itself made.

:class:`RunFolderCallback` (a Hydra callback, ``configs/config.yaml``) runs
before Hydra creates the run folder. It validates the config (a bad value:
one line, exit 2, nothing written), and :meth:`RunFolder.claim` checks the
folder: it must be new, empty, or this command's own unfinished run (a
non-empty folder of anything else is refused, so ``hydra.run.dir=.`` or a
path into other data never loses a file); the folders it creates are
recorded, and it must be writable with room for the results. If the run
then fails, :meth:`RunFolder.release` removes the files a run writes and
the folders it created, if empty — never a folder the run did not make.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.results import is_complete

#: Files of a run folder: Hydra's (``.hydra/``, the job log) and the run's own results.
HYDRA_FILES = (".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml")
RESULT_FILES = ("config.yaml", "steps.parquet", "summary.json", "manifest.json", "error.json")
#: Room a run needs on disk beyond its steps table: config, manifest, logs, Hydra's files.
FIXED_BYTES = 1_000_000
#: Bytes of steps.parquet per (step, supplier) row, with room to spare.
BYTES_PER_ROW = 400


class RunFolderError(Exception):
    """The run folder cannot be used: refused, not writable, or no room; the message names it."""


def _entries(folder: Path) -> set[str]:
    """Relative paths of every file and folder below ``folder``."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _job_log(folder: Path) -> set[str]:
    """The job logs Hydra writes at the top of a run folder (``<job name>.log``)."""
    return {p.name for p in folder.glob("*.log") if p.is_file()}


@dataclass
class RunFolder:
    """A run folder this process may write into; ``created`` are the folders it made."""

    path: Path
    created: list[Path] = field(default_factory=list)

    @classmethod
    def claim(cls, path: Path, overrides: list[str], result_bytes: int) -> RunFolder:
        """Check ``path`` and create it; :class:`RunFolderError` if it cannot be used."""
        path = Path(path).absolute()
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"{path} is a file, not a folder: choose another hydra.run.dir")
        if path.is_dir() and any(path.iterdir()) and not _own_unfinished(path, overrides):
            what = "a finished run" if is_complete(path) else "files of something else"
            raise RunFolderError(
                f"{path} is not empty (it holds {what}): a run writes only into a new or empty "
                "folder, or resumes its own unfinished run; choose another hydra.run.dir")
        folder = cls(path)
        missing = [p for p in (path, *path.parents) if not p.exists()]
        try:
            for p in reversed(missing):
                p.mkdir()
                folder.created.append(p)
            fd, probe = tempfile.mkstemp(prefix=".probe.", dir=path)
            os.close(fd)
            os.unlink(probe)
            free = shutil.disk_usage(path).free
        except OSError as err:
            folder.release()
            raise RunFolderError(f"cannot write into {path}: {err.strerror or err}") from err
        if free < result_bytes:
            folder.release()
            raise RunFolderError(f"not enough free disk space in {path}: the results need about "
                                 f"{result_bytes:,} bytes, {free:,} are free")
        return folder

    def release(self) -> None:
        """Remove what a run writes here, then the folders this run created if they are empty."""
        partial = [p.name for p in self.path.glob(".*") if _partial(p.name)]
        for name in [*HYDRA_FILES, *RESULT_FILES, *_job_log(self.path), *partial]:
            with contextlib.suppress(OSError):  # e.g. read-only now: leave it, report the error
                (self.path / name).unlink(missing_ok=True)
        for p in [self.path / ".hydra", *reversed(self.created)]:
            with contextlib.suppress(OSError):  # only if empty: never what the run did not make
                p.rmdir()


def _partial(name: str) -> bool:
    """True for the temporary file of an interrupted atomic write (``.summary.json.x1y2``)."""
    return any(name.startswith(f".{result}.") for result in RESULT_FILES)


def _own_unfinished(path: Path, overrides: list[str]) -> bool:
    """True if ``path`` holds only the files of an unfinished run of the same overrides."""
    allowed = {".hydra", *HYDRA_FILES, *RESULT_FILES, *_job_log(path)} - {"manifest.json"}
    if not {name for name in _entries(path) if not _partial(name)} <= allowed:
        return False
    recorded = path / ".hydra" / "overrides.yaml"
    try:
        return OmegaConf.to_container(OmegaConf.load(recorded)) == overrides
    except (OSError, ValueError):
        return False


#: The folder claimed by the callback, for the task function of the same process (the last
#: run's only: a process may run the command line more than once, e.g. in tests).
claimed: list[RunFolder] = []


class RunFolderCallback(Callback):
    """Before Hydra makes the folder of a single run: validate the config, claim the folder."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Exit 2 on a bad config and 1 on an unusable folder, with one line; nothing written."""
        from sim import design
        from sim.config import ConfigError, to_config

        HydraConfig.instance().set_config(config)  # so that ${hydra:…} resolves, as in the job
        task = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
        try:
            cfg = to_config(design.apply(task))
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        rows = (cfg.steps // cfg.collect_every + 1) * cfg.market.n_suppliers
        try:
            claimed[:] = [RunFolder.claim(Path(config.hydra.run.dir),
                                           list(config.hydra.overrides.task),
                                           FIXED_BYTES + rows * BYTES_PER_ROW)]
        except RunFolderError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)
