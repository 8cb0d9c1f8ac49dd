"""Bad configs through the real command line: one message, exit status 2, nothing written.

Each case runs ``python -m sim <overrides> hydra.run.dir=<tmp>/out`` in an
empty working directory and asserts that the process exits with status 2,
that stderr is exactly one line ``error: <field>=<value> is not allowed:
(unknown key;) expected …`` naming the field and the offending value (no traceback), and that
the working directory is still empty (no result folder, no log, no stray
file). A subprocess costs about 3 s, so the default suite runs the cases in
:data:`REPRESENTATIVE` and the whole corpus is marked ``slow`` (CI and
``pytest -m slow tests/test_bad_input.py`` run it; about 70 s on 2 cores).

The last part checks that nothing is ever deleted: whatever ``hydra.run.dir``
(or ``hydra.sweep.dir``) points at — an existing folder, a file, the working
folder, a path a bad seed climbs out to — what was there stays byte for byte.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim import Config, ConfigError, RelationshipModel
from sim.config import EventConfig, validate
from tests.conftest import set_field

ROOT = Path(__file__).resolve().parents[1]

#: (overrides, what stderr must contain: the field and its value as the message prints them)
CORPUS: dict[str, tuple[list[str], str]] = {
    # wrong types (Hydra accepts the value; the dataclass types reject it)
    "steps not a number": (["steps=abc"], "steps='abc'"),
    "steps in float notation": (["steps=1e3"], "steps=1000.0"),
    "fractional buyers": (["market.n_buyers=1.5"], "market.n_buyers=1.5"),
    "seed a boolean": (["seed=true"], "seed=True"),
    "memory a word": (["buyers.memory=high"], "buyers.memory='high'"),
    "memory a list": (["buyers.memory=[0.1]"], "buyers.memory=[0.1]"),
    "assignment not a list": (["strategy.assignment=lone_seller"],
                              "strategy.assignment='lone_seller'"),
    "departments a number": (["market.departments=5"], "market.departments=5"),
    "capacity a word": (["market.supply_capacity=lots"], "market.supply_capacity='lots'"),
    "profile replaced by a number": (["strategy.company_wide=3"], "strategy.company_wide=3"),
    "events not a list": (["scenario.events=5"], "scenario.events=5"),
    "fractional degree": (["network.degree=2.5"], "network.degree=2.5"),
    "event time a word": (["scenario.events=[{kind:price_war,t:soon}]"],
                          "scenario.events[0].t='soon'"),
    # unknown keys (typos), force-added with "+"
    "unknown top-level key": (["+foo=1"], "foo=1"),
    "unknown market key": (["+market.bogus=1"], "market.bogus=1"),
    "typo in a buyers key": (["+buyers.memroy=0.2"], "buyers.memroy=0.2"),
    "typo in a relationship key": (["+relationship.decai=0.1"], "relationship.decai=0.1"),
    "typo in an event key": (["scenario.events=[{kind:price_war,tt:3}]"],
                             "scenario.events[0].tt=3"),
    # out of range, unknown names
    "empty market: no buyers": (["market.n_buyers=0"], "market.n_buyers=0"),
    "no suppliers": (["market.n_suppliers=0"], "market.n_suppliers=0"),
    "no steps": (["steps=0"], "steps=0"),
    "negative seed": (["seed=-1"], "seed=-1"),
    "unknown engine": (["engine=turbo"], "engine='turbo'"),
    "collect every 0 steps": (["collect_every=0"], "collect_every=0"),
    "warm-up is the whole run": (["warmup_share=1.0"], "warmup_share=1.0"),
    "memory 0": (["buyers.memory=0"], "buyers.memory=0.0"),
    "memory above 1": (["buyers.memory=1.5"], "buyers.memory=1.5"),
    "share above 1": (["buyers.adversarial_share=1.5"], "buyers.adversarial_share=1.5"),
    "negative probability": (["buyers.purchase_prob=-0.1"], "buyers.purchase_prob=-0.1"),
    "decay above 1": (["relationship.decay=1.2"], "relationship.decay=1.2"),
    "hazard above 1": (["sales.departure_hazard=2"], "sales.departure_hazard=2.0"),
    "coordination above 1": (["strategy.company_wide.coordination=1.5"],
                             "strategy.company_wide.coordination=1.5"),
    "unknown network": (["network.kind=lattice"], "network.kind='lattice'"),
    "consideration 0": (["network.consideration=0"], "network.consideration=0"),
    "rewiring not a number": (["network.rewiring=nan"], "network.rewiring=nan"),
    "infinite noise": (["market.noise=inf"], "market.noise=inf"),
    "free goods": (["market.price=0"], "market.price=0.0"),
    "no discounting": (["market.discount_rate=0"], "market.discount_rate=0.0"),
    "unknown payoff": (["market.payoff=profit"], "market.payoff='profit'"),
    "departments without product": (["market.departments=[sales,service]"],
                                     "market.departments=['sales', 'service']"),
    "department twice": (["market.departments=[product,product]"],
                         "market.departments=['product', 'product']"),
    "unknown department": (["market.departments=[product,marketing]"],
                           "market.departments='marketing'"),
    "unknown strategy": (["strategy.assignment=[lone_seller,solo]"],
                         "strategy.assignment='solo'"),
    "no strategy": (["strategy.assignment=[]"], "strategy.assignment=[]"),
    "no accounts per salesperson": (["sales.accounts_per_salesperson=0"],
                                    "sales.accounts_per_salesperson=0"),
    "no quotes": (["buyers.quotes=0"], "buyers.quotes=0"),
    "hybrid gives goods away": (["strategy.hybrid.price_factor=0"],
                                "strategy.hybrid.price_factor=0.0"),
    # contradictory settings
    "collects after the run": (["steps=20", "collect_every=50"], "collect_every=50"),
    "negative transaction cost at full trust": (["relationship.tc_trust_slope=0.6"],
                                                "relationship.tc_trust_slope=0.6"),
    "event after the horizon": (["scenario=salesperson_leaves", "steps=10"],
                                "scenario.events[0].t=50"),
    "salesperson who cannot exist": (
        ["scenario=salesperson_leaves", "market.n_buyers=100", "+scenario.events.0.salesperson=3"],
        "scenario.events[0].salesperson=3"),
    "event at an unknown supplier": (["scenario=price_war", "scenario.events.0.supplier=9"],
                                     "scenario.events[0].supplier=9"),
    "poached to itself": (["scenario=salesperson_leaves", "scenario.events.0.target=0"],
                          "scenario.events[0].target=0"),
    "failure in a missing department": (
        ["scenario=quality_failure", "market.departments=[product,sales]",
         "scenario.events.0.department=service"], "scenario.events[0].department='service'"),
    "severity above 1": (["scenario=price_war", "scenario.events.0.severity=2"],
                         "scenario.events[0].severity=2.0"),
    "entrant with an unknown strategy": (["scenario=new_entrant",
                                          "scenario.events.0.strategy=franchise"],
                                         "scenario.events[0].strategy='franchise'"),
    "unknown event kind": (["scenario.events=[{kind:merger,t:5}]"],
                           "scenario.events[0].kind='merger'"),
}

#: run in the default suite; the whole corpus runs with -m slow
REPRESENTATIVE = (
    "steps not a number", "fractional buyers", "event time a word", "unknown market key",
    "typo in an event key", "empty market: no buyers", "memory 0", "unknown network",
    "rewiring not a number", "collects after the run", "event after the horizon",
    "salesperson who cannot exist",
)


def sim(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python -m sim`` in ``cwd``, output captured."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _cases() -> list:
    return [pytest.param(*CORPUS[name], id=name,
                         marks=() if name in REPRESENTATIVE else pytest.mark.slow)
            for name in CORPUS]


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 40 and set(REPRESENTATIVE) <= set(CORPUS)


@pytest.mark.parametrize(("overrides", "names"), _cases())
def test_bad_config_exits_2_with_one_message_and_writes_nothing(tmp_path, overrides, names):
    proc = sim([*overrides, f"hydra.run.dir={tmp_path / 'out'}"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "is not allowed:" in lines[0]
    assert "expected" in lines[0]  # what is allowed
    assert names in lines[0], lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        (["strategy=bogus"], "strategy/bogus"),  # unknown option of a config group
        (["market.bogus=1"], "market.bogus"),  # unknown key without "+": Hydra's override rule
        (["+szzz.a=0", "+szzz=0"], "'szzz'"),  # a key added twice (found by the fuzz test)
    ],
)
def test_hydra_own_errors_are_one_line_and_write_nothing(tmp_path, overrides, names):
    proc = sim([*overrides, f"hydra.run.dir={tmp_path / 'out'}"], cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and names in lines[0], lines
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- the same rules on configs built in Python (no Hydra): types are checked too ------------


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("steps", "abc", "steps='abc' is not allowed: expected an integer"),
        ("market.n_buyers", 2.0, "market.n_buyers=2.0 is not allowed: expected an integer"),
        ("buyers.memory", None, "buyers.memory=None is not allowed: expected a number"),
        ("seed", True, "seed=True is not allowed: expected an integer"),
        ("strategy.assignment", "hybrid", "strategy.assignment='hybrid' is not allowed"),
        ("market.supply_capacity", "1", "expected a number or null"),
    ],
)
def test_python_configs_are_type_checked(path, value, message):
    cfg = Config()
    set_field(cfg, path, value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate(cfg)


def test_salesperson_index_is_bounded_by_the_largest_possible_sales_force():
    cfg = Config()
    cfg.market.n_buyers, cfg.sales.accounts_per_salesperson = 100, 40  # at most 3 people
    cfg.network.consideration = cfg.market.n_suppliers  # every buyer considers every supplier
    cfg.scenario.events = [EventConfig(kind="salesperson_leaves", t=5, supplier=0, salesperson=2)]
    model = RelationshipModel(validate(cfg))
    assert {s.planned_salespeople for s in model.supplier_list} == {3}
    cfg.scenario.events[0].salesperson = 3
    with pytest.raises(ConfigError, match=re.escape("salesperson=3 is not allowed")):
        validate(cfg)


# --- a rejected config or an unusable folder never deletes anything ------------------------


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path below ``folder`` with the content of its files."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def victim(tmp_path) -> Path:
    """A folder of someone else's data in the working directory."""
    folder = tmp_path / "victim"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("keep me\n")
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n")
    return folder


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        pytest.param(["hydra.run.dir=victim", "steps=abc"], 2, "steps='abc'",
                     id="bad value, existing folder"),
        pytest.param(["hydra.run.dir=victim"], 1, "victim is not empty", id="existing folder",
                     marks=pytest.mark.slow),
        pytest.param(["hydra.run.dir=victim/sub"], 1, "sub is not empty",
                     id="existing subfolder", marks=pytest.mark.slow),
        pytest.param(["hydra.run.dir=.", "steps=abc"], 2, "steps='abc'",
                     id="bad value, working folder", marks=pytest.mark.slow),
        pytest.param(["hydra.run.dir=.", "market.n_buyers=50", "steps=3"], 1, "is not empty",
                     id="working folder"),
        pytest.param(["seed='/../../../../victim'"], 2, "seed='/../../../../victim'",
                     id="seed climbing out"),
        pytest.param(["hydra.run.dir=victim/notes.txt"], 1, "notes.txt is a file", id="a file",
                     marks=pytest.mark.slow),
        pytest.param(["-m", "seed=0,1", "steps=abc", "hydra.sweep.dir=victim"], 2, "steps='abc'",
                     id="bad value, sweep into an existing folder"),
    ],
)
def test_existing_files_are_never_touched(tmp_path, victim, overrides, status, message):
    """Whatever hydra.run.dir points at, what was there stays, byte for byte."""
    before = _snapshot(tmp_path)
    proc = sim(overrides, cwd=victim.parent)
    assert proc.returncode == status, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert _snapshot(tmp_path) == before


def test_a_rejected_config_leaves_no_folder_with_the_default_run_dir(tmp_path):
    """The default hydra.run.dir (results/runs/<timestamp>…) is not even created."""
    proc = sim(["buyers.memory=0"], cwd=tmp_path)
    assert proc.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_a_run_resumes_its_own_unfinished_folder_and_refuses_a_finished_one(tmp_path):
    args = ["market.n_buyers=40", "steps=3", f"hydra.run.dir={tmp_path / 'run'}"]
    assert sim(args, cwd=tmp_path).returncode == 0
    (tmp_path / "run" / "manifest.json").unlink()  # as if killed before the last write
    resumed = sim(args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "run" / "manifest.json").is_file()
    again = sim(args, cwd=tmp_path)
    assert again.returncode == 1 and "holds a finished run" in again.stderr
    (tmp_path / "run" / "manifest.json").unlink()
    other = sim([*args[:-1], "seed=1", args[-1]], cwd=tmp_path)  # not this command's run
    assert other.returncode == 1 and "is not empty" in other.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("buyers.name=ñ", "'buyers.name=ñ' cannot be parsed: quote a value"),
        ("market.noise=inf", "market.noise=inf is not allowed: expected a finite number in "
                             "[0.0, 10.0]"),
    ],
)
def test_unicode_and_infinity_get_a_clear_line(tmp_path, override, message):
    proc = sim([override], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {message}")
    assert len(proc.stderr.strip().splitlines()) == 1 and "inf]" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
