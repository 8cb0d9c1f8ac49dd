"""The dashboard's settings: the controls the class may change and the config they build.

A lesson's config (``configs/lesson/<key>.yaml``) gives every control its
default; :func:`build_config` composes the lesson with the values chosen in
the app as Hydra overrides and validates the result once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sim.api import compose_config
from sim.config import Config, to_config
from sim.dashboard.lessons import DEFAULT_LESSON, LESSONS

STRATEGY_MIXES: dict[str, tuple[str, list[str]]] = {
    # label → (strategy preset name, assignment over suppliers)
    "Alternating: lone seller, company-wide": ("mixed", ["lone_seller", "company_wide"]),
    "All lone sellers": ("lone_seller", ["lone_seller"]),
    "All company-wide": ("company_wide", ["company_wide"]),
    "All hybrid": ("hybrid", ["hybrid"]),
    "Alternating: lone seller, company-wide, hybrid": (
        "three_way",
        ["lone_seller", "company_wide", "hybrid"],
    ),
}
NETWORK_LABELS: dict[str, str] = {
    "Small world (Watts–Strogatz)": "watts_strogatz",
    "Random (Erdős–Rényi)": "erdos_renyi",
    "Hubs (Barabási–Albert)": "barabasi_albert",
}


@dataclass(frozen=True)
class Setting:
    """One control: its label, the config field and its range or options."""

    label: str
    path: str
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    options: tuple[str, ...] = ()

    @property
    def is_int(self) -> bool:
        """Whether the control is an integer slider."""
        return not self.options and float(self.step).is_integer()


SETTINGS: dict[str, Setting] = {
    "strategies": Setting("Strategies of the suppliers", "strategy.assignment",
                          options=tuple(STRATEGY_MIXES)),
    "n_buyers": Setting("Number of buyers", "market.n_buyers", 50, 1000, 50),
    "n_suppliers": Setting("Number of suppliers", "market.n_suppliers", 2, 6, 1),
    "needs_breadth": Setting("Needs beyond the product", "buyers.needs_breadth", 0.0, 1.0, 0.1),
    "adversarial_share": Setting("Share of adversarial buyers", "buyers.adversarial_share",
                                 0.0, 1.0, 0.1),
    "decay": Setting("Decay of neglected ties", "relationship.decay", 0.0, 0.1, 0.01),
    "promise_inflation": Setting("Over-promising by salespeople", "sales.promise_inflation",
                                 0.0, 0.3, 0.05),
    "turnover": Setting("Salesperson turnover", "sales.departure_hazard", 0.0, 0.05, 0.005),
    "network": Setting("Word-of-mouth network", "network.kind", options=tuple(NETWORK_LABELS)),
    "seed": Setting("Random seed", "seed", 0, 20, 1),
}

_HYDRA_LOCK = threading.Lock()  # Hydra's global state is not thread-safe


def _get(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _check_lesson(lesson: str) -> None:
    if lesson not in LESSONS:
        raise ValueError(f"unknown lesson {lesson!r}: one of {sorted(LESSONS)}")


def lesson_settings(lesson: str) -> dict[str, Any]:
    """The value of every control in a lesson's config (the lesson's defaults)."""
    _check_lesson(lesson)
    with _HYDRA_LOCK:
        cfg = to_config(compose_config([f"+lesson={lesson}"]))
    values: dict[str, Any] = {"lesson": lesson}
    for key, s in SETTINGS.items():
        value = _get(cfg, s.path)
        if key == "strategies":
            value = next(
                (label for label, (_, a) in STRATEGY_MIXES.items() if a == list(value)),
                next(iter(STRATEGY_MIXES)),
            )
        elif key == "network":
            value = next(label for label, kind in NETWORK_LABELS.items() if kind == value)
        values[key] = value
    return values


def build_config(lesson: str = DEFAULT_LESSON, **settings: Any) -> Config:
    """The validated config of a lesson with the controls' values as overrides (None: keep)."""
    _check_lesson(lesson)
    overrides = [f"+lesson={lesson}"]
    for key, value in settings.items():
        if value is None:
            continue
        s = SETTINGS[key]
        if key == "strategies":
            name, assignment = STRATEGY_MIXES[value]
            overrides += [f"strategy.name={name}", f"strategy.assignment=[{','.join(assignment)}]"]
        elif key == "network":
            overrides.append(f"network.kind={NETWORK_LABELS[value]}")
        else:
            overrides.append(f"{s.path}={value}")
    with _HYDRA_LOCK:
        cfg = to_config(compose_config(overrides))
    # scheduled events of the lesson must name existing suppliers
    n = cfg.market.n_suppliers
    cfg.scenario.events = [
        e for e in cfg.scenario.events if e.supplier < n and e.target < n and e.target != e.supplier
    ]
    return cfg
