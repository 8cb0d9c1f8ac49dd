"""M10 Dependency: investments that bind the buyer to the supplier (F6)."""

from __future__ import annotations

import numpy as np


def invested(dependency: np.ndarray, step: float) -> np.ndarray:
    """Dependency after an investment (terminals, training, shared plans): ``D + s·(1−D)``."""
    return dependency + step * (1.0 - dependency)


def erode(dependency: np.ndarray, rate: float) -> None:
    """Dependency erodes slowly without new investment, in place: ``D −= d·D``."""
    dependency *= 1.0 - rate
