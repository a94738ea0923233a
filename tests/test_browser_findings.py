"""A policy adviser's journey in real Chromium on the shipped collection: "where did enforcement
outputs look like success while harms got worse, what does the evidence say per outcome, and can I
take the summary into my report?" The ledger filtered by keyboard, a case's verdicts and EMMIE
badge, the evidence map switched to verdicts and designs with a cell opening its items, and a
theme's summary of findings downloaded and read back."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from browser_helpers import serve, viewer_page

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped_app(shipped_build):
    from webapp import create_app
    return create_app({"ROOT": str(ROOT), "DATA_DIR": str(shipped_build), "TESTING": True,
                       "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}", "BASE_URL": "https://kb.example.org"})


@pytest.fixture
def base(shipped_app):
    with serve(shipped_app) as url:
        yield url


def test_ledger_by_keyboard_then_a_case_verdicts_and_emmie(browser, base, shipped_app):
    expected = shipped_app.test_client().get("/api/ledger").get_json()
    page = viewer_page(browser, base, None, 1280)
    page.goto("/ledger")
    assert f"{expected['opposite']} of {expected['measuring_both']} cases" in page.locator(".headline").inner_text()
    page.get_by_label("Only where outputs and harms moved in opposite directions").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"opposite=1"))
    rows = page.locator("table.ledger tbody tr")
    assert rows.count() == expected["opposite"] >= 1
    assert all("opposite" in (rows.nth(n).get_attribute("class") or "") for n in range(rows.count()))
    assert "tells the wrong story" in rows.first.locator(".reading").inner_text()
    first = rows.first.locator("th a")
    title = first.inner_text()
    first.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == title
    assert page.locator(".ledger-line.opposite").is_visible()
    badge = page.locator("table.verdicts .verdict").first
    assert badge.get_attribute("title")                       # the reason, on hover
    badge.hover()
    emmie = page.locator(".emmie").first
    assert emmie.get_attribute("aria-label").startswith("EMMIE coverage")
    emmie.click()
    page.wait_for_url(re.compile(r"/verdicts#emmie$"))
    assert page.locator("#emmie").is_visible()
    page.context.close()


def test_map_switched_to_verdicts_and_designs_opens_a_cell(browser, base):
    page = viewer_page(browser, base, None, 1280)
    page.goto("/evidence-map")
    page.get_by_label("verdict", exact=True).check()
    page.get_by_label("design", exact=True).check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"colour=verdict"))
    assert "segment=design" in page.url
    assert page.locator("table.evidence-map td[class^=verdict-cell-]").count() >= 10
    assert page.locator(".map-legend").get_by_text("harmful").is_visible()
    cell = page.locator("table.evidence-map td[class^=verdict-cell-] a").first
    count = int(cell.inner_text())
    cell.click()
    page.wait_for_load_state("load")
    assert page.locator("p.total").inner_text().startswith(f"{count} evidence item")
    page.context.close()


def test_summary_of_findings_downloads_for_a_report(browser, base):
    page = viewer_page(browser, base, None, 390)
    page.goto("/themes/security-foreign-aid")
    page.get_by_role("link", name="Summary of findings").click()
    page.wait_for_load_state("load")
    outcomes = page.locator("table.findings tbody th").all_inner_texts()
    assert outcomes and page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [row["outcome"] for row in rows] == outcomes
    with page.expect_download() as download:
        page.get_by_role("link", name="Markdown table").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert sum(line.startswith("| ") for line in markdown.splitlines()) == len(outcomes) + 1
    page.context.close()
