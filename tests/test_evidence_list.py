"""The evidence list (/evidence, /api/evidence, /evidence.csv, `kb evidence`), the evidence map that
opens it, region pages, and the CSV downloads of lists."""
from __future__ import annotations

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup

from kb import tables
from kb.cli import main
from kb.knowledgebase import KnowledgeBase, session
from kb.settings import Settings


def soup(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.data, "html.parser")


def rows_of(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# --- the list in the read API, on the shipped collection ---------------------------------------

@pytest.fixture(scope="module")
def shipped(shipped_build):
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    kb = KnowledgeBase(Settings.load({"ROOT": str(root), "DATA_DIR": str(shipped_build),
                                      "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}"}))
    with session():
        yield kb
    kb.close()


def test_items_are_filtered_by_case_and_item_facets(shipped):
    found, searched = shipped.evidence(filters={"region": ["latin-america-and-the-caribbean"], "outcome": ["violence"],
                                                "direction": ["improved"]})
    assert searched is None and found.total >= 2
    assert {row.outcome for row in found.rows} == {"violence"} and {row.direction for row in found.rows} == {"improved"}
    latin = set(shipped.region("latin-america-and-the-caribbean").countries)
    assert all(set(row.country) & latin for row in found.rows)
    every, _ = shipped.evidence(limit=10 ** 6)
    expected = [r for r in every.rows if r.outcome == "violence" and r.direction == "improved" and set(r.country) & latin]
    assert found.total == len(expected)


def test_a_chosen_item_facet_keeps_counting_its_other_values(shipped):
    worsened, _ = shipped.evidence(filters={"direction": ["worsened"], "outcome": ["violence"]}, limit=0)
    every, _ = shipped.evidence(filters={"outcome": ["violence"]}, limit=10 ** 6)
    by_direction = {}
    for row in every.rows:
        by_direction[row.direction] = by_direction.get(row.direction, 0) + 1
    assert worsened.facets["direction"] == dict(sorted(by_direction.items(), key=lambda kv: (-kv[1], kv[0])))
    assert worsened.total == by_direction["worsened"]
    assert sum(worsened.facets["design"].values()) == worsened.total    # unchosen facets count the matches


def test_several_values_of_one_facet_are_ored(shipped):
    one, _ = shipped.evidence(filters={"direction": ["improved"]}, limit=0)
    other, _ = shipped.evidence(filters={"direction": ["worsened"]}, limit=0)
    both, _ = shipped.evidence(filters={"direction": ["improved", "worsened"]}, limit=0)
    assert both.total == one.total + other.total > 0


def test_strength_query_and_sort(shipped):
    strong, _ = shipped.evidence(min_strength=4, sort="strength", limit=100)
    assert strong.total > 0 and all(row.strength >= 4 for row in strong.rows)
    assert [row.strength for row in strong.rows] == sorted((row.strength for row in strong.rows), reverse=True)
    found, searched = shipped.evidence("ceasefire", limit=100)
    assert searched is not None and found.total > 0 and found.cases == len({row.case_id for row in found.rows})
    assert set(searched.ids) >= {row.case_id for row in found.rows}


def test_every_map_cell_counts_the_items_of_the_list_it_opens(shipped):
    cells = shipped.evidence_grid(filters={"region": ["americas"]})
    assert cells
    for (theme, outcome), cell in cells.items():
        listed, _ = shipped.evidence(filters={"region": ["americas"], "theme": [theme], "outcome": [outcome]}, limit=0)
        assert listed.total == cell.count, (theme, outcome)
        assert sum(cell.directions.values()) == cell.count and cell.graded <= cell.count


def test_in_text_citations_come_formatted(shipped):
    found, _ = shipped.evidence(filters={"outcome": ["violence"]}, limit=5)
    citations = shipped.evidence_citations(found.rows, "apa")
    assert len(citations) == 5 and all(c.startswith("(") and c.endswith(")") and "@" not in c for c in citations)


# --- the web ------------------------------------------------------------------------------------

def test_evidence_page_lists_items_with_their_citations(client):
    page = soup(client.get("/evidence"))
    items = page.select(".evidence-item")
    assert len(items) == 3                                  # 1 + 2 items; the draft's are not shown
    assert page.select_one(".total").get_text(strip=True) == "3 evidence items from 2 cases"
    shootings = [i for i in items if "Shootings fell" in i.get_text()][0]
    assert shootings.select_one("a.citation")["href"] == "/sources/roe2015cannabis"
    assert "Roe" in shootings.select_one("a.citation").get_text() and "@" not in shootings.get_text()
    assert shootings.select_one(".meta a")["href"] == "/cases/second-case#evidence-shootings"
    assert "Improved" in shootings.get_text() and "SMS 4" in shootings.get_text()


def test_evidence_filters_and_errors(client):
    page = soup(client.get("/evidence?direction=no-change"))
    assert [i.select_one(".claim").get_text(" ", strip=True).split(" (")[0] for i in page.select(".evidence-item")] == [
        "Arrests did not change."]
    facet = {s.h2.get_text(): {a.get_text(): a.find_next_sibling("span").get_text() for a in s.select("a")}
             for s in page.select(".facet")}
    assert facet["Direction"] == {"Improved": "2", "No change": "1"}      # the chosen facet still shows the others
    assert soup(client.get("/evidence?min_strength=4")).select_one(".total").get_text(strip=True).startswith("1 ")
    assert soup(client.get("/evidence?q=ceasefire")).select_one(".total").get_text(strip=True) == \
        "2 evidence items from 1 case"
    for bad in ("direction=sideways", "min_strength=9", "min_strength=²", "sort=random", "reconciled=yes",
                "region=atlantis", "style=nope", "page=0", "limit=5000", "q=" + "x" * 501):
        response = client.get(f"/evidence?{bad}")
        assert response.status_code == 400, bad
        assert bad.split("=")[0] in response.get_data(as_text=True) or "query" in response.get_data(as_text=True)


def test_evidence_api_matches_the_page(client):
    data = client.get("/api/evidence?outcome=violence").get_json()
    assert data["total"] == 1 and data["cases"] == 1
    item = data["items"][0]
    assert (item["case"], item["id"], item["direction"], item["strength"]) == ("second-case", "shootings", "improved", 4)
    assert item["url"] == "/cases/second-case#evidence-shootings" and item["sources"] == ["roe2015cannabis"]
    assert data["facets"]["outcome"]["arrests"] == 1                     # the chosen facet's other values
    assert client.get("/api/evidence?design=nope").get_json()["error"]["status"] == 400
    spec = client.get("/api/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/evidence"]["get"]["parameters"]}
    assert {"q", "region", "outcome", "direction", "design", "min_strength", "reconciled", "sort"} <= params


def test_evidence_csv_is_the_whole_list(client):
    rows = rows_of(client.get("/evidence.csv"))
    assert len(rows) == 3 and list(rows[0]) == list(tables.EVIDENCE_COLUMNS)
    shootings = [r for r in rows if r["evidence_id"] == "shootings"][0]
    assert shootings["citation"].startswith("(") and "<" not in shootings["citation"]
    assert shootings["url"] == "https://kb.example.org/cases/second-case#evidence-shootings"
    assert len(rows_of(client.get("/evidence.csv?outcome=violence&limit=1"))) == 1


def test_search_csv_is_the_whole_result_set(client):
    rows = rows_of(client.get("/search.csv?limit=1"))
    assert {r["id"] for r in rows} == {"sample-case", "second-case"} and list(rows[0]) == list(tables.SEARCH_COLUMNS)
    boston = [r for r in rows if r["id"] == "second-case"][0]
    assert boston["regions"] == "americas; northern-america" and boston["url"] == "https://kb.example.org/cases/second-case"
    assert [r["id"] for r in rows_of(client.get("/search.csv?country=US"))] == ["second-case"]
    assert client.get("/search.csv?theme=nope").status_code == 400


def test_cells_a_spreadsheet_would_run_are_neutralised(kb_root, monkeypatch, tmp_path):
    from conftest import case_text

    from kb.storage.build import build
    from webapp import create_app
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    evidence = """evidence:
  - id: fell
    claim: "-40% shootings; =HYPERLINK(\\"http://evil.example\\") @SUM(A1) +1"
    cite: "[@doe2020policing]"
    outcome: violence
    direction: improved
    design: before-after"""
    root = kb_root({"a.md": case_text("formula", title='"=cmd|calc"', evidence=evidence)})
    build(root)
    client = create_app({"ROOT": str(root), "TESTING": True, "SECRET_KEY": "x"}).test_client()
    row = rows_of(client.get("/evidence.csv"))[0]
    assert row["claim"].startswith("'-40%") and row["case_title"] == "'=cmd|calc"
    assert rows_of(client.get("/search.csv"))[0]["title"] == "'=cmd|calc"
    assert [tables.neutralised(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "", None)] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=1", "", ""]


def test_map_legend_and_empty_versus_ungraded(client):
    page = soup(client.get("/evidence-map"))
    legend = page.select_one(".map-legend").get_text(" ", strip=True)
    assert "evidence, not graded" in legend and "no evidence" in legend and "mean SMS 5" in legend
    deterrence = page.select("table.evidence-map tbody tr")[1]
    headers = [th.get_text(strip=True) for th in page.select("table.evidence-map thead th")][1:]
    cells = deterrence.select("td")
    assert any("shade-empty" in td["class"] for td in cells)
    violence = cells[headers.index("Violence")]
    assert "improved" in violence.select_one(".directions").get_text(" ", strip=True).lower()


def test_map_filters(client):
    page = soup(client.get("/evidence-map?region=europe"))
    assert not page.select("table.evidence-map td a")            # both cases are in the Americas
    assert client.get("/evidence-map?region=atlantis").status_code == 400
    page = soup(client.get("/evidence-map?min_strength=4"))
    links = page.select("table.evidence-map td a")
    assert [a.get_text() for a in links] == ["1"] and "min_strength=4" in links[0]["href"]


def test_region_pages(client):
    page = soup(client.get("/regions"))
    assert page.find("a", string="Northern America")["href"] == "/regions/northern-america"
    assert "no cases yet" in page.find(string="Western Africa").find_parent("li").get_text()
    region = soup(client.get("/regions/northern-america"))
    assert region.h1.get_text() == "Northern America"
    assert [a.get_text() for a in region.select(".case-title")] == ["Ceasefire in Boston", "Sample case of police and harm reduction"]
    assert region.find("a", string="Americas")["href"] == "/regions/americas"
    assert client.get("/regions/atlantis").status_code == 404
    assert soup(client.get("/search?region=northern-america")).select(".hit")


# --- the CLI ------------------------------------------------------------------------------------

def test_kb_evidence_text_json_csv(built_root, runner):
    text = runner.invoke(main, ["--root", str(built_root), "evidence", "--direction", "improved"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("2 evidence item(s) from 2 case(s)") and "&" in text.output and "&amp;" not in text.output
    data = json.loads(runner.invoke(main, ["--root", str(built_root), "evidence", "--outcome", "violence",
                                           "--format", "json"]).output)
    assert data["total"] == 1 and data["items"][0]["citation"].startswith("(Roe")
    out = runner.invoke(main, ["--root", str(built_root), "evidence", "--format", "csv", "--region", "americas"]).output
    assert len(list(csv.DictReader(io.StringIO(out)))) == 3
    bad = runner.invoke(main, ["--root", str(built_root), "evidence", "--direction", "sideways"])
    assert bad.exit_code == 2 and "sideways" in bad.output and "improved" in bad.output


def test_csv_columns_are_documented():
    from pathlib import Path
    text = (Path(__file__).resolve().parent.parent / "docs" / "csv.md").read_text(encoding="utf-8")
    documented = {line.split("|")[1].strip().strip("`") for line in text.splitlines() if line.startswith("| `")}
    assert set(tables.SEARCH_COLUMNS) | set(tables.EVIDENCE_COLUMNS) | set(tables.FINDINGS_COLUMNS) <= documented


def test_kb_search_csv(built_root, runner):
    out = runner.invoke(main, ["--root", str(built_root), "search", "--format", "csv", "--limit", "1"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert sorted(r["id"] for r in rows) == ["sample-case", "second-case"]        # every match, not --limit
    assert [r["id"] for r in csv.DictReader(io.StringIO(runner.invoke(
        main, ["--root", str(built_root), "search", "gangs", "--format", "csv"]).output))] == ["second-case"]


def test_the_comparison_shows_regions(client):
    page = soup(client.get("/compare?id=sample-case&id=second-case"))
    cells = page.find("th", string="Regions").find_next_siblings("td")
    assert [td.get_text() for td in cells] == ["Americas, Northern America"] * 2
