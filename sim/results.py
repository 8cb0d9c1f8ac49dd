"""Result folders: resolved config, manifest with provenance, tidy steps table, summary.

Every file is written atomically (temporary name, then rename), and
``manifest.json`` is written last with ``"complete": true``: a folder without
it is an interrupted run and is ignored by :func:`load_results`. A complete
run whose summary or steps file cannot be read (truncated, corrupted) is left
out of the loaded table with a :class:`ResultsWarning` naming the file, or,
with ``strict=True``, stops the loader with a :class:`ResultsError`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import yaml

_UMASK = os.umask(0)
os.umask(_UMASK)
CELL_EXCLUDED = ("seed", "seeds", "experiment")
PACKAGES = ("mesa", "numpy", "networkx", "hydra-core", "omegaconf", "pandas", "pyarrow", "scipy")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Atomically write a text file."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, obj: Any) -> None:
    """Atomically write JSON (NaN is not allowed: use None)."""
    write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def git_commit() -> str | None:
    """The project's current git commit, with ``-dirty`` if the tree has changes."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha + ("-dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of Python and the packages the results depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def manifest(seed: int, started: datetime, finished: datetime, **extra: Any) -> dict[str, Any]:
    """Provenance of a run: seed, versions, commit, times, command line."""
    return {
        "seed": seed,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "seconds": round((finished - started).total_seconds(), 3),
        "git_commit": git_commit(),
        "versions": versions(),
        "argv": sys.argv,
        "complete": True,
        **extra,
    }


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def write_run(
    out: Path, config_yaml: str, steps: pd.DataFrame, summary: dict, meta: dict
) -> None:
    """Write a complete run folder; ``manifest.json`` last, as the completion marker."""
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", config_yaml)
    atomic_write(out / "steps.parquet", lambda p: steps.to_parquet(p, index=False))
    write_json(out / "summary.json", summary)
    write_json(out / "manifest.json", meta)


def is_complete(run_dir: Path) -> bool:
    """True if the folder holds a finished run."""
    try:
        return bool(json.loads((run_dir / "manifest.json").read_text()).get("complete"))
    except (OSError, ValueError):
        return False


def run_dirs(root: Path) -> list[Path]:
    """Complete run folders at or below ``root``, sorted."""
    root = Path(root)
    return sorted(p.parent for p in root.rglob("manifest.json") if is_complete(p.parent))


def override_key(item: str) -> str:
    """The config key of a Hydra override: ``+design.row=3`` → ``design.row``."""
    return item.partition("=")[0].lstrip("+~")


def cell(overrides: list[str]) -> dict[str, Any]:
    """The swept parameters of a run from its overrides: ``{"buyers.needs_breadth": 0.3, …}``.

    Values are parsed as YAML scalars; ``seed`` (its own column) and the keys
    that only organise a sweep (``experiment``, ``seeds``) are left out.
    """
    out: dict[str, Any] = {}
    for item in overrides:
        key, value = override_key(item), item.partition("=")[2]
        if key not in CELL_EXCLUDED and not key.startswith("hydra"):
            out[key] = yaml.safe_load(value) if value else None
    return out


class ResultsError(Exception):
    """A result file cannot be read: truncated, corrupted, or not what the loader expects.

    The message starts with the file's path; :attr:`path` holds it.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path


class ResultsWarning(UserWarning):
    """A run was left out of a table because one of its files cannot be read."""


def read_json(path: Path) -> Any:
    """A JSON file's content; :class:`ResultsError` naming the file if it cannot be read."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # JSON and UTF-8 decoding errors are ValueErrors
        raise ResultsError(path, f"unreadable JSON ({type(err).__name__}: {err})") from err


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as a DataFrame; :class:`ResultsError` naming the file if it cannot be read."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as err:  # truncated, corrupted, missing
        raise ResultsError(path, f"unreadable Parquet ({type(err).__name__}: {err})") from err


def _readable_runs[T](root: Path, read: Callable[[Path], T], strict: bool) -> Iterator[T]:
    """``read(run)`` for each complete run below ``root``; see :func:`load_results` for errors."""
    for run in run_dirs(root):
        try:
            yield read(run)
        except ResultsError as err:
            if strict:
                raise
            warnings.warn(f"run skipped: {err}", ResultsWarning, stacklevel=3)


def _summary_rows(run: Path) -> list[dict[str, Any]]:
    """The rows of one run in :func:`load_results`."""
    meta = read_json(run / "manifest.json")
    summary = read_json(run / "summary.json")
    try:
        params = cell(meta.get("overrides", []))
        base = {"run": run.name, "seed": meta["seed"], **params}
    except (AttributeError, KeyError, TypeError) as err:
        raise ResultsError(run / "manifest.json", f"not a run manifest (missing {err})") from err
    try:
        market = {f"market_{k}": v for k, v in summary.get("market", {}).items()}
        return [{**base, "strategy": strategy, **values, **market}
                for strategy, values in summary["strategies"].items()]
    except (AttributeError, KeyError, TypeError) as err:
        raise ResultsError(run / "summary.json", f"not a run summary (missing {err})") from err


def load_results(root: Path, strict: bool = False) -> pd.DataFrame:
    """One row per (run, strategy) of the complete runs below ``root``.

    Columns: ``run`` (folder name), ``seed``, the run's swept parameters
    (:func:`cell`), ``strategy``, every outcome of ``summary.json``
    (strategy averages over the summary window) and its market-wide outcomes
    as ``market_<name>`` (the same in every row of a run).

    A run whose ``summary.json`` or ``manifest.json`` cannot be read
    (truncated, corrupted, wrong shape) is left out with a
    :class:`ResultsWarning` naming the file; with ``strict=True`` it raises
    :class:`ResultsError` instead. A folder without a readable, complete
    manifest is an unfinished run and is not loaded (no warning).
    """
    runs = _readable_runs(root, _summary_rows, strict)
    return pd.DataFrame([row for rows in runs for row in rows])


def _steps_of(run: Path) -> pd.DataFrame:
    """One run's steps table with ``run`` and ``seed`` columns in front."""
    df = read_parquet(run / "steps.parquet")
    df.insert(0, "seed", read_json(run / "manifest.json")["seed"])
    df.insert(0, "run", run.name)
    return df


def load_steps(root: Path, strict: bool = False) -> pd.DataFrame:
    """All runs' steps tables stacked, with ``run`` and ``seed`` columns.

    A run whose ``steps.parquet`` cannot be read is left out with a
    :class:`ResultsWarning` naming the file (``strict=True``: :class:`ResultsError`).
    """
    frames = list(_readable_runs(root, _steps_of, strict))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
