"""What a config field accepts, declared once next to the field (``sim.config``).

In the manner of scikit-learn's parameter constraints: each field of the
config dataclasses carries its type (the annotation) and, in its metadata,
one constraint (:class:`Interval`, :class:`OneOf`, :class:`Names`,
:class:`Numbers`).
:func:`sim.config.validate` checks every field against its annotation and
its constraint, then the few rules that relate two fields. A failed check is
one :class:`ConfigError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
import types
from collections.abc import Iterator
from dataclasses import Field, dataclass, fields, is_dataclass
from typing import Any, Union, get_args, get_origin


class ConfigError(ValueError):
    """A configuration value is outside what the model accepts."""


def fail(path: str, value: Any, allowed: str) -> None:
    """Raise the one-line :class:`ConfigError` of a field."""
    raise ConfigError(f"{path}={value!r} is not allowed: expected {allowed}")


def check(ok: bool, path: str, value: Any, allowed: str) -> None:
    """:func:`fail` unless ``ok``."""
    if not ok:
        fail(path, value, allowed)


def number(x: float) -> str:
    """A bound as people write it: 0.0, 0.5, 1e+06 (floats), 1_000, 2**63 - 1 (integers)."""
    if x == 2**63 - 1:
        return "2**63 - 1"
    if isinstance(x, float):
        return format(x, "g") if abs(x) >= 1e5 else repr(x)
    return f"{x:,}".replace(",", "_")


@dataclass(frozen=True)
class Interval:
    """A finite number (or, with ``integer``, an integer) in ``[lo, hi]``.

    ``open_lo``/``open_hi`` exclude an end; ``why`` says where a bound comes
    from when it is not obvious (memory, float32 range, run time).
    """

    lo: float
    hi: float
    integer: bool = False
    open_lo: bool = False
    open_hi: bool = False
    why: str = ""

    def allows(self, value: float) -> bool:
        """True if ``value`` is in the interval (NaN and ±inf never are)."""
        if not math.isfinite(value):
            return False
        above = value > self.lo if self.open_lo else value >= self.lo
        below = value < self.hi if self.open_hi else value <= self.hi
        return above and below

    def describe(self) -> str:
        """``an integer in [1, 1_000]``, ``a number in (0, 1]``, ``an integer ≥ 1`` (+ why)."""
        kind = "an integer" if self.integer else "a finite number"
        if math.isinf(self.hi):
            text = f"{kind} {'>' if self.open_lo else '≥'} {number(self.lo)}"
            return f"{text} ({self.why})" if self.why else text
        text = (f"{kind} in {'(' if self.open_lo else '['}{number(self.lo)}, "
                f"{number(self.hi)}{')' if self.open_hi else ']'}")
        return f"{text} ({self.why})" if self.why else text

    def check(self, path: str, value: Any) -> None:
        """Raise :class:`ConfigError` unless ``value`` is in the interval."""
        check(self.allows(value), path, value, self.describe())


#: the unit interval, the range of every share, probability, rate and threshold
UNIT = Interval(0.0, 1.0)


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of names."""

    names: tuple[str, ...]

    def check(self, path: str, value: Any) -> None:
        """Raise :class:`ConfigError` unless ``value`` is one of the names."""
        check(value in self.names, path, value, f"one of {list(self.names)}")


@dataclass(frozen=True)
class Names:
    """A non-empty list of names from a fixed set (each at most once if ``unique``)."""

    names: tuple[str, ...]
    unique: bool = False

    def check(self, path: str, value: list[str]) -> None:
        """Raise :class:`ConfigError` for an empty list, an unknown name or a repeat."""
        check(len(value) >= 1, path, value, "a non-empty list")
        for name in value:
            check(name in self.names, path, name, f"names from {list(self.names)}")
        check(not self.unique or len(set(value)) == len(value), path, value,
              "each name once")


@dataclass(frozen=True)
class Numbers:
    """A non-empty list of numbers, each in ``interval`` (and, if ``increasing``, in order)."""

    interval: Interval
    increasing: bool = False

    def check(self, path: str, value: list[float]) -> None:
        """Raise :class:`ConfigError` for an empty list, a number outside, or disorder."""
        check(len(value) >= 1, path, value, "a non-empty list")
        for k, x in enumerate(value):
            check(self.interval.allows(x), f"{path}[{k}]", x, self.interval.describe())
        check(not self.increasing or all(a < b for a, b in zip(value, value[1:], strict=False)),
              path, value, "a list in increasing order")


Constraint = Interval | OneOf | Names | Numbers


def walk(obj: Any, prefix: str = "") -> Iterator[tuple[Any, Field, str, Any]]:
    """Every field of a config dataclass, recursively: (owner, field, dotted path, value).

    List items that are dataclasses (scenario events) are walked with their
    index in the path (``scenario.events[0].t``).
    """
    for f in fields(obj):
        path, value = f"{prefix}{f.name}", getattr(obj, f.name)
        yield obj, f, path, value
        if is_dataclass(value):
            yield from walk(value, f"{path}.")
        elif isinstance(value, list):
            for k, item in enumerate(value):
                if is_dataclass(item):
                    yield from walk(item, f"{path}[{k}].")


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check each field of a config dataclass (recursively) against its declared constraint.

    Optional fields (``float | None``) are checked only when set.
    """
    for _, f, path, value in walk(obj, prefix):
        constraint: Constraint | None = f.metadata.get("bounds")
        if constraint is not None and value is not None:
            constraint.check(path, value)


# ---------------------------------------------------------------- types


def expected(tp: Any) -> str:
    """What a field of type ``tp`` accepts, in words."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(expected(a) for a in args)
    if origin is list:
        return f"a list, each item {expected(args[0])}"
    if origin is dict:
        return f"a mapping from {expected(args[0])} to {expected(args[1])}"
    if is_dataclass(tp):
        return f"a group with keys {[f.name for f in fields(tp)]}"
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string",
             type(None): "null"}
    return names.get(tp, str(tp))


def type_ok(value: Any, tp: Any) -> bool:
    """True if ``value`` has type ``tp`` (an int is a float; a bool is neither)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        return any(type_ok(value, a) for a in args)
    if origin is list:
        return isinstance(value, list) and all(type_ok(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            type_ok(k, args[0]) and type_ok(v, args[1]) for k, v in value.items())
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)
