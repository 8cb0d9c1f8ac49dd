"""``hydra/sweeper=cells``: Hydra's basic sweeper without its per-job composition check.

Before launching a batch, Hydra's ``BasicSweeper`` composes the config of
every job in the launching process, one after the other (about 0.2 s per
job: two minutes for a 640-run sensitivity design), while the workers wait.
This project's :class:`sim.sweep.SweepCallback` already composes and
validates one job per cell of the sweep before anything runs, and every job
composes and validates its own config again, so that check is left out here;
everything else (the grid of overrides, batches, launching) is the basic
sweeper's.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore


@dataclass
class CellsSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.sim_sweeper.cells.CellsSweeper"


ConfigStore.instance().store(group="hydra/sweeper", name="cells", node=CellsSweeperConf,
                             provider="buyer-seller-sim")


class CellsSweeper(BasicSweeper):
    """The basic sweeper; cells are checked by ``sim.sweep.SweepCallback`` instead."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Skipped: every cell was composed and validated before the sweep started."""
