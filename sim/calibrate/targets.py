"""What a calibration fits: targets (observed outcomes with standard errors) and parameters.

A **target** names an outcome the model measures and the value observed in
the world, with its standard error:

- ``<strategy>.<outcome>`` (or ``strategies.<strategy>.<outcome>``): a key of
  a strategy's entry of ``summary.json`` — per-supplier means over the
  summary window, e.g. ``company_wide.market_share``, ``lone_seller.retention``;
- ``market.<outcome>``: a key of ``summary.json``'s ``market`` entry
  (``market.mean_trust``, ``market.loyalty_order``);
- ``F7.<measure>``: the effect of fact F7 measured in the same run
  (:func:`sim.validate.facts.f7_measures`, over the summary window):
  ``F7.ratio`` (non-productive share of face time, most / least trusted
  eighth of buyers), ``F7.cost_ratio`` (alias ``F7.also``: procurement cost
  per unit, least / most trusted), ``F7.share_least_trusted``,
  ``F7.share_most_trusted``.

The other facts are effects of a *pair* of markets (F1: breadth 0.9 vs 0.1)
and are directional claims without a number in the sources; they are not
targets.

A **parameter** is a numeric config key with the bounds the search keeps
to, ``relationship.decay:[0.005,0.1]``; the bounds must lie inside what the
field accepts (:mod:`sim.config`). Every problem is checked here, before
anything runs, and raised as one :class:`CalibrationError` naming the field,
the value and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.config import STRATEGIES, Config, ConfigError, type_hints
from sim.constraints import Interval
from sim.metrics import MARKET_METRICS, OUTCOME_KIND, RANGES, SUPPLIER_METRICS, WINDOW_METRICS

#: F7's measures and the range each can take (ratios of non-negative amounts, shares)
F7_RANGES: dict[str, tuple[float, float]] = {
    "ratio": (0.0, math.inf),
    "cost_ratio": (0.0, math.inf),
    "share_least_trusted": (0.0, 1.0),
    "share_most_trusted": (0.0, 1.0),
}
F7_ALIASES = {"also": "cost_ratio"}
STRATEGY_OUTCOMES: tuple[str, ...] = (*SUPPLIER_METRICS, *WINDOW_METRICS)

_PARAM = re.compile(r"\s*([A-Za-z_][\w.]*)\s*:\s*\[\s*([^,\]]+)\s*,\s*([^\]]+)\s*\]\s*")


class CalibrationError(ValueError):
    """Input a calibration cannot use: one line naming the field, the value and what is allowed."""


@dataclass(frozen=True)
class Target:
    """An observed outcome: ``name`` as the model measures it, ``value`` ± ``se`` (one s.e.)."""

    name: str
    value: float
    se: float
    source: str = ""

    @property
    def group(self) -> str:
        """``strategies``, ``market`` or ``F7``: where the model's measure is read."""
        head = self.name.split(".", 1)[0]
        return "market" if head == "market" else "F7" if head == "F7" else "strategies"

    @property
    def key(self) -> tuple[str, str]:
        """(strategy, market or F7; outcome or measure) of the canonical name."""
        head, tail = self.name.split(".", 1)
        return head, tail


@dataclass(frozen=True)
class Parameter:
    """A config key the calibration varies in ``[low, high]`` (integers for integer fields)."""

    key: str
    low: float
    high: float
    integer: bool = False

    def spec(self) -> str:
        """As written on the command line: ``key:[low,high]``."""
        return f"{self.key}:[{self.low:g},{self.high:g}]"


@dataclass(frozen=True)
class Problem:
    """Targets, parameters and the market they are measured in (fixed ``overrides``)."""

    targets: tuple[Target, ...]
    params: tuple[Parameter, ...]
    overrides: tuple[str, ...] = ()

    def overrides_for(self, theta: Sequence[float]) -> tuple[str, ...]:
        """The config overrides of the candidate ``theta`` (one value per parameter)."""
        return (*self.overrides, *(f"{p.key}={_value(p, v)}"
                                   for p, v in zip(self.params, theta, strict=True)))


def _value(param: Parameter, value: float) -> str:
    return str(int(round(value))) if param.integer else repr(float(value))


# ---------------------------------------------------------------- targets


def canonical(name: str) -> str:
    """The canonical outcome name (``strategies.`` dropped, ``F7.also`` → ``F7.cost_ratio``),
    or :class:`CalibrationError` for a name the model does not measure."""
    parts = name.split(".")
    if parts[0] == "strategies":
        parts = parts[1:]
    if len(parts) != 2:
        raise CalibrationError(
            f"target {name!r} is not allowed: expected <strategy>.<outcome>, "
            "market.<outcome> or F7.<measure> (e.g. company_wide.market_share, F7.ratio)")
    head, tail = parts
    if head == "market":
        _known(name, tail, MARKET_METRICS)
    elif head == "F7":
        tail = F7_ALIASES.get(tail, tail)
        _known(name, tail, tuple(F7_RANGES))
    elif re.fullmatch(r"F\d+[a-z]?|L\d+[a-z]?", head):
        raise CalibrationError(
            f"target {name!r} is not allowed: {head}'s effect compares a pair of markets and "
            f"has no number in the sources; facts' effects allowed: "
            f"{[f'F7.{m}' for m in F7_RANGES]} (and F7.also)")
    elif head in STRATEGIES:
        _known(name, tail, STRATEGY_OUTCOMES)
    else:
        raise CalibrationError(
            f"target {name!r} is not allowed: {head!r} is not a strategy, 'market' or 'F7' "
            f"(strategies: {list(STRATEGIES)})")
    return f"{head}.{tail}"


def _known(name: str, key: str, allowed: Sequence[str]) -> None:
    if key not in allowed:
        raise CalibrationError(f"target {name!r} is not allowed: {key!r} is not measured; "
                               f"expected one of {list(allowed)}")


def outcome_range(target: Target) -> tuple[float, float]:
    """The values the target's outcome can take (:data:`sim.metrics.RANGES` by kind)."""
    head, tail = target.key
    if head == "F7":
        return F7_RANGES[tail]
    return RANGES[OUTCOME_KIND.get(tail, "real")]


def read_targets(entries: Mapping[str, Any], where: str) -> tuple[Target, ...]:
    """Targets from ``{name: {value, se, source?}}`` (or ``{name: [value, se]}``)."""
    if not isinstance(entries, Mapping) or not entries:
        raise CalibrationError(f"{where}: targets={entries!r} is not allowed: expected a "
                               "mapping of outcome names to {value: …, se: …}")
    targets, seen = [], set()
    for name, entry in entries.items():
        if isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) == 2:
            entry = {"value": entry[0], "se": entry[1]}
        if not isinstance(entry, Mapping) or not {"value", "se"} <= set(entry):
            raise CalibrationError(f"{where}: target {name}={entry!r} is not allowed: expected "
                                   "{value: <observed>, se: <standard error>}")
        key = canonical(str(name))
        if key in seen:
            raise CalibrationError(f"{where}: target {name!r} is given twice")
        seen.add(key)
        value, se = _number(f"{name}.value", entry["value"]), _number(f"{name}.se", entry["se"])
        if not se > 0:
            raise CalibrationError(f"{where}: {name}.se={se!r} is not allowed: expected a "
                                   "standard error > 0")
        target = Target(key, value, se, str(entry.get("source", "")))
        low, high = outcome_range(target)
        if not low <= value <= high:
            raise CalibrationError(
                f"{where}: {name}.value={value!r} is unreachable: the model's {key} lies in "
                f"[{low:g}, {high:g}]")
        targets.append(target)
    return tuple(targets)


def _number(field_name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"{field_name}={value!r} is not allowed: expected a finite number")
    return float(value)


# ---------------------------------------------------------------- parameters


def field_bounds(key: str) -> tuple[Interval, bool]:
    """The allowed interval of a numeric config field and whether it is an integer."""
    node: Any = Config
    parts = key.split(".")
    for k, part in enumerate(parts):
        hints = type_hints(node)
        if not is_dataclass(node) or part not in hints:
            where = ".".join(parts[:k]) or "the config"
            options = sorted(hints) if is_dataclass(node) else []
            raise CalibrationError(f"params: {key!r} is not allowed: {where} has no key "
                                   f"{part!r} (keys: {options})")
        hint = hints[part]
        if k < len(parts) - 1:
            node = hint
            continue
        meta = next(f.metadata for f in fields(node) if f.name == part)
        bounds = meta.get("bounds")
        if hint not in (float, int) or not isinstance(bounds, Interval):
            raise CalibrationError(f"params: {key!r} is not allowed: only numeric fields with "
                                   "bounds can be calibrated")
        return bounds, hint is int
    raise CalibrationError(f"params: {key!r} is not allowed")  # pragma: no cover


def parse_param(text: str) -> Parameter:
    """``key:[low,high]`` as a :class:`Parameter`, checked against the field's bounds."""
    match = _PARAM.fullmatch(text)
    if not match:
        raise CalibrationError(f"params: {text!r} is not allowed: expected key:[low,high], "
                               "e.g. relationship.decay:[0.005,0.1]")
    key = match.group(1)
    try:
        low, high = float(match.group(2)), float(match.group(3))
    except ValueError:
        raise CalibrationError(f"params: {text!r} is not allowed: bounds must be numbers") from None
    return make_param(key, low, high)


def make_param(key: str, low: float, high: float) -> Parameter:
    """A :class:`Parameter`, or :class:`CalibrationError` for bad bounds."""
    allowed, integer = field_bounds(key)
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise CalibrationError(f"params: {key}:[{low:g},{high:g}] is not allowed: expected "
                               "finite bounds with low < high")
    for end in (low, high):
        if not allowed.allows(end) or (integer and end != int(end)):
            raise CalibrationError(f"params: {key}:[{low:g},{high:g}] is not allowed: {key} "
                                   f"must be {allowed.describe()}")
    return Parameter(key, low, high, integer)


def split_list(text: str) -> list[str]:
    """``[a:[1,2],b:[3,4]]`` → ``['a:[1,2]', 'b:[3,4]']``: commas at bracket depth 1 split."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    items, depth, current = [], 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items


# ---------------------------------------------------------------- the file


def load_problem(path: Path | str, params: Sequence[str] | None = None,
                 overrides: Sequence[str] = ()) -> Problem:
    """The problem of a targets YAML file; ``params`` and ``overrides`` add to the file's.

    The file holds ``targets`` (required), and optionally ``params``
    (``{key: [low, high]}``) and ``overrides`` (the market the targets were
    observed in, e.g. ``[market.n_buyers=1000, steps=150]``). The
    parameters given on the command line replace the file's. Unknown keys,
    bad bounds, values the outcome cannot take, and targets of a strategy no
    supplier of the market follows raise :class:`CalibrationError`.
    """
    from sim.api import make_config

    path = Path(path)
    try:
        node = yaml.safe_load(path.read_text())
    except OSError as err:
        raise CalibrationError(f"targets={path}: cannot read it ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise CalibrationError(f"targets={path}: not YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(node, Mapping):
        raise CalibrationError(f"targets={path}: expected a mapping with 'targets'")
    unknown = sorted(set(node) - {"targets", "params", "overrides"})
    if unknown:
        raise CalibrationError(f"targets={path}: key {unknown[0]!r} is not allowed: expected "
                               "targets, params, overrides")
    targets = read_targets(node.get("targets"), str(path))
    if params:
        chosen = [parse_param(p) for p in params]
    else:
        given = node.get("params") or {}
        if not isinstance(given, Mapping):
            raise CalibrationError(f"targets={path}: params={given!r} is not allowed: expected "
                                   "{key: [low, high]}")
        chosen = []
        for key, bounds in given.items():
            if not (isinstance(bounds, Sequence) and len(bounds) == 2):
                raise CalibrationError(f"params: {key}={bounds!r} is not allowed: expected "
                                       "[low, high]")
            chosen.append(make_param(str(key), _number(f"{key}.low", bounds[0]),
                                     _number(f"{key}.high", bounds[1])))
    if not chosen:
        raise CalibrationError("params: none given: expected params=[key:[low,high],...] or "
                               "params in the targets file")
    keys = [p.key for p in chosen]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise CalibrationError(f"params: {twice[0]!r} is given twice")
    file_overrides = node.get("overrides") or []
    if not isinstance(file_overrides, list) or not all(isinstance(o, str)
                                                       for o in file_overrides):
        raise CalibrationError(f"targets={path}: overrides={file_overrides!r} is not allowed: "
                               "expected a list of key=value strings")
    problem = Problem(targets, tuple(chosen), (*file_overrides, *overrides))
    fixed = {o.partition("=")[0].lstrip("+") for o in problem.overrides}
    clash = sorted(fixed & set(keys))
    if clash:
        raise CalibrationError(f"params: {clash[0]!r} is also fixed by an override")
    try:  # the box's centre must be a valid config (candidates breaking a relation between
        # fields elsewhere in the box are scored infeasible by the search)
        cfg = make_config(problem.overrides_for([(p.low + p.high) / 2 for p in chosen]))
    except ConfigError as err:
        raise CalibrationError(str(err)) from None
    assignment = cfg.strategy.assignment
    present = {assignment[j % len(assignment)] for j in range(cfg.market.n_suppliers)}
    for target in targets:
        head = target.key[0]
        if head in STRATEGIES and head not in present:
            raise CalibrationError(
                f"target {target.name!r} is unreachable: no supplier follows {head} in this "
                f"market (strategy.assignment={cfg.strategy.assignment}); set strategy=… in "
                "the file's overrides")
    return problem
