"""The what-if (issue 6): loading the book, bad input, the starting state, paired runs, events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import ConfigError, RelationshipModel, make_config
from sim.config import EventConfig
from sim.shocks import start_hire_salespeople
from sim.whatif.__main__ import main
from sim.whatif.book import NEED_COLUMNS, BookError, load_book
from sim.whatif.run import run_whatif, scenario_configs
from sim.whatif.start import start_model

ROOT = Path(__file__).resolve().parents[1]
ACCOUNTS = ROOT / "examples" / "accounts.csv"
SUPPLIERS = ROOT / "examples" / "suppliers.yaml"


@pytest.fixture(scope="module")
def book():
    return load_book(ACCOUNTS)


def test_example_book_loads(book) -> None:
    a = book.accounts
    assert len(a) == 200 and a["account_id"].is_unique
    assert book.supplier_ids == ["us", "teamco", "midway", "cheapco"]
    np.testing.assert_allclose(a[list(NEED_COLUMNS)].sum(axis=1), 1.0, atol=1e-9)
    assert set(a["current_supplier"]) <= set(book.supplier_ids)
    assert (a["annual_volume"] > 0).all() and a["adversarial"].dtype == bool
    # our_supplier puts that firm first (supplier 0 of the scenarios)
    assert load_book(ACCOUNTS, SUPPLIERS, "midway").supplier_ids[0] == "midway"


def test_model_starts_from_the_book(book) -> None:
    cfg = scenario_configs(book, [], horizon=5)["baseline"].cfg
    model = start_model(cfg, book)
    a, t = book.accounts, model.ties
    assert model.market.buyers.volume.shape == (200,)
    # order size V/(12·p) in money units (mean V/(12·p)): mean 1, adversarial splitters raised
    k = min(cfg.buyers.quotes, 4)
    factor = np.where(a["adversarial"], np.maximum(1.0, a["share_of_wallet"] * k / 0.999), 1.0)
    np.testing.assert_allclose(model.market.buyers.volume,
                               a["annual_volume"] / a["annual_volume"].mean() * factor, rtol=1e-5)
    np.testing.assert_allclose(model.market.buyers.needs, a[list(NEED_COLUMNS)], atol=1e-6)
    current = a["current_supplier"].map({s: j for j, s in enumerate(book.supplier_ids)})
    rows = np.arange(len(a))
    assert t.active[rows, current].all()
    np.testing.assert_allclose(t.trust[rows, current], a["trust"], atol=1e-6)
    np.testing.assert_array_equal(model.market.buyers.main_supplier, current)
    assert [s.strategy for s in model.supplier_list] == [s.strategy for s in book.suppliers]
    # list prices are the book's
    np.testing.assert_allclose(model.market.policy.list_price, [s.price for s in book.suppliers],
                               rtol=1e-6)
    # the sales force is the book's, and each named account is owned by its salesperson
    headcount = model.market.salesforce.headcount(4).tolist()
    assert headcount == [len(s.salespeople) for s in book.suppliers]
    anna = book.suppliers[0].salespeople[0]
    assert model.market.salesforce.skill[0] == pytest.approx(anna.skill)
    named = (a["salesperson_id"] == "anna").to_numpy()
    assert named.any() and (t.owner[named, 0] == 0).all()
    assert (t.owner[t.considers] >= 0).all()
    model.step()  # and it runs
    assert model.steps == 1


# ---------------------------------------------------------------- bad input

HEADER = ("account_id,annual_volume,needs_profile,need_product,need_service,stance,"
          "current_supplier,salesperson_id,trust")
GOOD = [
    "A1,100,narrow,,,partnership,us,anna,0.6",
    "A2,50,,0.7,0.3,adversarial,teamco,,",
    "A3,80,balanced,,,partnership,us,bruno,0.4",
]
BAD: dict[str, tuple[list[str] | str, int, str]] = {
    # case: (rows after the header, or the whole text; spreadsheet row; column)
    "missing column": ("account_id,annual_volume,needs_profile,current_supplier,salesperson_id\n"
                       "A1,100,narrow,us,anna\n", 1, "stance"),
    "unknown supplier": ([GOOD[0], GOOD[1].replace("teamco", "acme")], 3, "current_supplier"),
    "unknown salesperson": ([GOOD[0], GOOD[1], GOOD[2].replace("bruno", "zoe")], 4,
                            "salesperson_id"),
    "negative volume": ([GOOD[0].replace(",100,", ",-100,"), *GOOD[1:]], 2, "annual_volume"),
    "needs not summing to 1": ([GOOD[0], GOOD[1].replace("0.7,0.3", "0.7,0.2")], 3,
                               "need_product, need_service"),
    "duplicate id": ([*GOOD, GOOD[0].replace("anna", "chen")], 5, "account_id"),
    "non-numeric value": ([GOOD[0].replace("0.6", "high"), *GOOD[1:]], 2, "trust"),
    "empty file": ("", 1, "account_id"),
}


def _write(tmp_path: Path, content: list[str] | str) -> Path:
    path = tmp_path / "accounts.csv"
    text = content if isinstance(content, str) else "\n".join([HEADER, *content]) + "\n"
    path.write_text(text)
    (tmp_path / "suppliers.yaml").write_text(SUPPLIERS.read_text())
    return path


def test_a_good_small_book_loads(tmp_path: Path) -> None:
    book = load_book(_write(tmp_path, GOOD))
    assert book.accounts["need_service"].tolist() == pytest.approx([0.1, 0.3, 0.15])
    assert book.accounts["trust"].tolist() == [0.6, 0.5, 0.4]  # default for an empty cell


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_names_file_row_column(case: str, tmp_path: Path, capsys) -> None:
    content, row, column = BAD[case]
    path = _write(tmp_path, content)
    with pytest.raises(BookError) as err:
        load_book(path)
    message = str(err.value)
    assert message.startswith(f"{path}, row {row}, column {column}: "), message
    # the command line: one line on stderr, exit status 2, no output folder
    out = tmp_path / "report"
    assert main([f"accounts={path}", f"out={out}", "seeds=2", "horizon=3"]) == 2
    stderr = capsys.readouterr().err
    assert stderr == f"error: {message}\n"
    assert not out.exists()


def test_suppliers_csv_reads_like_the_yaml(book, tmp_path: Path) -> None:
    rows = ["id,strategy,price,capability_product,salespeople"]
    for s in book.suppliers:
        people = ";".join(p.id if p.skill is None else f"{p.id}:{p.skill}" for p in s.salespeople)
        rows.append(f"{s.id},{s.strategy},{s.price},{s.capability.get('product', '')},{people}")
    path = tmp_path / "suppliers.csv"
    path.write_text("\n".join(rows) + "\n")
    csv = load_book(ACCOUNTS, path)
    assert csv.supplier_ids == book.supplier_ids
    assert [s.salespeople for s in csv.suppliers] == [s.salespeople for s in book.suppliers]
    assert csv.suppliers[0].capability == {"product": 0.8}
    pd.testing.assert_frame_equal(csv.accounts, book.accounts)


def test_bad_suppliers_file(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    (tmp_path / "suppliers.yaml").write_text(
        SUPPLIERS.read_text().replace("strategy: hybrid", "strategy: lonely"))
    with pytest.raises(BookError, match=r"suppliers.yaml, row 3, column strategy: 'lonely'"):
        load_book(path)


@pytest.mark.parametrize("argv, message", [
    (["seeds=2"], "accounts=FILE is required"),
    ([f"accounts={ACCOUNTS}", "seeds=many"], "seeds='many' is not an integer"),
    ([f"accounts={ACCOUNTS}", "colour=blue"], "unknown key 'colour'"),
    ([f"accounts={ACCOUNTS}", "scenarios=[no_such_preset]"], "scenario 'no_such_preset'"),
    ([f"accounts={ACCOUNTS}", "horizon=6", "at=9", "scenarios=[price_war]"],
     "scenario.events[0].t=9"),
    ([f"accounts={ACCOUNTS}", "market.n_buyers=5"], "market.n_buyers is set by the book"),
])
def test_bad_command_line(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    assert main([*argv, f"out={out}"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------- paired runs


def test_identical_scenario_differs_by_exactly_zero(book, tmp_path: Path) -> None:
    nothing = tmp_path / "nothing.yaml"
    nothing.write_text("name: nothing\nevents: []\n")
    results = run_whatif(book, scenario_configs(book, [str(nothing)], horizon=6), seeds=2)
    assert results.scenarios == ["baseline", "nothing"]
    for name in ("outcomes", "steps", "accounts"):
        frame = getattr(results, name)
        base = frame[frame["scenario"] == "baseline"].drop(columns="scenario")
        same = frame[frame["scenario"] == "nothing"].drop(columns="scenario")
        pd.testing.assert_frame_equal(base.reset_index(drop=True), same.reset_index(drop=True))
    from sim.whatif.report import paired_table

    table = paired_table(results)
    assert (table["difference"] == 0.0).all() and (table["p_beats"] == 0.0).all()


def test_results_do_not_depend_on_jobs(book) -> None:
    configs = scenario_configs(book, ["salesperson_leaves"], horizon=6, at=2)
    one = run_whatif(book, configs, seeds=2, jobs=1)
    two = run_whatif(book, configs, seeds=2, jobs=2)
    for name in ("outcomes", "steps", "accounts"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))


def test_salesperson_leaving_costs_us_accounts(book) -> None:
    configs = scenario_configs(book, ["salesperson_leaves"], horizon=12, at=2)
    results = run_whatif(book, configs, seeds=3)
    lost = (results.outcome("salesperson_leaves", "accounts_retained")
            - results.outcome("baseline", "accounts_retained"))
    assert (lost <= 0).all() and lost.mean() < -2, lost
    # the same seeds agree before the event (month 2): months 1 is identical
    steps = results.steps
    first = steps[steps["step"] == 1].groupby("scenario")["revenue"].sum()
    assert first["baseline"] == first["salesperson_leaves"]


# ---------------------------------------------------------------- new events (M15)


def _model(event: str | None = None) -> RelationshipModel:
    """A small lone-seller market (no dependency investments of its own), with one event."""
    events = [f"scenario.events=[{event}]"] if event else []
    return RelationshipModel(make_config(["market.n_buyers=120", "steps=6",
                                          "strategy=lone_seller", *events]))


def test_hire_salespeople_takes_over_the_least_served_accounts() -> None:
    model = _model()
    model.run_for(2)
    t, before = model.ties, model.market.salesforce.of(1)
    books = {p: np.flatnonzero((t.owner[:, 1] == p) & t.active[:, 1]) for p in before}
    largest = max(books, key=lambda p: books[p].size)
    planned = model.supplier_list[1].planned_salespeople
    start_hire_salespeople(model.market, model.cfg, model.rng,
                           EventConfig(kind="hire_salespeople", supplier=1, count=2))
    model.sync_agents()
    new = np.setdiff1d(model.market.salesforce.of(1), before)
    assert new.size == 2 and model.supplier_list[1].planned_salespeople == planned + 2
    handed = np.flatnonzero(t.owner[:, 1] == new[0])
    assert handed.size == books[largest].size // 2
    assert np.isin(handed, books[largest]).all()
    # the half that went longest without contact
    kept = np.setdiff1d(books[largest], handed)
    gap = model.steps - t.last_contact[:, 1]
    assert gap[handed].min() >= gap[kept].max()
    assert (t.owner[:, 1] == new[1]).any()
    model.run_for(1)
    assert model.supplier_list[1].metrics["salespeople"] == before.size + 2


def test_invest_integration_raises_dependency_and_books_the_cost() -> None:
    base = _model()
    model = _model("{kind: invest_integration, t: 3, supplier: 0, count: 10}")
    for m in (base, model):
        m.run_for(3)
    t = model.ties
    invested = np.flatnonzero(t.dependency[:, 0] > base.ties.dependency[:, 0])
    assert invested.size == 10
    # the top accounts by volume bought from supplier 0
    assert model.market.buyers.volume[invested].mean() > model.market.buyers.volume.mean()
    # booked in this step's ledger, which close_books costs at dependency_cost each (M14);
    # lone sellers never invest on their own
    assert model.market.ledger.investments[0] == 10 and base.market.ledger.investments[0] == 0


def test_switch_strategy_books_its_one_off_cost() -> None:
    free = _model("{kind: switch_strategy, t: 3, supplier: 0, strategy: company_wide}")
    paid = _model("{kind: switch_strategy, t: 3, supplier: 0, strategy: company_wide, cost: 7}")
    for m in (free, paid):
        m.run_for(4)
    a = free.supplier_frame().set_index(["step", "supplier"])
    b = paid.supplier_frame().set_index(["step", "supplier"])
    assert b.loc[(3, 0), "cost"] - a.loc[(3, 0), "cost"] == pytest.approx(7.0)
    # once: step 4 is not charged again (the runs differ a little from step 4 on, since the
    # payment lowered the firm's financial health, which buyers weigh, F6)
    assert abs(b.loc[(4, 0), "cost"] - a.loc[(4, 0), "cost"]) < 1.0
    assert paid.supplier_list[0].strategy == "company_wide"


def test_event_count_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"scenario.events\[0\].count"):
        make_config(["scenario.events=[{kind: hire_salespeople, t: 1, count: 0}]"])
    with pytest.raises(ConfigError, match=r"scenario.events\[0\].cost"):
        make_config(["scenario.events=[{kind: switch_strategy, t: 1, cost: -1}]"])


def test_rivals_learn_switches_adaptation_on_for_the_rivals_only(book) -> None:
    """"What if our rivals learn?": every supplier but ours learns its prices and serving rule."""
    configs = scenario_configs(book, ["rivals_learn"], horizon=12)
    assert configs["baseline"].cfg.adaptation.name == "none"
    cfg = configs["rivals_learn"].cfg
    assert cfg.adaptation.name == "reinforcement" and cfg.adaptation.fixed == [0]
    model = start_model(cfg, book, configs["rivals_learn"].salespeople)
    our_price = model.market.firms.price[0]
    model.run_for(12)
    learning = model.market.learning
    assert list(learning.adapts) == [False, True, True, True]
    assert model.market.firms.price[0] == our_price  # we keep our price
    menu = cfg.market.unit_cost * np.array(cfg.adaptation.markups)
    assert np.isin(np.round(model.market.firms.price[1:], 9), np.round(menu, 9)).all()
    assert (learning.price[1:] != learning.price[0]).any()
    results = run_whatif(book, configs, seeds=2)
    assert set(results.scenarios) == {"baseline", "rivals_learn"}
