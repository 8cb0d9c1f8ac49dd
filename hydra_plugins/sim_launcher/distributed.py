"""``hydra/launcher=distributed``: run a sweep's jobs on a Dask or Ray cluster (public APIs only).

    python -m sim -m seed='range(0,200)' hydra/launcher=distributed \\
        hydra.launcher.backend=dask hydra.launcher.address=tcp://scheduler:8786

- ``backend``: ``dask`` (``dask.distributed.Client``) or ``ray`` (``ray.remote``);
- ``address``: the scheduler (``tcp://host:8786``) or Ray head (``host:6379``, ``auto``);
  empty: a local cluster of ``n_workers`` single-threaded processes on this machine;
- ``n_workers``: workers of that local cluster (default: all cores).

Every job runs Hydra's ``run_job`` in a worker process, after switching to the
directory the sweep was launched from (a Ray or Dask worker starts wherever its
daemon was started), with the sweep folder an absolute path. A job whose worker dies
comes back as a failed :class:`~hydra.core.utils.JobReturn` with the error, which
the ``cells`` sweeper records. To run Dask workers as SLURM jobs, start a
``dask_jobqueue.SLURMCluster`` and pass its scheduler address (docs/cluster.md).
"""

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

BACKENDS = ("dask", "ray")


@dataclass
class DistributedLauncherConf:
    _target_: str = "hydra_plugins.sim_launcher.distributed.DistributedLauncher"
    backend: str = "dask"
    address: str = ""
    n_workers: int = 0


ConfigStore.instance().store(group="hydra/launcher", name="distributed",
                             node=DistributedLauncherConf, provider="buyer-seller-sim")


class DistributedLauncher(Launcher):
    """Hydra launcher that maps a sweep's jobs onto Dask or Ray workers."""

    def __init__(self, backend: str = "dask", address: str = "", n_workers: int = 0) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"hydra.launcher.backend={backend!r} is not allowed: expected one "
                             f"of {', '.join(BACKENDS)}")
        if n_workers < 0:
            raise ValueError(f"hydra.launcher.n_workers={n_workers} is not allowed: expected "
                             "an integer >= 0 (0: all cores)")
        self.backend = backend
        self.address = address or ""
        self.n_workers = n_workers or os.cpu_count() or 1
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        """Run every job on the cluster; return their results in order."""
        assert self.config is not None
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        jobs = [Job(self.hydra_context, self.config, self.task_function, list(o),
                    initial_job_idx + k, os.getcwd(), Singleton.get_state())
                for k, o in enumerate(job_overrides)]
        run = _run_dask if self.backend == "dask" else _run_ray
        return run(jobs, self.address, self.n_workers)


@dataclass
class Job:
    """One job, as shipped to a worker: everything ``run_job`` needs, and where to run it."""

    hydra_context: Any
    config: DictConfig
    task_function: TaskFunction
    overrides: list[str]
    num: int
    cwd: str
    singleton_state: dict[Any, Any]

    def __call__(self) -> JobReturn:
        os.chdir(self.cwd)
        setup_globals()
        Singleton.set_state(self.singleton_state)
        config = self.hydra_context.config_loader.load_sweep_config(self.config, self.overrides)
        with open_dict(config):
            config.hydra.job.id = f"{config.hydra.job.name}_{self.num}"
            config.hydra.job.num = self.num
        return run_job(hydra_context=self.hydra_context, task_function=self.task_function,
                       config=config, job_dir_key="hydra.sweep.dir",
                       job_subdir_key="hydra.sweep.subdir")


def _failed(job: Job, err: BaseException) -> JobReturn:
    ret = JobReturn(overrides=job.overrides, status=JobStatus.FAILED)
    ret.return_value = err
    return ret


def _call(job: Job) -> JobReturn:
    return job()


#: Dask settings of the local cluster: its servers' periodic checks, meant for a dashboard
#: (a statistical profile of every worker every 10 ms, event-loop ticks every 20 ms, system
#: and memory monitors), took a third of a 200-run sweep's CPU on 2 cores. Workers of a
#: cluster at ``address`` keep the settings they were started with (docs/cluster.md).
LOCAL_DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


def _run_dask(jobs: list[Job], address: str, n_workers: int) -> list[JobReturn]:
    import dask
    from dask.distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)  # it logs every worker at INFO
    with dask.config.set(LOCAL_DASK_CONFIG if not address else {}):
        cluster = None if address else LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return _dask_results(jobs, Client(address or cluster), cluster)


def _dask_results(jobs: list[Job], client: Any, cluster: Any) -> list[JobReturn]:
    """Each job's result from a Dask client (a failed JobReturn for a lost one); closes the
    client, and the local cluster if there is one."""
    futures = []
    try:
        futures = client.map(_call, jobs, pure=False, retries=0)
        results = []
        for job, future in zip(jobs, futures, strict=True):
            try:
                results.append(future.result())
            except Exception as err:  # the worker died, or the job could not be shipped
                results.append(_failed(job, err))
        return results
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_ray(jobs: list[Job], address: str, n_workers: int) -> list[JobReturn]:
    import ray

    started = not ray.is_initialized()
    omp = os.environ.get("OMP_NUM_THREADS")
    if started:
        options: dict[str, Any] = {"address": address} if address else {"num_cpus": n_workers}
        if address:  # the workers of a running cluster: their environment set for this job
            options["runtime_env"] = {"env_vars": {"OMP_NUM_THREADS": "1"}}
        else:  # a local cluster's workers inherit it (a runtime env would start more workers)
            os.environ["OMP_NUM_THREADS"] = "1"
        ray.init(**options, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, max_retries=0)(_call)
    refs = [remote.remote(job) for job in jobs]
    try:
        results = []
        for job, ref in zip(jobs, refs, strict=True):
            try:
                results.append(ray.get(ref))
            except Exception as err:  # ray.exceptions.WorkerCrashedError, TaskCancelledError…
                results.append(_failed(job, err))
        return results
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
            if omp is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = omp
