"""A what-if report a strategy team can act on (issue 17), on a hand-written CRM export.

The book (:func:`write_book`): 60 accounts of a distributor ("wir") and two
competitors; our five reps, Jürgen holding 38% of our revenue; names with
umlauts, a ``key_account`` flag and a ``region`` column the model does not
use; saved as Excel saves it in Germany: semicolon-separated, decimal
commas, Windows-1252.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sim.whatif.__main__ import main
from sim.whatif.book import BookError, load_book
from sim.whatif.people import LeaverError, our_annual_revenue, resolve_salesperson, sales_force
from sim.whatif.report import effects_figure, paired_table, surprises, warm_start
from sim.whatif.run import COSTS, Results, run_whatif, scenario_configs
from sim.whatif.start import start_model

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- the book

REPS = ("jürgen", "anna", "bruno", "chen", "dana")
NAMES = ("Müller", "Schäfer", "Bäckerei Groß", "Öko-Hof", "Weiß & Söhne", "Straßenbau Nord",
         "Löwen-Apotheke", "Käserei Süd", "Fahrräder Jäger", "Zahnärzte Köln")
SUPPLIERS_YAML = """\
suppliers:
  - id: wir
    strategy: {strategy}
    price: 1.0
    capability: {{product: 0.8, service: 0.6, logistics: 0.65}}
    salespeople: [jürgen, anna, bruno, chen, dana]
  - id: rivale
    strategy: company_wide
    price: 1.05
    salespeople: [r1, r2, r3]
  - id: billig
    strategy: lone_seller
    price: 0.92
    salespeople: [b1, b2]
"""
HEADER = ("account_id;name;annual_volume;needs_profile;stance;current_supplier;salesperson_id;"
          "trust;share_of_wallet;tenure_months;key_account;region")


def rows() -> list[str]:
    """The 60 accounts: 40 ours (Jürgen's 6 are the largest), 12 rivale's, 8 billig's."""
    out = []
    for k in range(60):
        if k < 40:
            supplier, rep = "wir", REPS[0] if k < 6 else REPS[1 + k % 4]
            volume = 420.0 + 10 * k if k < 6 else 60.0 + 7.5 * (k % 13)
        elif k < 52:
            supplier, rep, volume = "rivale", f"r{1 + k % 3}", 90.0 + 5 * (k % 7)
        else:
            supplier, rep, volume = "billig", "", 70.0 + 4 * (k % 5)
        name = f"{NAMES[k % len(NAMES)]} {k + 1}"
        profile = ("broad", "balanced", "narrow", "service_heavy")[k % 4]
        stance = "adversarial" if k % 5 == 3 else "partnership"
        trust = f"{0.45 + 0.01 * (k % 20):.2f}".replace(".", ",")
        wallet = f"{0.55 + 0.01 * (k % 30):.2f}".replace(".", ",")
        key = "ja" if k < 6 or k % 9 == 0 else "nein"
        region = ("Nord", "Süd", "West", "Ost")[k % 4]
        out.append(f"K{k + 1:03d};{name};{str(volume).replace('.', ',')};{profile};{stance};"
                   f"{supplier};{rep};{trust};{wallet};{24 + k % 36};{key};{region}")
    return out


def write_book(folder: Path, strategy: str = "lone_seller", text: str | None = None,
               encoding: str = "cp1252") -> Path:
    """Write ``accounts.csv`` (``text`` or the 60 rows) and ``suppliers.yaml``; the CSV's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "accounts.csv"
    content = text if text is not None else "\r\n".join([HEADER, *rows()]) + "\r\n"
    path.write_bytes(content.encode(encoding))
    (folder / "suppliers.yaml").write_text(SUPPLIERS_YAML.format(strategy=strategy),
                                           encoding="utf-8")
    return path


HAGGLE = 0.08  # buyers.haggle_discount (default)
LONG = "a_competitor_with_a_very_long_name_poaches_our_best_salesperson_and_starts_a_price_war"


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_book(tmp_path_factory.mktemp("crm"))


@pytest.fixture(scope="module")
def book(crm: Path):
    return load_book(crm)


# ---------------------------------------------------------------- 6. input as teams have it


def test_excel_export_is_read_and_noted(book) -> None:
    assert book.notes == ("accounts.csv: Windows-1252, semicolon-separated, decimal comma",)
    a = book.accounts.set_index("account_id")
    assert len(a) == 60
    assert a.loc["K001", "annual_volume"] == 420.0 and a.loc["K001", "trust"] == 0.45
    assert a.loc["K001", "name"] == "Müller 1" and a.loc["K001", "salesperson_id"] == "jürgen"
    assert a["key_account"].dtype == bool and a.loc["K001", "key_account"]
    assert a["key_account"].tolist()[:10] == [True] * 6 + [False] * 3 + [True]  # ja / nein
    assert a.loc["K002", "region"] == "Süd"  # a column the model does not use, carried


@pytest.mark.parametrize("encoding, note", [("utf-8-sig", "UTF-8 with BOM"),
                                            ("utf-8", "UTF-8")])
def test_utf8_exports_are_read(tmp_path: Path, encoding: str, note: str) -> None:
    book = load_book(write_book(tmp_path, encoding=encoding))
    assert book.notes[0].startswith(f"accounts.csv: {note}, semicolon-separated")
    assert book.accounts["name"].iloc[0] == "Müller 1"


def test_thousands_separated_money_is_refused_with_a_hint(tmp_path: Path) -> None:
    header = HEADER.replace(";", ",")
    first = rows()[0].replace(";", ",").replace("420,0", '"$12,000"').replace("0,45", "0.45")
    first = first.replace("0,55", "0.55")
    path = write_book(tmp_path, text=f"{header}\n{first}\n", encoding="utf-8")
    with pytest.raises(BookError) as err:
        load_book(path)
    message = str(err.value)
    assert message.startswith(f"{path}, row 2, column annual_volume: '$12,000' is not a number")
    assert "without currency symbol or thousands separators, e.g. 12000" in message


def test_errors_name_the_missing_file(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere" / "accounts.csv"
    assert main([f"accounts={missing}", f"out={tmp_path / 'out'}"]) == 2
    assert capsys.readouterr().err == f"error: {missing}: no such accounts file\n"
    path = write_book(tmp_path / "book")
    (tmp_path / "book" / "suppliers.yaml").unlink()
    with pytest.raises(BookError, match=r"suppliers.yaml: no such suppliers file .*suppliers="):
        load_book(path)


# ---------------------------------------------------------------- 1. people by name


def test_sales_force_and_leaver_rules(book) -> None:
    force = sales_force(book, HAGGLE)
    assert force["salesperson_id"].tolist() == list(REPS)
    assert force.loc[0, "share_of_revenue"] == pytest.approx(0.38, abs=0.01)
    assert force["share_of_revenue"].sum() == pytest.approx(1.0)
    assert force["accounts"].tolist() == [6, 8, 8, 9, 9]
    assert resolve_salesperson(book, "top_revenue", HAGGLE) == 0  # jürgen
    assert resolve_salesperson(book, "most_accounts", HAGGLE) == 3  # chen (first of 9)
    assert resolve_salesperson(book, "dana", HAGGLE) == 4
    assert resolve_salesperson(book, 4, HAGGLE) == 4  # beyond the config's "at most 2"
    with pytest.raises(LeaverError, match=r"unknown salesperson 'zoe' of wir: expected one of "
                                          r"\['jürgen', 'anna', 'bruno', 'chen', 'dana'\]"):
        resolve_salesperson(book, "zoe", HAGGLE)
    with pytest.raises(LeaverError, match=r"index 7: wir has 5 salespeople \(indices 0–4"):
        resolve_salesperson(book, 7, HAGGLE)


def test_scenario_files_name_salespeople(book, tmp_path: Path, crm: Path, capsys) -> None:
    named = tmp_path / "dana_leaves.yaml"
    named.write_text("name: dana_leaves\nevents:\n"
                     "  - {kind: salesperson_leaves, t: 2, supplier: 0, salesperson: dana, "
                     "target: 1}\n")
    scenarios = scenario_configs(book, [str(named), "salesperson_leaves"], horizon=6, at=2)
    assert scenarios["dana_leaves"].salespeople == {0: 4}
    assert scenarios["salesperson_leaves"].salespeople == {0: 0}  # top_revenue: jürgen
    by_accounts = scenario_configs(book, ["salesperson_leaves"], 6, 2, leaver="most_accounts")
    assert by_accounts["salesperson_leaves"].salespeople == {0: 3}
    # the model's schedule names the book's salesperson: dana's accounts lose her bond
    model = start_model(scenarios["dana_leaves"].cfg, book, scenarios["dana_leaves"].salespeople)
    dana = (book.accounts["salesperson_id"] == "dana").to_numpy()
    model.run_for(2)
    left = model.market.departures[-1]
    # her book accounts (and the ties where we are a minor supplier that she looked after)
    assert set(np.flatnonzero(dana)) <= set(left["accounts"].tolist())
    assert not set(np.flatnonzero(~dana & (book.accounts["current_supplier"] == "wir"))) & set(
        left["accounts"].tolist())
    # a wrong id or index: one line naming it and the valid ones, exit 2, nothing written
    bad = tmp_path / "ghost.yaml"
    bad.write_text("events:\n  - {kind: salesperson_leaves, t: 2, salesperson: 7}\n")
    for args in ([f"scenarios=[{bad}]"], ["leaver=zoe", "scenarios=[price_war]"]):
        assert main([f"accounts={crm}", f"out={tmp_path / 'out'}", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith(("error: scenario 'ghost', event 0 (salesperson_leaves): "
                               "salesperson index 7: wir has 5 salespeople",
                               "error: leaver=zoe: unknown salesperson 'zoe' of wir")), err
        assert "'jürgen', 'anna', 'bruno', 'chen', 'dana'" in err, err
        assert not (tmp_path / "out").exists()


def test_accounts_follow_the_rep_over_the_period(book) -> None:
    """follow_months=6: a sixth of Jürgen's bond moves per month; follow_months=1: all at once."""
    lp = {}
    for months in (0, 1, 6):  # 0: the baseline, nobody leaves
        configs = scenario_configs(book, ["salesperson_leaves"], horizon=9, at=2,
                                   follow_months=max(months, 1))
        scenario = configs["salesperson_leaves" if months else "baseline"]
        if months:
            assert scenario.cfg.scenario.events[0].duration == months
        model = start_model(scenario.cfg, book, scenario.salespeople)
        his = (book.accounts["salesperson_id"] == "jürgen").to_numpy()
        path = []
        for _ in range(9):
            model.step()
            path.append((model.ties.loyalty_person[his, 0].sum(),
                         model.ties.loyalty_person[his, 1].sum()))
        lp[months] = np.array(path)
    stayed, at_once, gradual = lp[0], lp[1], lp[6]
    before = gradual[0, 0]
    assert at_once[1, 0] < 0.05 * before  # month 2: all of the bond left with him
    # 5/6 of the accounts still with us, but less than the baseline keeps: they are leaving
    # with him month by month and buy less from us meanwhile (L3); far more than at once
    assert 0.4 * stayed[1, 0] < gradual[1, 0] < 0.9 * stayed[1, 0]
    assert gradual[1, 0] > 10 * at_once[1, 0]
    assert np.all(np.diff(gradual[1:7, 0]) < 0)  # leaving month by month
    # month 7: the old bond is gone (what is left was built since, as purchases go on)
    assert gradual[6, 0] < 0.25 * before
    assert np.all(np.diff(gradual[1:7, 1]) > 0)  # arriving at the rival month by month
    # ... most of what moves at once, by month 7 (a bond that follows later has decayed)
    assert gradual[6, 1] > 0.6 * at_once[6, 1]


# ---------------------------------------------------------------- 4. warm start


def test_month_one_matches_the_book(book) -> None:
    results = run_whatif(book, scenario_configs(book, [], horizon=2), seeds=40, jobs=1)
    warm = warm_start(results, book, HAGGLE)
    assert abs(warm["revenue_error"]) < 0.05, warm
    assert abs(warm["trust_error"]) < 0.05, warm
    assert warm["book_revenue"] == pytest.approx(our_annual_revenue(book, HAGGLE).sum() / 12)


# ---------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def report(crm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    long = folder / f"{LONG}.yaml"
    long.write_text("events:\n  - {kind: salesperson_leaves, t: 1, supplier: 0, target: 1}\n"
                    "  - {kind: price_war, t: 3, supplier: 1, severity: 0.2, duration: 6}\n")
    out = tmp_path_factory.mktemp("report") / "report"
    assert main([f"accounts={crm}", f"out={out}", "seeds=4", "horizon=12", "at=3", "jobs=1",
                 "currency=kEUR", "scenarios=[salesperson_leaves,quality_failure,"
                 f"switch_to_company_wide,price_war,new_entrant,{long}]"]) == 0
    return out


def test_at_risk_csv(report: Path, book) -> None:
    risk = pd.read_csv(report / "at_risk.csv", keep_default_na=False)
    assert risk.columns.tolist() == [
        "scenario", "account_id", "name", "salesperson_id", "key_account",
        "our_annual_revenue", "p_loss_baseline", "p_loss_scenario", "revenue_at_risk", "region"]
    assert (risk["p_loss_scenario"] > 0).all()
    assert set(risk["scenario"]) <= {"baseline", "salesperson_leaves", "quality_failure",
                                     "switch_to_company_wide", "price_war", "new_entrant", LONG}
    assert "salesperson_leaves" in set(risk["scenario"])
    for _, frame in risk.groupby("scenario"):
        assert frame["revenue_at_risk"].is_monotonic_decreasing
    a = book.accounts.set_index("account_id")
    for _, r in risk.iterrows():
        price = 1.0 - HAGGLE * a.loc[r["account_id"], "adversarial"]
        revenue = a.loc[r["account_id"], "annual_volume"] * a.loc[r["account_id"],
                                                                  "share_of_wallet"] * price
        assert r["our_annual_revenue"] == pytest.approx(revenue)
        assert r["revenue_at_risk"] == pytest.approx(r["p_loss_scenario"] * revenue)
        assert r["name"] == a.loc[r["account_id"], "name"]
    # Jürgen's accounts are at risk when he leaves
    leaves = risk[risk["scenario"] == "salesperson_leaves"]
    assert "jürgen" in set(leaves["salesperson_id"])


def test_report_states_who_left_units_and_costs(report: Path) -> None:
    md = (report / "report.md").read_text()
    assert "| salesperson leaves | jürgen | wir → rivale | 3 | 6 months | 6 (15%) |" in md
    assert "(38%)" in md
    assert "Revenue over the horizon (kEUR)" in md and "Cost over the horizon (kEUR)" in md
    assert "1 model unit = " in md and "kEUR (scale factor" in md
    assert "switch to company wide: switch strategy at month 3 costs 20 model units = " in md
    assert "Read: accounts.csv: Windows-1252, semicolon-separated, decimal comma" in md
    assert "Only 4 seeds" in md
    assert "unit of annual_volume" not in md
    assert "### " + LONG.replace("_", " ") in md
    assert "## Book vs model" in md and "drift" in md


def test_cost_kinds_add_up(report: Path) -> None:
    outcomes = pd.read_parquet(report / "outcomes.parquet")
    np.testing.assert_allclose(outcomes[list(COSTS)].sum(axis=1), outcomes["cost"], rtol=1e-9)
    np.testing.assert_allclose(outcomes["revenue"] - outcomes["cost"], outcomes["profit"],
                               rtol=1e-6)


def test_progress_and_seed_warning(crm: Path, tmp_path: Path, capsys) -> None:
    assert main([f"accounts={crm}", f"out={tmp_path / 'r'}", "seeds=2", "horizon=2",
                 "jobs=1", "scenarios=[price_war]", "at=1"]) == 0
    err = capsys.readouterr().err
    assert "warning: 2 seeds are few" in err and "seeds=20" in err
    assert "what-if runs: 100%" in err and "4/4" in err


def test_import_is_light() -> None:
    code = ("import sys, sim.whatif, sim.whatif.__main__; "
            "print(sorted(m for m in ('matplotlib', 'joblib', 'sim.whatif.report') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- 5. counter-intuitive effects


def _results(revenue: list[float], profit: list[float], costs: dict[str, list[float]],
             accounts: tuple[float, float] = (10, 10), trust: tuple[float, float] = (0.4, 0.4)
             ) -> Results:
    rows = []
    for scenario, k in (("baseline", 0), ("quality_failure", 1)):
        for seed in range(3):
            row = {"seed": seed, "scenario": scenario, "revenue": revenue[k] + seed,
                   "profit": profit[k] + seed % 2, "accounts_retained": accounts[k] + seed,
                   "share_of_wallet": 0.5, "mean_trust": trust[k] + 0.01 * seed, "cost": 0.0}
            row |= {c: costs.get(c, [0.0, 0.0])[k] for c in COSTS}
            rows.append(row)
    return Results(pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame(),
                   ["baseline", "quality_failure"])


def test_profit_up_while_revenue_down_is_explained() -> None:
    results = _results([1000.0, 900.0], [100.0, 150.0],
                       {"cost_units": [500.0, 450.0], "cost_coordination": [300.0, 200.0]})
    notes = surprises(paired_table(results), results, "kEUR")
    assert len(notes) == 1
    assert notes[0].startswith("quality failure: profit rises by 50 kEUR [")
    assert "although revenue falls by 100 kEUR" in notes[0]
    assert "coordination -100, goods -50 kEUR): fewer active ties carrying coordination" in notes[0]
    plain = _results([1000.0, 900.0], [100.0, 80.0], {})
    assert surprises(paired_table(plain), plain, "kEUR") == []


def test_accounts_lost_while_mean_trust_holds_is_explained() -> None:
    held = _results([1000.0, 900.0], [100.0, 80.0], {}, accounts=(60, 20), trust=(0.35, 0.35))
    (note,) = surprises(paired_table(held), held, "kEUR")
    assert note.startswith("quality failure: we keep 40.0 fewer accounts [40.0, 40.0]")
    assert "mean trust changes by only +0.000" in note and "still active" in note
    fell = _results([1000.0, 900.0], [100.0, 80.0], {}, accounts=(60, 20), trust=(0.35, 0.2))
    few = _results([1000.0, 900.0], [100.0, 80.0], {}, accounts=(60, 58), trust=(0.35, 0.35))
    assert surprises(paired_table(fell), fell, "kEUR") == []
    assert surprises(paired_table(few), few, "kEUR") == []  # 2 of 60: no surprise


# ---------------------------------------------------------------- 7. layout


def test_long_names_fit_inside_the_figures() -> None:
    names = [LONG, f"{LONG}_again", "price_war", *(f"scenario_{k}" for k in range(6))]
    table = pd.DataFrame([{"scenario": n, "outcome": o, "difference": -1.0, "ci_low": -2.0,
                           "ci_high": 0.5} for n in names
                          for o in ("revenue", "profit", "accounts_retained", "share_of_wallet",
                                    "mean_trust", "cost")])
    fig = effects_figure(table, "kEUR")
    fig.canvas.draw()
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())  # every drawn artist, in inches
    page = fig.bbox_inches
    assert drawn.x0 >= page.x0 - 0.01 and drawn.x1 <= page.x1 + 0.01, (drawn, page)
    assert drawn.y0 >= page.y0 - 0.01 and drawn.y1 <= page.y1 + 0.01, (drawn, page)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert max(len(line) for label in labels for line in label.split("\n")) <= 24
    matplotlib.pyplot.close(fig)


def test_report_layout_in_chromium(report: Path) -> None:
    """Seven runs with a 90-character scenario name: nothing wider than the page; screenshot.

    With WHATIF_SCREENSHOT=docs the screenshot is saved as docs/whatif_report.png.
    """
    import os

    from tests.test_browser import ARGS, CHROMIUM, _need

    _need(Path(CHROMIUM).exists(), "chromium is not installed (make browser installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed (pip install -e .[dev])")
    folder = Path(os.environ.get("WHATIF_SCREENSHOT") or report)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((report / "report.html").as_uri())
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"page {overflow}px wider than the window"
            wide = page.evaluate("""() => [...document.querySelectorAll('h1,h2,h3,p,figure')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + ': ' + e.textContent.slice(0, 60))""")
            assert wide == []
            for k in range(page.locator("img").count()):
                img = page.locator("img").nth(k)
                assert img.evaluate("i => i.complete && i.naturalWidth > 300")
                assert img.bounding_box()["width"] <= 1280
            page.screenshot(path=str(folder / "whatif_report.png"), full_page=False)
        finally:
            browser.close()
    assert (folder / "whatif_report.png").stat().st_size > 10_000
