"""Loading result folders with truncated or corrupted files: skip with a warning, or fail clearly.

Policy (``sim.results``): a complete run whose file cannot be read is left
out of the table with a :class:`~sim.results.ResultsWarning` naming the file;
``strict=True`` raises :class:`~sim.ResultsError` naming it instead;
``python -m sim.report`` prints the warning and never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from sim import RelationshipModel, ResultsError, load_results, load_steps, make_config
from sim.results import ResultsWarning, manifest, now, read_json, read_parquet, write_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def one_run() -> tuple[pd.DataFrame, dict]:
    """The steps table and summary of one small run."""
    model = RelationshipModel(make_config(["market.n_buyers=40", "steps=10"]))
    model.run_for(10)
    return model.supplier_frame(), model.summary()


@pytest.fixture
def sweep(tmp_path, one_run) -> Path:
    """A folder with three complete runs (seeds 0, 1, 2) written as the CLI writes them."""
    steps, summary = one_run
    for seed in range(3):
        write_run(tmp_path / f"run{seed}", "seed: 0\n", steps, summary,
                  manifest(seed, now(), now(), overrides=[f"seed={seed}"]))
    return tmp_path


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[: len(data)] = bytes((b * 7 + 13) % 256 for b in data)
    path.write_bytes(bytes(data))


def empty(path: Path) -> None:
    path.write_bytes(b"")


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "truncated": truncate, "garbled": garble, "empty": empty,
}


def test_intact_folder_loads_every_run(sweep):
    runs = load_results(sweep, strict=True)
    assert sorted(runs["seed"].unique()) == [0, 1, 2]
    assert {"run", "seed", "strategy", "market_share", "profit"} <= set(runs.columns)
    assert len(load_steps(sweep, strict=True)["run"].unique()) == 3


@pytest.mark.parametrize("corrupt", sorted(CORRUPTIONS))
def test_unreadable_summary_is_skipped_with_a_warning_naming_the_file(sweep, corrupt):
    bad = sweep / "run1" / "summary.json"
    CORRUPTIONS[corrupt](bad)
    with pytest.warns(ResultsWarning, match=str(bad)):
        runs = load_results(sweep)
    assert sorted(runs["seed"].unique()) == [0, 2]
    with pytest.raises(ResultsError) as err:
        load_results(sweep, strict=True)
    assert err.value.path == bad and str(bad) in str(err.value)


@pytest.mark.parametrize("corrupt", sorted(CORRUPTIONS))
def test_unreadable_steps_table_is_skipped_with_a_warning_naming_the_file(sweep, corrupt):
    bad = sweep / "run2" / "steps.parquet"
    CORRUPTIONS[corrupt](bad)
    with pytest.warns(ResultsWarning, match=str(bad)):
        steps = load_steps(sweep)
    assert sorted(steps["seed"].unique()) == [0, 1]
    with pytest.raises(ResultsError, match=str(bad)):
        load_steps(sweep, strict=True)


@pytest.mark.parametrize("content", ['[1, 2]', '{"strategies": 3}', '{"steps": 10}'])
def test_summary_of_the_wrong_shape_is_an_error_naming_the_file(sweep, content):
    bad = sweep / "run0" / "summary.json"
    bad.write_text(content)
    with pytest.raises(ResultsError, match=f"{bad}: not a run summary"):
        load_results(sweep, strict=True)


def test_readers_name_the_file(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(ResultsError, match=f"^{bad}: unreadable JSON"):
        read_json(bad)
    with pytest.raises(ResultsError, match=f"^{tmp_path / 'missing.parquet'}: unreadable Parquet"):
        read_parquet(tmp_path / "missing.parquet")


def test_folder_without_a_complete_manifest_is_not_loaded(sweep):
    (sweep / "run0" / "manifest.json").unlink()  # an interrupted run: no manifest, no warning
    assert sorted(load_results(sweep, strict=True)["seed"].unique()) == [1, 2]


@pytest.mark.parametrize("corrupt", [truncate, garble, empty,
                                     lambda p: p.write_text("[1, 2]")])
def test_an_unreadable_manifest_is_skipped_with_one_warning_naming_it(sweep, corrupt):
    bad = sweep / "run0" / "manifest.json"
    corrupt(bad)  # manifest.json is written atomically: unreadable means damaged, not unfinished
    with pytest.warns(ResultsWarning) as caught:
        runs = load_results(sweep)
    assert [str(w.message) for w in caught if str(bad) in str(w.message)] and len(caught) == 1
    assert sorted(runs["seed"].unique()) == [1, 2]
    with pytest.raises(ResultsError, match="manifest.json"):
        load_results(sweep, strict=True)


def test_a_summary_value_of_the_wrong_type_is_skipped_with_one_warning(sweep):
    path = sweep / "run1" / "summary.json"
    summary = read_json(path)
    next(iter(summary["strategies"].values()))["profit"] = "lots"
    path.write_text(json.dumps(summary))
    with pytest.warns(ResultsWarning, match=r"summary\.json.*profit='lots' is not a number"):
        runs = load_results(sweep)
    assert sorted(runs["seed"].unique()) == [0, 2]
    proc = report(sweep)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.count(str(path)) == 1


def test_report_with_no_readable_steps_file_still_writes_its_tables(sweep):
    for seed in range(3):
        truncate(sweep / f"run{seed}" / "steps.parquet")
    proc = report(sweep)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for seed in range(3):
        assert proc.stderr.count(str(sweep / f"run{seed}" / "steps.parquet")) == 1
    assert (sweep / "report.md").is_file() and (sweep / "runs.parquet").is_file()


def report(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.report", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_report_skips_a_corrupted_run_names_the_file_and_no_traceback(sweep):
    truncate(sweep / "run1" / "steps.parquet")
    garble(sweep / "run2" / "summary.json")
    proc = report(sweep)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(sweep / "run1" / "steps.parquet") in proc.stderr
    assert str(sweep / "run2" / "summary.json") in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "n=2 runs" in proc.stdout  # run0 and run1 (its summary is intact)


def test_report_with_every_run_corrupted_fails_clearly(sweep):
    for seed in range(3):
        truncate(sweep / f"run{seed}" / "summary.json")
    proc = report(sweep)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 2
    assert str(sweep / "run0" / "summary.json") in proc.stderr
    assert any(line.startswith("error: ") for line in proc.stderr.splitlines())


def test_float_counts_of_whole_numbers_are_saved_as_integers_and_others_stay_float(tmp_path):
    from sim.metrics import COUNTS
    from sim.results import steps_table

    frame = pd.DataFrame({"step": [0, 1], "accounts": [3.0, 4.0], "departures": [1.0, None],
                          "profit": [1.5, 2.0]})
    table = steps_table(frame, "run-a", 7, {"market.n_buyers": 100, "market.noise": 0})
    assert "accounts" in COUNTS and "departures" in COUNTS
    assert str(table.schema.field("accounts").type) == "int64"
    assert table.column("accounts").to_pylist() == [3, 4]
    assert str(table.schema.field("departures").type) == "double"  # a missing count: not whole
    assert table.column_names[:4] == ["run", "seed", "market.n_buyers", "market.noise"]
    assert str(table.schema.field("market.n_buyers").type) == "int64"
    assert str(table.schema.field("market.noise").type) == "double"
    assert table.column("seed").to_pylist() == [7, 7]


@pytest.mark.parametrize("overrides", [
    [], ["+experiment=buyer_stance"], ["+experiment=sensitivity"],
    ["buyers.name=yes"], ["buyers.name='1e5'"], ["buyers.name='1_000'"],
    ["buyers.name='.inf'"], ["buyers.name='null'"], ["buyers.name=' lead'"],
    ["buyers.name='a: b'"], ["buyers.name='x\\ny'"], ["buyers.name='ünïcødé ☃'"],
    ["buyers.name='" + "a long name " * 10 + "'"],
])
def test_run_config_yaml_is_byte_for_byte_omegaconfs(overrides):
    from omegaconf import OmegaConf

    from sim.api import compose_config
    from sim.results import config_yaml

    cfg = compose_config(overrides)
    assert config_yaml(cfg) == OmegaConf.to_yaml(cfg, resolve=True)
