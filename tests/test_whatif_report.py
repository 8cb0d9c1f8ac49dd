"""The what-if report (issue 6): files, contents, and the HTML rendered in Chromium.

The browser part uses playwright with Debian's ``/usr/bin/chromium``, like
``tests/test_browser.py``: it skips when chromium is missing, unless CI=true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.whatif.__main__ import main
from tests.test_browser import ARGS, CHROMIUM, _need

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = ("Scenario vs baseline", "Revenue over time", "Accounts at risk", "Who leaves",
            "Where profit comes from", "Book vs model", "Person- vs firm-bound loyalty",
            "Definitions")
IMAGES = ("effects.png", "fan_chart.png", "warm_start.png", "loyalty.png")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whatif") / "report"
    code = main([f"accounts={ROOT / 'examples' / 'accounts.csv'}", f"out={out}", "seeds=3",
                 "horizon=8", "at=3", "jobs=1",
                 "scenarios=[salesperson_leaves,switch_to_company_wide]"])
    assert code == 0
    return out


def test_report_files(report: Path) -> None:
    for name in ("report.html", "report.md", *IMAGES, "at_risk.csv", "outcomes.parquet",
                 "steps.parquet", "accounts.parquet", "paired.parquet",
                 "manifest.json", "inputs/accounts.csv", "inputs/suppliers.yaml",
                 "inputs/scenarios.yaml", "inputs/config.yaml"):
        assert (report / name).is_file(), name
    meta = json.loads((report / "manifest.json").read_text())
    assert meta["complete"] and meta["seeds"] == [0, 1, 2] and meta["horizon_months"] == 8
    assert meta["scenarios"] == ["baseline", "salesperson_leaves", "switch_to_company_wide"]
    outcomes = pd.read_parquet(report / "outcomes.parquet")
    assert len(outcomes) == 9 and outcomes.notna().all().all()
    paired = pd.read_parquet(report / "paired.parquet")
    assert len(paired) == 2 * 6 and paired["p_beats"].between(0, 1).all()
    assert "t: 3" in (report / "inputs" / "scenarios.yaml").read_text()


def test_markdown_and_html_contents(report: Path) -> None:
    md = (report / "report.md").read_text()
    for heading in HEADINGS:
        assert f"## {heading}" in md
    for image in IMAGES:
        assert f"]({image})" in md
    page = (report / "report.html").read_text()
    # self-contained: no links to files or the network, images inline
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert page.count('src="data:image/png;base64,') == len(IMAGES)
    assert "P(beats baseline)" in page and "salesperson leaves" in page


def test_report_renders_in_chromium(report: Path) -> None:
    _need(Path(CHROMIUM).exists(), "chromium is not installed (make test installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed (pip install -e .[dev])")
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.goto((report / "report.html").as_uri())
            assert page.locator("h1").inner_text().startswith("What if")
            h2 = page.locator("h2").all_inner_texts()
            for heading in HEADINGS:
                assert heading in h2
            images = page.locator("img")
            assert images.count() == len(IMAGES)
            for k in range(len(IMAGES)):
                img = images.nth(k)
                img.scroll_into_view_if_needed()
                width = img.evaluate("i => i.complete ? i.naturalWidth : 0")
                assert width > 300, img.get_attribute("alt")
                assert img.is_visible()
            assert page.locator("table.headline tbody tr").count() == 12
            assert page.locator("table.risk tbody tr").count() > 0
        finally:
            browser.close()
    assert not problems, problems
