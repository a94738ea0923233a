"""A researcher's journey in real Chromium: "which police approaches reduced drug-market violence in
Latin America, and how do two of them compare?" Filters by region, outcome and direction on the
evidence list, choosing two cases there and comparing them; a query with one unknown word; a
misspelt query; the CSV download parsed."""
from __future__ import annotations

import csv
import io
import os

import pytest
from conftest import BIB
from test_regions_facets import CASES

from kb.storage.build import build


@pytest.fixture
def app(tmp_path, app_factory, monkeypatch):
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    root = tmp_path / "root"
    (root / "case_studies").mkdir(parents=True)
    for name, text in CASES.items():
        (root / "case_studies" / name).write_text(text, encoding="utf-8")
    (root / "bibliography.bib").write_text(BIB, encoding="utf-8")
    build(root)
    assert "KB_DATABASE_URL" not in os.environ
    return app_factory({"ROOT": str(root), "TESTING": True, "BASE_URL": "https://kb.example.org"})


def facet_link(page, facet: str, value: str):
    return page.locator(".facet", has=page.locator("h2", has_text=facet)).get_by_role("link", name=value, exact=True)


def test_region_outcome_direction_then_compare(page):
    page.goto("/evidence")
    for facet, value in (("Region", "Latin America and the Caribbean"), ("Outcome", "Violence"), ("Direction", "Improved")):
        facet_link(page, facet, value).click()
        page.wait_for_load_state("load")
    assert "region=latin-america-and-the-caribbean" in page.url and "direction=improved" in page.url
    titles = page.locator(".evidence-item .meta > a").all_inner_texts()
    assert sorted(titles) == ["Hot spots policing in Bogota", "Pacifying police units in Rio de Janeiro"]
    assert page.locator(".total").inner_text() == "2 evidence items from 2 cases"
    # the chosen direction still offers the other one, with its count
    assert facet_link(page, "Direction", "Worsened").is_visible()
    for title in titles:
        page.get_by_label(f"Choose {title} for comparison").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/compare?**")
    headers = page.locator("table.compare thead a").all_inner_texts()
    assert sorted(headers) == sorted(titles)
    assert page.locator("table.compare").get_by_text("Violence").count() >= 1


def test_a_query_with_one_unknown_word_still_finds_cases(page):
    page.goto("/")
    page.get_by_role("searchbox").first.fill("favelas xyzzyq")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?**")
    assert "No case has all 2 words" in page.locator(".note.relaxed").inner_text()
    assert page.locator(".hit h2").first.inner_text() == "Pacifying police units in Rio de Janeiro"


def test_a_misspelt_query_offers_its_correction(page):
    page.goto("/search?q=pacifyng+polise")
    suggestion = page.locator(".suggestion a")
    assert suggestion.inner_text() == "pacifying police"
    suggestion.click()
    page.wait_for_load_state("load")
    assert page.locator(".hit h2").first.inner_text() == "Pacifying police units in Rio de Janeiro"


def test_words_naming_a_region_and_the_csv_download(page):
    page.goto("/search?q=latin+america")
    assert sorted(page.locator(".hit h2").all_inner_texts()) == [
        "Hot spots policing in Bogota", "Kingpin strategy in Mexico", "Pacifying police units in Rio de Janeiro"]
    page.goto("/evidence?region=south-america")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all 2 as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert sorted(r["case_id"] for r in rows) == ["bogota", "rio"]
    assert all(r["citation"].startswith("(") and r["url"].startswith("https://kb.example.org/cases/") for r in rows)
