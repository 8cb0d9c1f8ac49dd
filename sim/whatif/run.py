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
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.errors import HydraException
from joblib import Parallel, delayed
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from sim.api import CONFIG_DIR, compose_config
from sim.config import Config, ConfigError, to_config
from sim.metrics import main_supplier
from sim.model import RelationshipModel
from sim.whatif.book import Book
from sim.whatif.people import LeaverError, resolve_salesperson
from sim.whatif.start import book_overrides, money_unit, start_model

BASELINE = "baseline"
US = 0  # our supplier is column 0 of the model (see sim.whatif.book.load_book)
FOLLOW_MONTHS = 6  # default months over which a departed salesperson's accounts follow

#: Our costs by kind (M14, :func:`sim.rules.economics.supplier_costs`); they sum to ``cost``.
COSTS: dict[str, str] = {
    "cost_units": "goods",  # unit cost × volume delivered
    "cost_sales_force": "sales force",  # salaries
    "cost_coordination": "coordination",  # κ × overhead per account × active accounts
    "cost_contacts": "contacts",  # cross-functional and monitoring contacts
    "cost_investments": "investments",  # dependency investments (M10)
    "cost_one_off": "one-off",  # events' one-off costs (M15)
    "cost_to_serve": "cost to serve",  # our side of the transaction cost (M11)
    "cost_services": "service lines",  # delivering the service lines sold (F11)
}

#: Per-seed outcomes for our firm, higher is better for each (label, unit).
OUTCOMES: dict[str, str] = {
    "revenue": "Revenue over the horizon",
    "profit": "Profit over the horizon",
    "accounts_retained": "Accounts retained",
    "share_of_wallet": "Share of wallet",
    "mean_trust": "Mean trust",
}


@dataclass(frozen=True)
class Scenario:
    """A scenario's validated config and the salespeople its events name (book order).

    ``salespeople`` maps an event's position in ``cfg.scenario.events`` to
    the index of the leaving salesperson in its firm's sales force; the
    config itself keeps ``salesperson: -1`` (the model's own check assumes
    a sales force sized by ``sales.accounts_per_salesperson``, not the book's).
    """

    cfg: Config
    salespeople: dict[int, int] = field(default_factory=dict)


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
    overrides: Sequence[str] = (), leaver: str = "top_revenue",
    follow_months: int = FOLLOW_MONTHS,
) -> dict[str, Scenario]:
    """A validated config per scenario (baseline first), sized to the book, ``steps = horizon``.

    A scenario is a preset name of the ``scenario`` group (``configs/scenario/``)
    or a path to a YAML file of the same shape. With ``at``, its events are
    moved so that the first happens at month ``at`` (gaps kept). Supplier 0
    of a scenario is our firm. ``overrides`` are Hydra overrides of the model
    (``sales.salary=0.6``); the keys the book fixes cannot be overridden.
    ``leaver`` and ``follow_months``: see the module doc.
    """
    fixed = book_overrides(book)
    try:  # checked even when no scenario has someone leave
        resolve_salesperson(book, leaver, 0.0)
    except LeaverError as err:
        raise ConfigError(f"leaver={leaver}: {err}") from None
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
            named: dict[int, object] = {}
            if from_file:
                if not path.is_file():
                    raise ConfigError(f"scenario file {path} does not exist")
                raw = OmegaConf.load(path)
                named = _take_salespeople(raw)
                dcfg.scenario = OmegaConf.merge({"name": path.stem}, raw)
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
        label = cfg.scenario.name if from_file else name
        people = {}
        for k, e in enumerate(cfg.scenario.events):
            if e.kind != "salesperson_leaves":
                continue
            if e.duration == 1:
                e.duration = follow_months
            which = named.get(k, leaver if e.salesperson < 0 else e.salesperson)
            if e.supplier >= len(book.suppliers):
                continue
            try:
                people[k] = resolve_salesperson(book, which, cfg.buyers.haggle_discount,
                                                e.supplier)
            except LeaverError as err:
                raise ConfigError(f"scenario {label!r}, event {k} (salesperson_leaves): "
                                  f"{err}") from None
            e.salesperson = -1
        configs[label] = Scenario(cfg, people)
    return configs


def _take_salespeople(raw: DictConfig) -> dict[int, object]:
    """Remove ``salesperson`` from a scenario file's events: {event position: id or index}.

    The book's ids (``salesperson: anna``) are not integers, and its indices
    are checked against the book's sales force, not the config's.
    """
    taken = {}
    for k, e in enumerate(raw.get("events") or []):
        if isinstance(e, DictConfig) and "salesperson" in e:
            taken[k] = e.pop("salesperson")
    return taken


def run_one(scenario: Scenario, book: Book, name: str, seed: int) -> dict[str, pd.DataFrame]:
    """One run of a scenario on a seed: our outcomes, monthly series and accounts at the end.

    Money is in the book's currency (model money × :func:`~sim.whatif.start.money_unit`).
    An account *left* us if we are no longer its main supplier (largest
    share of wallet among active ties) at the horizon; *silent months*
    counts the months in which it was dissatisfied with us without
    complaining (F5, M9). ``book_revenue`` and ``book_trust`` follow the
    book's own accounts of ours (the warm-start check of the report);
    ``book_accounts_lost`` counts those we were the main supplier of at the
    start and no longer are (accounts lost so far).
    """
    cfg = dataclasses.replace(scenario.cfg, seed=seed)
    model = start_model(cfg, book, scenario.salespeople)
    ours = (book.accounts["current_supplier"] == book.our_supplier).to_numpy()
    silent = np.zeros(len(book.accounts), dtype=np.int64)
    unit = money_unit(book, cfg)
    paid = 1.0 - cfg.buyers.haggle_discount * model.market.buyers.adversarial[ours]
    book_revenue, book_trust, book_lost = [], [], []
    held = ours & (main_supplier(model.ties.wallet, model.ties.active) == US)  # ours at month 0
    costs = dict.fromkeys(COSTS, 0.0)
    for _ in range(cfg.steps):
        model.step()
        for kind, value in cost_parts(model).items():
            costs[kind] += value * unit
        t = model.ties
        silent += t.silent[:, US]
        market = model.market
        shipped = np.where(market.stockout[ours, US], 0.0, market.orders[ours, US])
        book_revenue.append(float((shipped * paid).sum()) * float(market.policy.list_price[US]))
        live = t.active[ours, US]
        book_trust.append(float(t.trust[ours, US][live].mean()) if live.any() else np.nan)
        book_lost.append(int((held & (market.buyers.main_supplier != US)).sum()))
    t = model.ties
    frame = model.supplier_frame()
    us = frame[(frame["supplier"] == US) & (frame["step"] >= 1)].sort_values("step")
    live = t.active[:, US]
    kept = model.market.buyers.main_supplier == US
    outcomes = pd.DataFrame([{
        "seed": seed, "scenario": name,
        "revenue": float(us["revenue"].sum()) * unit,
        "profit": float(us["profit"].sum()) * unit,
        "accounts_retained": int((ours & kept).sum()),
        "share_of_wallet": float(np.where(live, t.wallet[:, US], 0.0).mean()),
        "mean_trust": float(t.trust[live, US].mean()) if live.any() else float("nan"),
        "cost": float(us["cost"].sum()) * unit, **costs,
    }])
    steps = pd.DataFrame({
        "seed": seed, "scenario": name, "step": us["step"].to_numpy(),
        "revenue": us["revenue"].to_numpy() * unit, "profit": us["profit"].to_numpy() * unit,
        "accounts": us["accounts"].to_numpy(), "mean_trust": us["mean_trust"].to_numpy(),
        "loyalty_person": us["loyalty_person"].to_numpy(),
        "loyalty_firm": us["loyalty_firm"].to_numpy(),
        "book_revenue": np.asarray(book_revenue) * unit, "book_trust": book_trust,
        "book_accounts_lost": book_lost,
    })
    accounts = pd.DataFrame({
        "seed": seed, "scenario": name,
        "account_id": book.accounts["account_id"].to_numpy()[ours],
        "left": ~kept[ours],
        "trust": np.where(live, t.trust[:, US], np.nan)[ours],
        "months_since_contact": (model.steps - t.last_contact[:, US])[ours],
        "silent_months": silent[ours],
        "loyalty_person": t.loyalty_person[ours, US],
        "loyalty_firm": t.loyalty_firm[ours, US],
    })
    return {"outcomes": outcomes, "steps": steps, "accounts": accounts}


def cost_parts(model: RelationshipModel) -> dict[str, float]:
    """Our cost in the step just closed, by kind (:data:`COSTS`), in model money (M14).

    The terms of :func:`sim.rules.economics.supplier_costs` plus the events'
    one-off costs, read from the step's ledger: they sum to the step's cost.
    """
    cfg, ledger, firm = model.cfg, model.market.ledger, model.market.policy
    return {
        "cost_units": cfg.market.unit_cost * float(ledger.volume[US]),
        "cost_sales_force": cfg.sales.salary * float(model.market.salesforce.headcount(
            len(model.supplier_list))[US]),
        "cost_coordination": float(firm.coordination[US] * firm.overhead_per_account[US])
        * int(model.ties.active[:, US].sum()),
        "cost_contacts": cfg.relationship.contact_cost * float(ledger.contacts[US]),
        "cost_investments": cfg.relationship.dependency_cost * float(ledger.investments[US]),
        "cost_one_off": float(ledger.one_off_cost[US]),
        "cost_to_serve": float(ledger.cost_to_serve[US]),
        "cost_services": float(ledger.service_cost[US]),
    }


def run_whatif(
    book: Book, scenarios: dict[str, Scenario], seeds: int, jobs: int = 1, progress: bool = False
) -> Results:
    """Every scenario on seeds ``0..seeds−1``, in ``jobs`` processes; results in a fixed order.

    ``progress`` draws a progress bar on stderr (one tick per finished run).
    """
    tasks = [(name, seed) for seed in range(seeds) for name in scenarios]
    runs = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(run_one)(scenarios[name], book, name, seed) for name, seed in tasks
    )
    runs = list(tqdm(runs, total=len(tasks), desc="what-if runs", unit="run", file=sys.stderr,
                     disable=not progress, dynamic_ncols=True))
    order = {name: k for k, name in enumerate(scenarios)}

    def stack(key: str) -> pd.DataFrame:
        frame = pd.concat([r[key] for r in runs], ignore_index=True)
        frame = frame.sort_values(["scenario", "seed"], key=lambda c: c.map(order)
                                  if c.name == "scenario" else c, kind="stable")
        return frame.reset_index(drop=True)

    return Results(stack("outcomes"), stack("steps"), stack("accounts"), list(scenarios))
