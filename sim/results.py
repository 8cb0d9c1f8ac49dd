"""Result folders: resolved config, manifest with provenance, tidy steps table, summary.

Every file is written atomically (temporary name, then rename), and
``manifest.json`` is written last with ``"complete": true``: a folder without
it is an interrupted run and is ignored by :func:`load_results`. A run whose
manifest, summary or steps file cannot be read (truncated, corrupted, a value
of the wrong type) is left out of the loaded table with one
:class:`ResultsWarning` naming the file, or, with ``strict=True``, stops the
loader with a :class:`ResultsError`.

``steps.parquet`` is self-describing: ``run``, ``seed`` and every swept
parameter are columns, counts are integers and the units of the outcomes are
in the Parquet schema metadata (key ``units``), so that a sweep's runs are
one dataset: ``pyarrow.dataset.dataset(steps_files(sweep))``,
``polars.scan_parquet(f"{sweep}/*/steps.parquet")`` or duckdb's
``SELECT … FROM '<sweep>/*/steps.parquet'``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import is_dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf._utils import OmegaConfDumper  # its str representer: see config_yaml

from sim import metrics

_UMASK = os.umask(0)
os.umask(_UMASK)
CELL_EXCLUDED = ("seed", "seeds", "experiment")
STEPS = "steps.parquet"
#: Columns of ``steps.parquet`` that count things (buyers, ties, people, events): integers
#: (declared with each outcome's range in :data:`sim.metrics.OUTCOME_KIND`).
COUNTS = metrics.COUNTS
#: Units of the ``steps.parquet`` columns, stored in its schema metadata (``units``).
UNITS: dict[str, str] = {
    "step": "purchase period", "supplier": "index", "seed": "integer", "run": "run folder",
    "market_share": "share of buyers buying mainly here (0-1)",
    "share_of_wallet": "share of its buyers' purchases (0-1)",
    "profit": "money per step", "revenue": "money per step", "cost": "money per step",
    "service_revenue": "money per step",
    "retention": "share of the previous window's buying accounts that bought again (0-1)",
    "accounts": "buyers",
    "mean_trust": "0-1", "mean_satisfaction": "0-1", "mean_commitment": "0-1",
    "mean_dependency": "0-1", "mean_knowledge": "0-1", "loyalty_person": "attraction units",
    "loyalty_firm": "attraction units", "person_bound_share": "share (0-1)",
    "transaction_cost": "share of time (0-1)", "buyer_cost": "money per step",
    "buyer_value": "money per step", "unit_price": "money per unit",
    "departures": "salespeople per step", "strategic_partners": "buyers",
    "silent_churn": "buyers per step", "voiced_churn": "buyers per step",
    "other_churn": "buyers per step", "silent_episodes": "episodes per step",
    "voiced_episodes": "episodes per step", "active_ties": "ties",
    "price": "money per unit", "coordination": "0-1", "salespeople": "people",
    "health": "0-1",
}
#: The command line of the sweep whose run this process (or thread) is running: set by the
#: task that runs it (:class:`sim.tasks.RunBatch`), which may be a worker on another host.
SWEEP_ARGV: ContextVar[list[str] | None] = ContextVar("sweep_argv", default=None)
#: This process's command lines as typed, by the command line given to Hydra instead
#: (:func:`sim.__main__.cli` spells the ``sweep.*`` options as the sweeper's own keys).
TYPED_ARGV: dict[tuple[str, ...], list[str]] = {}
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


@functools.cache
def git_commit() -> str | None:
    """The project's current git commit, with ``-dirty`` if the tree has changes.

    Asked once per process (two ``git`` calls): a task of many runs, and the launching
    process of a sweep, record the commit they started from.
    """
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
    """Versions of Python and the packages the results depend on (looked up once per process)."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def manifest(seed: int, started: datetime, finished: datetime, **extra: Any) -> dict[str, Any]:
    """Provenance of a run: seed, versions, commit, times, command line.

    ``argv`` is the command that started the run: the sweep's command line for a run of a
    sweep (:data:`SWEEP_ARGV`), else this process's. A run that a worker process ran (a
    joblib, Dask or Ray worker, a SLURM job) also records that process's command line as
    ``worker_argv``.
    """
    own, sweep = command_line(), SWEEP_ARGV.get()
    argv = {"argv": own} if sweep is None or sweep == own else \
        {"argv": sweep, "worker_argv": own}
    return {
        "seed": seed,
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "seconds": round((finished - started).total_seconds(), 3),
        "git_commit": git_commit(),
        "versions": versions(),
        **argv,
        "complete": True,
        **extra,
    }


def command_line() -> list[str]:
    """This process's command line as typed (:data:`TYPED_ARGV`), else ``sys.argv``."""
    return list(TYPED_ARGV.get(tuple(sys.argv), sys.argv))


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


class _ConfigDumper(yaml.CDumper):
    """OmegaConf's YAML dumper (its representers, and its quoting of strings that would load
    as booleans or numbers) on libyaml's emitter, which is about five times faster."""


_ConfigDumper.add_representer(str, OmegaConfDumper.str_representer)


def config_yaml(cfg: DictConfig) -> str:
    """A config as ``OmegaConf.to_yaml(cfg, resolve=True)`` writes it, byte for byte
    (``tests/test_results_io.py`` compares the two), at a third of its cost: it is written
    once per run of a sweep."""
    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    return yaml.dump(container, Dumper=_ConfigDumper, default_flow_style=False,
                     allow_unicode=True, sort_keys=False)


def write_run(
    out: Path, config_yaml: str, steps: pd.DataFrame, summary: dict, meta: dict
) -> None:
    """Write a complete run folder; ``manifest.json`` last, as the completion marker.

    ``steps.parquet`` gets the columns ``run`` (the folder's name), ``seed``
    and the run's parameters (``meta["overrides"]``, see :func:`cell`) in front.
    """
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.yaml", config_yaml)
    table = steps_table(steps, out.name, meta["seed"], cell(meta.get("overrides", [])))
    atomic_write(out / STEPS, lambda p: pq.write_table(table, p))
    write_json(out / "summary.json", summary)
    write_json(out / "manifest.json", meta)


def steps_table(steps: pd.DataFrame, run: str, seed: int, params: dict[str, Any]) -> pa.Table:
    """A run's steps as an Arrow table: ``run``, ``seed``, parameters, then the steps' columns.

    Count columns (:data:`COUNTS`) are int64 (the model collects them as
    integers; a float column of whole numbers from elsewhere is converted);
    parameters are typed by :func:`param_type` so that every run of a sweep
    has the same schema; :data:`UNITS` go into the schema metadata.
    """
    table = pa.Table.from_pandas(steps, preserve_index=False)
    for name in COUNTS:
        if name in table.column_names and not pa.types.is_int64(table[name].type):
            values = table[name].to_numpy()
            if _whole(values):
                table = table.set_column(table.column_names.index(name), name,
                                         pa.array(values.astype("int64")))
    front = {"run": pa.array([run] * len(table), pa.string()),
             "seed": pa.array([seed] * len(table), pa.int64())}
    for key, value in params.items():
        if key not in table.column_names:  # a group choice named like a column: the column wins
            front[key] = pa.array([value] * len(table), param_type(key, value))
    for k, (name, column) in enumerate(front.items()):
        table = table.add_column(k, name, column)
    units = {name: UNITS[name] for name in table.column_names if name in UNITS}
    meta = {**(table.schema.metadata or {}), b"units": json.dumps(units).encode()}
    return table.replace_schema_metadata(meta)


def param_type(key: str, value: Any) -> pa.DataType:
    """The Arrow type of a swept parameter's column, the same in every run of a sweep.

    A field the config declares as int (``market.n_buyers``) is int64, any
    other number float64 (``0`` and ``0.5`` in one sweep share a type), a
    bool is bool and anything else a string.
    """
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int | float):
        return pa.int64() if _declared(key) is int and isinstance(value, int) else pa.float64()
    return pa.string()


def _declared(key: str) -> type | None:
    """The type a dotted config key is declared with in :class:`sim.config.Config`."""
    from sim.config import Config, type_hints  # imported late (results is low-level)

    node: Any = Config
    for part in key.split("."):
        node = type_hints(node).get(part) if is_dataclass(node) else None
    return node if isinstance(node, type) else None


def _whole(values: np.ndarray) -> bool:
    """True for integers, or floats that are all finite whole numbers."""
    return values.dtype.kind in "iu" or (
        values.dtype.kind == "f" and bool(np.isfinite(values).all())
        and bool((values == np.round(values)).all()))


def steps_files(root: Path) -> list[Path]:
    """The ``steps.parquet`` files of the complete runs below ``root``: a sweep's dataset."""
    return [run / STEPS for run in run_dirs(root) if (run / STEPS).is_file()]


def is_complete(run_dir: Path) -> bool:
    """True if the folder holds a finished run."""
    try:
        return bool(json.loads((run_dir / "manifest.json").read_text()).get("complete"))
    except (OSError, ValueError):
        return False


def run_dirs(root: Path, strict: bool = False) -> list[Path]:
    """Complete run folders at or below ``root``, sorted.

    A ``manifest.json`` that cannot be read (truncated, not JSON, not an
    object) leaves its run out with a :class:`ResultsWarning` naming it
    (``strict=True``: :class:`ResultsError`); a readable one without
    ``"complete": true`` is an unfinished run, left out silently.
    """
    runs = []
    for path in sorted(Path(root).rglob("manifest.json")):
        try:
            meta = read_json(path)
            if not isinstance(meta, dict):
                raise ResultsError(path, f"not a run manifest (a JSON {type(meta).__name__})")
        except ResultsError as err:
            if strict:
                raise
            warnings.warn(f"run skipped: {err}", ResultsWarning, stacklevel=2)
            continue
        if meta.get("complete") is True:
            runs.append(path.parent)
    return runs


def override_key(item: str) -> str:
    """The config key of a Hydra override: ``+design.row=3`` → ``design.row``."""
    return item.partition("=")[0].lstrip("+~")


def cell(overrides: list[str]) -> dict[str, Any]:
    """The swept parameters of a run from its overrides: ``{"buyers.needs_breadth": 0.3, …}``.

    Values are parsed as YAML scalars (text YAML cannot read, e.g. with control
    characters, stays text); ``seed`` (its own column) and the keys that only
    organise a sweep (``experiment``, ``seeds``) are left out.
    """
    out: dict[str, Any] = {}
    for item in overrides:
        key, value = override_key(item), item.partition("=")[2]
        if key not in CELL_EXCLUDED and not key.startswith("hydra"):
            out[key] = _scalar(value)
    return out


def _scalar(value: str) -> Any:
    """An override's value as YAML reads it; None for an empty value; the text itself when
    YAML cannot read it."""
    if not value:
        return None
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value


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


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file as a DataFrame (only those of ``columns`` it has, if given);
    :class:`ResultsError` naming the file if it cannot be read."""
    try:
        if columns is not None:
            present = set(pq.read_schema(path).names)
            columns = [c for c in columns if c in present]
        return pd.read_parquet(path, columns=columns)
    except (OSError, ValueError, pa.ArrowException) as err:  # truncated, corrupted, missing
        raise ResultsError(path, f"unreadable Parquet ({type(err).__name__}: {err})") from err


def _readable_runs[T](root: Path, read: Callable[[Path], T], strict: bool) -> Iterator[T]:
    """``read(run)`` for each complete run below ``root``; see :func:`load_results` for errors."""
    for run in run_dirs(root, strict):
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
        rows = [{**base, "strategy": strategy, **values, **market}
                for strategy, values in summary["strategies"].items()]
    except (AttributeError, KeyError, TypeError) as err:
        raise ResultsError(run / "summary.json", f"not a run summary (missing {err})") from err
    for row in rows:
        for key, value in row.items():
            if key not in base and key != "strategy" and not _is_number(value):
                raise ResultsError(run / "summary.json",
                                   f"{row['strategy']}.{key}={value!r} is not a number")
    return rows


def _is_number(value: Any) -> bool:
    """A summary value: a number (not a bool) or null (no data for that outcome)."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


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
    """One run's steps table with ``run`` and ``seed`` columns in front (older runs lack them)."""
    df = read_parquet(run / STEPS)
    if "seed" not in df:
        df.insert(0, "seed", read_json(run / "manifest.json")["seed"])
    if "run" not in df:
        df.insert(0, "run", run.name)
    return df


def load_steps(root: Path, strict: bool = False) -> pd.DataFrame:
    """All runs' steps tables stacked, with ``run`` and ``seed`` columns.

    A run whose ``steps.parquet`` cannot be read is left out with a
    :class:`ResultsWarning` naming the file (``strict=True``: :class:`ResultsError`).
    """
    frames = list(_readable_runs(root, _steps_of, strict))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
