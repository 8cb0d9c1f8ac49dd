"""Tasks of a sweep: K runs per launched job, short run names, what is already done or queued.

A sweep of N runs is launched as ``ceil(N / K)`` tasks (``sweep.runs_per_task=K``),
each one job of whatever launcher (joblib, submitit, the distributed launcher): the job
imports the project once and runs its K runs one after the other. A task is a folder
``<sweep>/.tasks/<attempt>-<index>/`` holding ``runs.json`` (its runs' names and
overrides, written before launching), ``job.json`` (the scheduler's job id, where there is
one) and the task's log. :class:`RunBatch` is the task function every job calls; it
composes each run's config with :class:`RunConfigs` (Hydra's own composition, done once
per choice of config groups rather than once per run).

Run folders are named by :func:`run_name`, a 10-hex-digit hash of the run's overrides: a
name never grows with the number of swept parameters (the parameters are in the manifest
and in ``steps.parquet``), and the same run has the same name in every attempt, so a
resume finds it.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import socket
import subprocess
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.utils import JobReturn, JobStatus, env_override
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim.results import SWEEP_ARGV, is_complete, now, override_key, write_json

TASKS = ".tasks"
RUNS = "runs.json"
JOB = "job.json"
#: Overrides left out of a run's name (they organise the sweep, not the run).
NAME_EXCLUDED = ("experiment", "seeds")
#: SLURM states of a job still waiting or working (``squeue``).
ACTIVE_STATES = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING",
                 "SUSPENDED"}


#: Set by the launching process's SIGTERM handler: a task running in that process (the basic
#: launcher, joblib with one job) starts no further run. Hydra's composition turns an
#: exception raised inside it into a ConfigCompositionException, so the handler's own
#: exception can be lost; this flag is not.
STOPPING = threading.Event()


def run_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides that define a run (sorted): Hydra's own and sweep-organising keys left out."""
    return sorted(o for o in overrides
                  if not override_key(o).startswith("hydra") and override_key(o) not in
                  NAME_EXCLUDED)


def run_name(overrides: Sequence[str]) -> str:
    """A run's folder name: 10 hex digits of a hash of its (sorted) defining overrides."""
    return hashlib.sha256("\n".join(run_overrides(overrides)).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Run:
    """One run of a sweep: its folder name and its overrides."""

    name: str
    overrides: tuple[str, ...]


def plan(jobs: Sequence[Sequence[str]]) -> list[Run]:
    """The runs of a sweep's jobs (Hydra's override lists), in order."""
    return [Run(run_name(job), tuple(job)) for job in jobs]


def pending(folder: Path, runs: Sequence[Run]) -> tuple[list[Run], list[Run]]:
    """Runs still to launch, and runs that a previous attempt's job still has queued or
    running (never launched twice). Complete runs are in neither list."""
    busy = in_flight(folder)
    todo = [run for run in runs if not is_complete(folder / run.name)]
    return [r for r in todo if r.name not in busy], [r for r in todo if r.name in busy]


def batches(runs: Sequence[Run], runs_per_task: int) -> list[list[Run]]:
    """Consecutive groups of ``runs_per_task`` runs (the last one may be shorter)."""
    if runs_per_task < 1:
        raise ValueError(f"sweep.runs_per_task={runs_per_task} is not allowed: "
                         "expected an integer >= 1")
    return [list(runs[i:i + runs_per_task]) for i in range(0, len(runs), runs_per_task)]


def launches(tasks: Sequence[str], max_array: int) -> list[list[str]]:
    """Consecutive groups of at most ``max_array`` tasks: one launch (one SLURM array) each."""
    if max_array < 1:
        raise ValueError(f"sweep.max_array={max_array} is not allowed: expected an integer >= 1")
    return [list(tasks[i:i + max_array]) for i in range(0, len(tasks), max_array)]


def write_tasks(folder: Path, attempt: int, groups: Sequence[Sequence[Run]]) -> list[str]:
    """Write each task's ``runs.json``; return the tasks' folder names below ``.tasks/``."""
    names = []
    for index, group in enumerate(groups):
        name = f"{attempt:03d}-{index:06d}"
        write_json(folder / TASKS / name / RUNS,
                   [{"name": run.name, "overrides": list(run.overrides)} for run in group])
        names.append(name)
    return names


def task_overrides(task: str) -> list[str]:
    """The overrides of the launched job of a task: its folder, and no ``.hydra/`` copies."""
    return [f"hydra.sweep.subdir={TASKS}/{task}", "hydra.output_subdir=null"]


def task_runs(folder: Path, task: str) -> list[str]:
    """The names of a task's runs (empty if its ``runs.json`` cannot be read)."""
    try:
        return [run["name"] for run in json.loads((folder / TASKS / task / RUNS).read_text())]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def record_jobs(folder: Path, tasks: Sequence[str], job_ids: Sequence[str],
                scheduler: str) -> None:
    """Remember the scheduler's job id of each task, so that a resume can ask about it."""
    for task, job_id in zip(tasks, job_ids, strict=True):
        write_json(folder / TASKS / task / JOB, {"job_id": job_id, "scheduler": scheduler,
                                                 "submitted": now().isoformat()})


def in_flight(folder: Path) -> set[str]:
    """Names of runs whose task's SLURM job (from an earlier attempt) is still queued or
    running, as ``squeue`` reports it; empty where there is no ``squeue``."""
    jobs: dict[str, str] = {}
    for path in sorted((folder / TASKS).glob(f"*/{JOB}")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and info.get("scheduler") == "slurm":
            jobs[str(info.get("job_id"))] = path.parent.name
    if not jobs:
        return set()
    active = slurm_active(list(jobs))
    return {name for job, task in jobs.items() if job in active
            for name in task_runs(folder, task)}


def slurm_active(job_ids: Sequence[str]) -> set[str]:
    """The ids among ``job_ids`` (``123`` or array tasks ``123_4``) that SLURM still has
    queued or running."""
    try:
        out = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    states = dict(line.split(maxsplit=1) for line in out.splitlines() if " " in line)
    return {job for job in job_ids if states.get(job, "").strip() in ACTIVE_STATES}


class RunConfig(NamedTuple):
    """A run's full config, and ``HydraConfig``'s node for it (None: set it from the config)."""

    config: DictConfig
    hydra: DictConfig | None


class RunConfigs:
    """Each run's config exactly as Hydra's ``load_sweep_config`` composes it, at a fraction
    of the cost: the config groups are composed once per choice of them.

    Hydra composes a job's config in two steps: the defaults list (the config groups, e.g.
    ``buyers=adversarial`` or ``+experiment=<name>``), then the other overrides (``seed=3``,
    ``market.uncertainty=0.15``) applied to the composed config
    (``ConfigLoaderImpl._apply_overrides_to_config``). The runs of a task mostly share
    their group choices (the seeds of a cell), so the first step (about 0.2 s) runs once
    per distinct choice, and each run gets a copy of its result with its own overrides
    applied by that same Hydra function (milliseconds), and the per-run fields of its
    ``hydra`` node set as Hydra sets them (``overrides``, ``job.override_dirname``,
    ``job.id``, ``sweep.subdir``, ``runtime.output_dir``).

    The ``hydra`` node is not copied per run: the runs of one choice of groups share one
    node (``HydraConfig``'s, made once as ``HydraConfig.set_config`` makes it), whose
    per-run fields are set for each run and whose parent is the run's config, so that its
    interpolations see the run's values, as in Hydra. A run that overrides a ``hydra.``
    key gets a node of its own.
    """

    def __init__(self, loader: ConfigLoaderImpl, master: DictConfig) -> None:
        self.loader = loader
        self.master = master
        self.parser = OverridesParser.create()
        self.bases: dict[tuple[str, ...], RunConfig] = {}

    @staticmethod
    def base(config: DictConfig) -> RunConfig:
        """A composed config and its ``HydraConfig`` node (``HydraConfig.set_config``'s)."""
        hydra = OmegaConf.masked_copy(config, "hydra")
        OmegaConf.set_readonly(hydra.hydra, True)
        return RunConfig(config, hydra)

    def is_group(self, override: Override) -> bool:
        """True for an override of the defaults list: a config group's choice (as Hydra's
        ``defaults_list.Overrides`` decides: the group exists and the value is no dict)."""
        return self.loader.repository.group_exists(override.key_or_group) and \
            not isinstance(override.value(), dict)

    def __call__(self, overrides: Sequence[str], name: str) -> RunConfig:
        """The config of the run ``name`` (its folder below the sweep) with ``overrides``."""
        parsed = self.parser.parse_overrides(list(overrides))
        groups, others = [], []
        for override in parsed:
            (groups if self.is_group(override) else others).append(override)
        key = tuple(str(o.input_line) for o in groups)
        subdir = f"hydra.sweep.subdir={name}"
        if key not in self.bases:
            self.bases[key] = self.base(self.loader.load_sweep_config(
                self.master, [*key, subdir, "hydra.output_subdir=null"]))
        base = self.bases[key]
        assert base.hydra is not None
        own = any(o.key_or_group.split(".")[0] == "hydra" for o in others)
        # the run's copy of the config, with the shared hydra node unless it has its own
        shared = {} if own else {id(base.config.hydra): base.hydra.hydra}
        config = copy.deepcopy(base.config, shared)
        ConfigLoaderImpl._apply_overrides_to_config(others, config)
        hydra = config.hydra
        with read_write(hydra), open_dict(hydra):
            hydra.overrides.task = [str(o.input_line) for o in parsed]
            mine = [k for k, line in enumerate(hydra.overrides.hydra)
                    if line.startswith("hydra.sweep.subdir=")]
            hydra.overrides.hydra[mine[-1]] = subdir
            hydra.sweep.subdir = name
            hydra.job.id = name
            hydra.runtime.output_dir = os.path.abspath(os.path.join(hydra.sweep.dir, name))
            dirname = hydra.job.config.override_dirname
            hydra.job.override_dirname = get_overrides_dirname(
                overrides=parsed, kv_sep=dirname.kv_sep, item_sep=dirname.item_sep,
                exclude_keys=list(dirname.exclude_keys))
        return RunConfig(config, None if own else base.hydra)


@dataclass
class RunBatch:
    """The task function of every launched job: run the task's runs one after the other.

    Each run's config is composed by :class:`RunConfigs` from the launching config and the
    run's overrides, and the task function (``sim.__main__.main``) runs on it into
    ``<sweep>/<run name>/`` (:meth:`job`, what Hydra's ``run_job`` does for a job of a
    sweep, without its three copies of the config). ``argv`` is the command line of
    the launching process (the sweep's): each run's manifest records it
    (:data:`sim.results.SWEEP_ARGV`). A run that fails in any way, even where its
    ``error.json`` cannot be written (a full disk), does not stop the others: the job
    returns ``{run name: None or the error}``, which the sweeper records.
    """

    task_function: TaskFunction
    config: DictConfig
    hydra_context: HydraContext
    argv: list[str] = field(default_factory=list)

    def __call__(self, cfg: DictConfig) -> dict[str, str | None]:
        task_dir = Path(HydraConfig.get().runtime.output_dir)
        runs = json.loads((task_dir / RUNS).read_text())
        write_json(task_dir / "started.json", {"host": socket.gethostname(), "pid": os.getpid(),
                                                "started": now().isoformat(),
                                                "job": _scheduler_job()})
        loader = self.hydra_context.config_loader
        assert isinstance(loader, ConfigLoaderImpl)
        configs = RunConfigs(loader, self.config)
        configs.bases[()] = configs.base(_job_config(cfg))  # the task's own: no group chosen
        token = SWEEP_ARGV.set(self.argv or None)
        try:
            outcomes: dict[str, str | None] = {}
            for run in runs:
                if STOPPING.is_set():
                    break
                outcomes[run["name"]] = self._run(configs, run["name"], run["overrides"])
            return outcomes
        finally:
            SWEEP_ARGV.reset(token)

    def _run(self, configs: RunConfigs, name: str, overrides: list[str]) -> str | None:
        try:
            ret = self.job(*configs(overrides, name))
        except Exception as err:  # composition (or its folder) failed: the run never started
            return f"{type(err).__name__}: {err}\n{traceback.format_exc()}"
        if ret.status == JobStatus.FAILED:
            err = ret._return_value
            return "".join(traceback.format_exception(err)) if isinstance(err, BaseException) \
                else str(err)
        return None

    def job(self, config: DictConfig, hydra: DictConfig | None = None) -> JobReturn:
        """Run the task function on one run's full config, as Hydra's ``run_job`` runs a job
        of a sweep: ``HydraConfig`` set to ``hydra`` (or made from ``config`` as Hydra makes
        it) and restored after, the run folder made, in it if
        ``hydra.job.chdir``, ``hydra.job.env_set`` in the environment, the callbacks'
        ``on_job_start`` and ``on_job_end`` around it; the task function's exception is the
        failed :class:`~hydra.core.utils.JobReturn`'s value."""
        hydra_config = HydraConfig.instance()
        previous = hydra_config.cfg
        if hydra is None:
            hydra_config.set_config(config)
        else:
            hydra.hydra._set_parent(config)  # as set_config does: interpolations see the run
            hydra_config.cfg = hydra
        try:
            out = Path(config.hydra.runtime.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            task_cfg = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
            ret = JobReturn(overrides=list(config.hydra.overrides.task), cfg=task_cfg,
                            hydra_cfg=hydra_config.cfg, task_name=config.hydra.job.name,
                            working_dir=str(out) if config.hydra.job.chdir else os.getcwd())
            callbacks = self.hydra_context.callbacks
            where = contextlib.chdir(out) if config.hydra.job.chdir else contextlib.nullcontext()
            with where:
                with env_override(dict(config.hydra.job.env_set)):
                    callbacks.on_job_start(config=config, task_function=self.task_function)
                    try:
                        ret.return_value = self.task_function(task_cfg)
                        ret.status = JobStatus.COMPLETED
                    except Exception as err:
                        ret.return_value = err
                        ret.status = JobStatus.FAILED
                callbacks.on_job_end(config=config, job_return=ret)
            return ret
        finally:
            hydra_config.cfg = previous


def _job_config(task_cfg: DictConfig) -> DictConfig:
    """The full config of the running Hydra job: its task config and ``HydraConfig``'s node.

    A task's job is composed from the launching config's Hydra overrides and its own
    (``hydra.sweep.subdir``, ``hydra.output_subdir=null``), as :class:`RunConfigs` composes
    a run that chooses no config group: one composition (about 0.2 s) less per task.
    """
    full = copy.deepcopy(task_cfg)
    with read_write(full), open_dict(full):
        full.hydra = copy.deepcopy(HydraConfig.get())
    return full


def _scheduler_job() -> dict[str, Any]:
    """The SLURM job this process runs in, if any."""
    keys = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURMD_NODENAME")
    return {k: os.environ[k] for k in keys if k in os.environ}
