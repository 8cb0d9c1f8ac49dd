"""Named experiments: ``experiments/<name>/`` holds a spec, its analysis and its README.

- ``experiment.yaml``: a Hydra config applied on top of ``configs/config.yaml``
  (package ``_global_``): the market it runs, ``hydra.sweeper.params`` (the
  cells and ``seed: range(0,${seeds})``), the launcher, and
  ``hydra.sweep.dir: ${sweep_dir:<name>}``.
- ``analysis.py`` (optional): ``analyse(sweep_dir: Path, runs: DataFrame) -> str``,
  the analysis specific to the experiment; it writes its figures into the
  sweep folder and returns Markdown appended to ``report.md``.
- ``README.md``: question, design, expectation, figure and finding as measured.

:func:`register` stores every spec in Hydra's ConfigStore as the option
``<name>`` of the group ``experiment``, so ``python -m sim -m +experiment=<name>``
runs it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"
SPEC = "experiment.yaml"

Analysis = Callable[[Path, pd.DataFrame], str]


def names() -> list[str]:
    """The experiments that have a spec, sorted."""
    return sorted(p.parent.name for p in EXPERIMENTS_DIR.glob(f"*/{SPEC}"))


def register() -> None:
    """Store each ``experiments/<name>/experiment.yaml`` as the option ``experiment=<name>``."""
    cs = ConfigStore.instance()
    for name in names():
        node = OmegaConf.load(EXPERIMENTS_DIR / name / SPEC)
        cs.store(group="experiment", name=name, node=node, package="_global_")


def analysis(name: str) -> Analysis | None:
    """The experiment's ``analyse`` function, or None if it has no ``analysis.py``."""
    path = EXPERIMENTS_DIR / name / "analysis.py"
    if not path.is_file():
        return None
    module = _load(f"experiments.{name}.analysis", path)
    return module.analyse


def _load(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
