"""Paired runs: the baseline and every scenario on the same seeds (common random numbers).

Each seed starts every scenario from the same book and the same random
streams (:mod:`sim.whatif.start`), so until a scenario's first event the runs
are identical and the difference scenario − baseline on a seed is the effect
of the events alone; a scenario without events differs by exactly 0. The
(seed, scenario) runs are spread over ``jobs`` processes with joblib; each
is deterministic, so the results do not depend on ``jobs``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.errors import HydraException
from joblib import Parallel, delayed
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.api import CONFIG_DIR, compose_config
from sim.config import Config, ConfigError, to_config
from sim.whatif.book import Book
from sim.whatif.start import book_overrides, start_model

BASELINE = "baseline"
US = 0  # our supplier is column 0 of the model (see sim.whatif.book.load_book)

#: Per-seed outcomes for our firm, higher is better for each (label, unit).
OUTCOMES: dict[str, str] = {
    "revenue": "Revenue over the horizon",
    "profit": "Profit over the horizon",
    "accounts_retained": "Accounts retained",
    "share_of_wallet": "Share of wallet",
    "mean_trust": "Mean trust",
}


@dataclass(frozen=True)
class Results:
    """Tidy tables of a what-if: per-seed outcomes, our monthly series, our accounts at the end."""

    outcomes: pd.DataFrame  # seed, scenario, <OUTCOMES>
    steps: pd.DataFrame  # seed, scenario, step, revenue, profit, loyalty_person, loyalty_firm, …
    accounts: pd.DataFrame  # seed, scenario, account_id, left, trust, months_since_contact, …
    scenarios: list[str]  # baseline first

    def outcome(self, scenario: str, name: str) -> np.ndarray:
        """Per-seed values of one outcome in one scenario, in seed order."""
        frame = self.outcomes[self.outcomes["scenario"] == scenario].sort_values("seed")
        return frame[name].to_numpy(dtype=float)


def preset_names() -> list[str]:
    """Scenario presets in ``configs/scenario/`` other than the baseline."""
    return sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml") if p.stem != BASELINE)


def scenario_configs(
    book: Book, scenarios: Sequence[str], horizon: int, at: int | None = None,
    overrides: Sequence[str] = (),
) -> dict[str, Config]:
    """A validated config per scenario (baseline first), sized to the book, ``steps = horizon``.

    A scenario is a preset name of the ``scenario`` group (``configs/scenario/``)
    or a path to a YAML file of the same shape. With ``at``, its events are
    moved so that the first happens at month ``at`` (gaps kept). Supplier 0
    of a scenario is our firm. ``overrides`` are Hydra overrides of the model
    (``sales.salary=0.6``); the keys the book fixes cannot be overridden.
    """
    fixed = book_overrides(book)
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in fixed:
            raise ConfigError(f"{key} is set by the book of accounts and cannot be overridden")
    configs = {}
    for name in [BASELINE, *(s for s in scenarios if s != BASELINE)]:
        path = Path(name)
        from_file = path.suffix in (".yaml", ".yml")
        try:
            dcfg = compose_config([*overrides, f"scenario={BASELINE if from_file else name}"])
            if from_file:
                if not path.is_file():
                    raise ConfigError(f"scenario file {path} does not exist")
                dcfg.scenario = OmegaConf.merge({"name": path.stem}, OmegaConf.load(path))
        except (HydraException, OmegaConfBaseException) as err:
            raise ConfigError(f"scenario {name!r}: {str(err).splitlines()[0]} (presets: "
                              f"{preset_names()}, or a path to a .yaml file)") from None
        for key, value in {**fixed, "steps": horizon}.items():
            OmegaConf.update(dcfg, key, value, merge=False)
        events = dcfg.scenario.get("events") or []
        if at is not None and events:
            first = min(int(e.get("t", 1)) for e in events)
            for e in events:
                e.t = at + int(e.get("t", 1)) - first
        cfg = to_config(dcfg)
        configs[cfg.scenario.name if from_file else name] = cfg
    return configs


def run_one(cfg: Config, book: Book, scenario: str, seed: int) -> dict[str, pd.DataFrame]:
    """One run of a scenario on a seed: our outcomes, monthly series and accounts at the end.

    Money is in the book's unit (``volume_unit``·model units). An account
    *left* us if we are no longer its main supplier (largest share of wallet
    among active ties) at the horizon; *silent months* counts the months in
    which it was dissatisfied with us without complaining (F5, M9).
    """
    model = start_model(dataclasses.replace(cfg, seed=seed), book)
    ours = (book.accounts["current_supplier"] == book.our_supplier).to_numpy()
    silent = np.zeros(len(book.accounts), dtype=np.int64)
    for _ in range(cfg.steps):
        model.step()
        silent += model.ties.silent[:, US]
    t, unit = model.ties, book.volume_unit
    frame = model.supplier_frame()
    us = frame[(frame["supplier"] == US) & (frame["step"] >= 1)].sort_values("step")
    live = t.active[:, US]
    kept = model.market.buyers.main_supplier == US
    outcomes = pd.DataFrame([{
        "seed": seed, "scenario": scenario,
        "revenue": float(us["revenue"].sum()) * unit,
        "profit": float(us["profit"].sum()) * unit,
        "accounts_retained": int((ours & kept).sum()),
        "share_of_wallet": float(np.where(live, t.wallet[:, US], 0.0).mean()),
        "mean_trust": float(t.trust[live, US].mean()) if live.any() else float("nan"),
    }])
    steps = pd.DataFrame({
        "seed": seed, "scenario": scenario, "step": us["step"].to_numpy(),
        "revenue": us["revenue"].to_numpy() * unit, "profit": us["profit"].to_numpy() * unit,
        "accounts": us["accounts"].to_numpy(), "mean_trust": us["mean_trust"].to_numpy(),
        "loyalty_person": us["loyalty_person"].to_numpy(),
        "loyalty_firm": us["loyalty_firm"].to_numpy(),
    })
    accounts = pd.DataFrame({
        "seed": seed, "scenario": scenario,
        "account_id": book.accounts["account_id"].to_numpy()[ours],
        "left": ~kept[ours],
        "trust": np.where(live, t.trust[:, US], np.nan)[ours],
        "months_since_contact": (model.steps - t.last_contact[:, US])[ours],
        "silent_months": silent[ours],
        "loyalty_person": t.loyalty_person[ours, US],
        "loyalty_firm": t.loyalty_firm[ours, US],
    })
    return {"outcomes": outcomes, "steps": steps, "accounts": accounts}


def run_whatif(
    book: Book, configs: dict[str, Config], seeds: int, jobs: int = 1
) -> Results:
    """Every scenario on seeds ``0..seeds−1``, in ``jobs`` processes; results in a fixed order."""
    tasks = [(name, seed) for seed in range(seeds) for name in configs]
    runs = Parallel(n_jobs=jobs)(
        delayed(run_one)(configs[name], book, name, seed) for name, seed in tasks
    )
    order = {name: k for k, name in enumerate(configs)}

    def stack(key: str) -> pd.DataFrame:
        frame = pd.concat([r[key] for r in runs], ignore_index=True)
        frame = frame.sort_values(["scenario", "seed"], key=lambda c: c.map(order)
                                  if c.name == "scenario" else c, kind="stable")
        return frame.reset_index(drop=True)

    return Results(stack("outcomes"), stack("steps"), stack("accounts"), list(configs))
