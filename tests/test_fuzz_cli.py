"""Fuzzing the command line: any override either runs with finite outcomes or is refused cleanly.

Hypothesis draws one to three overrides on top of a tiny market (20 buyers,
3 steps): known keys and made-up ones (``+key=…``), and values of every kind
(integers of any size, floats with NaN and ±inf, booleans, unicode text,
quoted text, lists, ``${…}`` interpolations that resolve or not, ``null``).
Each example runs the real command line in this process (``sim.__main__.cli``
with ``sys.argv`` set: no interpreter start-up per example) in an empty
working directory, and must either

- exit 0 with a complete run whose tie state, steps table and books are
  finite (``tests.test_bounds.assert_finite_files``), or
- exit 2 with exactly one ``error:`` line naming the field (an override's
  key, or the part of it that is wrong), no traceback, and nothing written:
  the run folder does not exist and the working directory is empty.

Keys that size the run (buyers, suppliers, steps) get small values or bad
ones, so that no example runs for long. Config groups (``strategy=…``) are
left out: an unknown option is Hydra's own error (exit 1, documented).
The default suite runs :data:`DEFAULT_EXAMPLES` examples; ``-m slow`` (CI)
runs :data:`SLOW_EXAMPLES`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import Config
from sim.__main__ import cli
from tests.test_bounds import BOOKS

DEFAULT_EXAMPLES = 12
SLOW_EXAMPLES = 300
BASE = ["market.n_buyers=20", "steps=3", "hydra/job_logging=none", "hydra/hydra_logging=none"]
#: keys that size a run: small values only (or bad ones), so that every example is quick
SIZES = ("market.n_buyers", "market.n_suppliers", "steps", "collect_every",
         "sales.accounts_per_salesperson")
GROUPS = ("strategy", "market", "buyers", "network", "scenario", "experiment", "design", "hydra")


def _leaf_keys(node: Any, prefix: str = "") -> list[str]:
    out = []
    for f in fields(node):
        value = getattr(node, f.name)
        if is_dataclass(value):
            out += _leaf_keys(value, f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}")
    return out


KEYS = [k for k in _leaf_keys(Config()) if not k.startswith(("design.", "scenario."))]

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
made_up_keys = st.builds(lambda parts: "+" + ".".join(parts),
                         st.lists(names, min_size=1, max_size=3)).filter(
    lambda k: k[1:].split(".")[0] not in GROUPS and k[1:] not in KEYS)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 1e-16, 1e38, 2**63, 2**31]),
)
words = st.text(min_size=1, max_size=12)  # any unicode: quoted below, or bare (may not parse)
values = st.one_of(
    numbers.map(lambda x: str(x).lower()),
    st.booleans().map(lambda b: str(b).lower()),
    words,
    words.map(lambda w: "'" + w.replace("\\", "").replace("'", "") + "'"),
    st.lists(st.integers(-3, 3), max_size=3).map(lambda xs: "[" + ",".join(map(str, xs)) + "]"),
    st.sampled_from(KEYS + ["oops", "hydra:runtime.cwd", "oc.env:HOME", "oc.env:NOPE"])
      .map(lambda k: "${" + k + "}"),
    st.just("null"),
)
small_sizes = st.one_of(st.integers(-2, 12).map(str), values.filter(lambda v: not v.isdigit()))


@st.composite
def overrides(draw) -> list[str]:
    """One to three overrides ``key=value`` (known keys are not repeated)."""
    out, used = [], set()
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.one_of(st.sampled_from(KEYS), made_up_keys))
        if key in used:
            continue
        used.add(key)
        value = draw(small_sizes if key in SIZES else values)
        out.append(f"{key}={value}")
    return out


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """``python -m sim *args`` in this process: exit status and stderr."""
    argv = sys.argv
    sys.argv = ["sim", *args]
    try:
        cli()
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.argv = argv
    return status, capsys.readouterr().err


def assert_finite_files(run: Path) -> None:
    """A complete run folder whose results are finite."""
    assert json.loads((run / "manifest.json").read_text())["complete"] is True
    json.dumps(json.loads((run / "summary.json").read_text()), allow_nan=False)
    steps = pd.read_parquet(run / "steps.parquet")
    assert not np.isinf(steps.select_dtypes("number").to_numpy()).any()
    assert np.isfinite(steps[list(BOOKS)].to_numpy()).all()


def check_example(args: list[str], work: Path, capsys) -> None:
    """Run one example in the empty folder ``work`` and check the outcome."""
    run = work / "run"
    status, err = run_cli([*BASE, *args, f"hydra.run.dir={run}"], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    if status == 0:
        assert_finite_files(run)
        return
    assert status == 2, (args, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
    keys = [a.partition("=")[0].lstrip("+") for a in args]
    prefixes = {".".join(k.split(".")[:n]) for k in keys for n in range(1, k.count(".") + 2)}
    assert any(f"{p}=" in lines[0] or f"'{p}=" in lines[0] for p in prefixes), (args, err)
    assert "Traceback" not in err
    assert list(work.iterdir()) == [], (args, list(work.iterdir()))


def _fuzz(examples: int):
    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(args=overrides())
    def fuzz(tmp_path_factory, monkeypatch, capsys, args):
        work = tmp_path_factory.mktemp("fuzz")
        monkeypatch.chdir(work)
        check_example(args, work, capsys)
    return fuzz


test_fuzzed_overrides_run_finite_or_exit_2_cleanly = _fuzz(DEFAULT_EXAMPLES)
test_many_fuzzed_overrides = pytest.mark.slow(_fuzz(SLOW_EXAMPLES))


@pytest.mark.parametrize("args", [["buyers.name='\x1f'"], ["strategy.name='a\x07b'"]])
def test_control_characters_in_a_text_value(args, tmp_path, monkeypatch, capsys):
    """Found by the fuzz test: a control character in a text value made the steps table's
    parameter columns (read back as YAML) raise; the run must finish or refuse cleanly."""
    monkeypatch.chdir(tmp_path)
    check_example(args, tmp_path, capsys)
