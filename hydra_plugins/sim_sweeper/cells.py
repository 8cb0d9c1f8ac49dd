"""``hydra/sweeper=cells``: the sweeper of every sweep; batches runs into tasks, survives faults.

On top of Hydra's basic sweeper (the grid of overrides):

- no per-job composition check before launch (about 0.2 s per job): every cell was
  validated once by :class:`sim.sweep.SweepCallback`, and every run validates itself;
- **batching** (:mod:`sim.tasks`): runs already complete are dropped *before* anything
  is submitted, runs still queued or running in a SLURM job of an earlier attempt are not
  submitted again, and the rest go out as tasks of ``runs_per_task`` runs (one job
  each, the project imported once), in launches of at most ``max_array`` tasks (SLURM's
  default MaxArraySize is 1001);
- **faults**: a task that is lost (cancelled, out of time or memory, its node gone, its
  worker killed) is recorded, with the reason, as a failure of each of its runs that did
  not finish; the sweep goes on, writes its manifest and report, and exits non-zero;
- **interruption**: SIGTERM or Ctrl-C cancels what was submitted, marks the sweep
  "interrupted" in ``sweep.json`` with the command that resumes it, and exits 130/143.

Options: ``sweep.runs_per_task`` (default 1) and ``sweep.max_array`` (default 1000) on the
command line (``python -m sim`` spells them as this sweeper's keys), or
``hydra.sweeper.runs_per_task`` and ``hydra.sweeper.max_array`` (in a config file too).
"""

import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from sim import sweep, tasks
from sim.results import command_line

log = logging.getLogger(__name__)


@dataclass
class CellsSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.sim_sweeper.cells.CellsSweeper"
    runs_per_task: int = 1
    max_array: int = 1000


ConfigStore.instance().store(group="hydra/sweeper", name="cells", node=CellsSweeperConf,
                             provider="buyer-seller-sim")


class Interrupted(BaseException):
    """SIGTERM reached the launching process (a BaseException, like KeyboardInterrupt: Hydra's
    run_job must not record it as a failure of the job it interrupts)."""


class CellsSweeper(BasicSweeper):
    """The basic sweeper's grid, launched as batched, resumable, fault-tolerant tasks."""

    def __init__(self, max_batch_size: int | None, params: dict[str, str] | None = None,
                 runs_per_task: int = 1, max_array: int = 1000) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        if runs_per_task < 1 or max_array < 1:
            raise ValueError(f"sweep.runs_per_task={runs_per_task}, sweep.max_array="
                             f"{max_array}: both must be integers >= 1")
        self.runs_per_task = runs_per_task
        self.max_array = max_array

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        """As the basic sweeper, but each launched job runs a task (:class:`sim.tasks.RunBatch`)."""
        self.config = config
        self.hydra_context = hydra_context
        batch = tasks.RunBatch(task_function, config, hydra_context, argv=command_line())
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=batch, config=config)

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Plan the runs, drop what is done or in flight, launch the rest as tasks."""
        params = self._parse_config() + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs = [job for batch in self.split_arguments(parser.parse_overrides(params), None)
                for job in batch]
        folder = Path(self.config.hydra.sweep.dir)
        folder.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, folder / "multirun.yaml")
        runs = tasks.plan(jobs)
        todo, busy = tasks.pending(folder, runs)
        sweep.watch(runs)
        if busy:
            print(f"{len(busy)} runs are still queued or running in SLURM jobs of an earlier "
                  "attempt: not submitted again", file=sys.stderr)
        groups = tasks.batches(todo, self.runs_per_task)
        names = tasks.write_tasks(folder, sweep.attempt(), groups)
        returns: list[Sequence[JobReturn]] = []
        tasks.STOPPING.clear()
        previous = signal.signal(signal.SIGTERM, _raise_interrupted)
        try:
            start = 0
            for chunk in tasks.launches(names, self.max_array):
                returns.append(self._launch(folder, chunk, start))
                start += len(chunk)
        except (KeyboardInterrupt, Interrupted) as err:
            sweep.interrupted(folder, signal.SIGTERM if isinstance(err, Interrupted)
                              else signal.SIGINT)
        finally:
            signal.signal(signal.SIGTERM, previous)
        return returns

    def _launch(self, folder: Path, chunk: list[str], start: int) -> Sequence[JobReturn]:
        """Launch tasks and record the outcome of each of their runs; never raises for a
        lost task or worker (only for an interruption)."""
        overrides = [tasks.task_overrides(name) for name in chunk]
        try:
            if _is_submitit(self.launcher):
                results = _launch_submitit(self.launcher, folder, chunk, overrides, start)
            else:
                results = list(self.launcher.launch(overrides, initial_job_idx=start))
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as err:  # e.g. a killed joblib worker ends the whole launch
            if tasks.STOPPING.is_set():  # the interruption, wrapped by whatever it hit
                raise Interrupted(signal.SIGTERM) from err
            reason = f"task lost: {type(err).__name__}: {err}"
            for name in chunk:
                sweep.record_lost(folder, tasks.task_runs(folder, name), reason)
            return []
        if tasks.STOPPING.is_set():  # runs it cut short are not failures: resume reruns them
            raise Interrupted(signal.SIGTERM)
        for name, result in zip(chunk, results, strict=True):
            _record(folder, name, result)
        return results


def _record(folder: Path, task: str, result: JobReturn | BaseException) -> None:
    """Record the failures of a task's runs: those it reported, or all of them if it was lost."""
    if isinstance(result, JobReturn) and result.status == JobStatus.COMPLETED:
        outcomes: dict[str, Any] = result._return_value or {}
        for run, error in outcomes.items():
            if error is not None:
                sweep.record_lost(folder, [run], error)
        return
    err = result._return_value if isinstance(result, JobReturn) else result
    sweep.record_lost(folder, tasks.task_runs(folder, task),
                      f"task lost: {type(err).__name__}: {err}")


def _is_submitit(launcher: Any) -> bool:
    return any(c.__name__ == "BaseSubmititLauncher" for c in type(launcher).mro())


def _launch_submitit(launcher: Any, folder: Path, chunk: list[str],
                     overrides: list[list[str]], start: int) -> list[JobReturn | BaseException]:
    """hydra-submitit-launcher's ``launch``, recording each task's job id as soon as it is
    submitted and returning a lost job's error instead of raising it.

    Ctrl-C or SIGTERM cancels the submitted jobs before the interruption goes on.
    """
    import submitit
    from hydra.core.singleton import Singleton
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    params = dict(launcher.params)
    init = {f"{launcher._EXECUTOR}_max_num_timeout": params.pop("max_num_timeout")} \
        if "max_num_timeout" in params else {}
    executor = submitit.AutoExecutor(cluster=launcher._EXECUTOR,
                                     folder=params.pop("submitit_folder"), **init)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{k if k in base else f"{launcher._EXECUTOR}_{k}": v
                                  for k, v in params.items()})
    state = Singleton.get_state()
    args = [(o, "hydra.sweep.dir", start + k, f"task_{start + k}", state)
            for k, o in enumerate(overrides)]
    jobs = executor.map_array(launcher, *zip(*args, strict=True))
    tasks.record_jobs(folder, chunk, [j.job_id for j in jobs],
                      "slurm" if launcher._EXECUTOR == "slurm" else launcher._EXECUTOR)
    try:
        return _wait(jobs, slurm=launcher._EXECUTOR == "slurm")
    except BaseException:
        for job in jobs:
            if not job.done():
                job.cancel(check=False)
        raise


#: Seconds a SLURM job may be unknown to ``squeue`` without a result before it counts as lost.
GONE_AFTER = 30.0
#: Seconds between two ``squeue`` calls while waiting (each costs the launcher and slurmctld
#: some CPU; results are checked every second, by their files).
SQUEUE_EVERY = 10.0


def _wait(jobs: list[Any], slurm: bool) -> list[JobReturn | BaseException]:
    """Each submitit job's result, or the error that ended it.

    submitit waits forever for an array task that was cancelled before it started
    (``sacct`` never lists it); here a SLURM job that ``squeue`` no longer lists and that
    left no result for :data:`GONE_AFTER` seconds is lost.
    """
    results: dict[int, JobReturn | BaseException] = {}
    gone: dict[int, float] = {}
    asked, active = -SQUEUE_EVERY, set()
    while len(results) < len(jobs):
        waiting = [k for k in range(len(jobs)) if k not in results]
        if slurm and time.monotonic() - asked >= SQUEUE_EVERY:
            asked = time.monotonic()
            active = tasks.slurm_active([jobs[k].job_id for k in waiting])
        for k in waiting:
            job = jobs[k]
            if job.done():
                try:
                    results[k] = job.results()[0]
                except Exception as err:  # UncompletedJobError: cancelled, timed out, node lost
                    results[k] = err
            elif slurm and job.job_id not in active:
                gone.setdefault(k, time.monotonic())
                if time.monotonic() - gone[k] > GONE_AFTER:
                    results[k] = RuntimeError(f"SLURM job {job.job_id} ended without a result "
                                              f"(state {job.state}): cancelled before it ran?")
            else:
                gone.pop(k, None)
        time.sleep(1.0 if len(results) < len(jobs) else 0)
    return [results[k] for k in range(len(jobs))]


def _raise_interrupted(signum: int, frame: Any) -> None:
    tasks.STOPPING.set()
    raise Interrupted(signum)
