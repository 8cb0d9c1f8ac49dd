"""Result folders: resolved config, manifest with provenance, tidy steps table, summary.

Every file is written atomically (temporary name, then rename), and
``manifest.json`` is written last with ``"complete": true``: a folder without
it is an interrupted run and is ignored by :func:`load_summaries`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)
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


def load_summaries(root: Path) -> pd.DataFrame:
    """One row per (run, strategy): the strategy averages of each run's summary.json."""
    rows = []
    for run in run_dirs(root):
        summary = json.loads((run / "summary.json").read_text())
        seed = json.loads((run / "manifest.json").read_text())["seed"]
        for strategy, values in summary["strategies"].items():
            rows.append({"run": run.name, "seed": seed, "strategy": strategy, **values})
    return pd.DataFrame(rows)


def load_steps(root: Path) -> pd.DataFrame:
    """All runs' steps tables stacked, with ``run`` and ``seed`` columns."""
    frames = []
    for run in run_dirs(root):
        df = pd.read_parquet(run / "steps.parquet")
        df.insert(0, "seed", json.loads((run / "manifest.json").read_text())["seed"])
        df.insert(0, "run", run.name)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
