"""Verdicts, EMMIE, the ledger, the map's axes and the summaries of findings as a reader meets them:
pages, CSV, Markdown and JSON on the small test collection, counts checked against each other on
the shipped one, and every bad parameter a 400 naming it."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from kb.content.loader import load_collection
from kb.knowledgebase import KnowledgeBase
from kb.settings import Settings
from webapp import create_app

ROOT = Path(__file__).resolve().parents[1]


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.data, "html.parser")


@pytest.fixture(scope="module")
def shipped(shipped_build):
    return KnowledgeBase(Settings.load({"ROOT": str(ROOT), "DATA_DIR": str(shipped_build),
                                        "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}"}))


@pytest.fixture(scope="module")
def shipped_client(shipped_build):
    app = create_app({"ROOT": str(ROOT), "DATA_DIR": str(shipped_build), "TESTING": True,
                      "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}", "BASE_URL": "https://kb.example.org"})
    return app.test_client()


# --- the small collection: the second case's one strong item on violence ---------------------

def test_case_page_shows_verdict_emmie_and_ledger(client):
    page = soup(client.get("/cases/second-case"))
    row = page.select_one("table.verdicts tbody tr")
    assert row.th.get_text(strip=True) == "Violence"
    assert row.select_one(".verdict").get_text(strip=True) == "Promising"
    assert row.select_one(".badge-text").get_text(strip=True) == "1 item, 1 source, best SMS 4, not reviewed"
    assert row.select_one(".verdict")["title"].startswith("1 strong finding of improvement")
    badge = page.select_one(".emmie")
    assert badge["aria-label"].startswith("EMMIE coverage 1 of 5: documents effect; not mechanism")
    assert [s.get_text() for s in badge.select(".emmie-yes")] == ["E"]
    assert "Violence improved" in page.select_one(".ledger-line").get_text(" ", strip=True)


def test_rules_page_explains_every_verdict_and_emmie(client):
    page = soup(client.get("/verdicts"))
    for name in ("effective", "promising", "mixed", "no-effect", "harmful", "insufficient"):
        assert page.select_one(f"#verdict-{name}") is not None, name
    assert page.select_one("#emmie") is not None
    assert "SMS strength of 3 or more" in page.get_text(" ", strip=True)


def test_search_has_a_live_verdict_facet_and_filter(client):
    data = client.get("/api/search").get_json()
    assert data["facets"]["verdict"] == {"promising": 2}       # each published case: one strong item
    none = client.get("/api/search?verdict=effective").get_json()
    assert none["results"] == [] and none["facets"]["verdict"] == {"promising": 2}   # a chosen facet counts its others
    only = client.get("/api/search?q=ceasefire&verdict=promising").get_json()
    assert [hit["id"] for hit in only["results"]] == ["second-case"]
    page = soup(client.get("/search?q=ceasefire&verdict=promising"))
    assert page.select_one(".hit .hit-verdict").get_text(" ", strip=True) == "Violence: Promising"
    assert client.get("/search?verdict=great").status_code == 400


def test_cli_search_filters_by_verdict(built_root, runner):
    from kb.cli import main
    def ids(*args):
        result = runner.invoke(main, ["--root", str(built_root), "search", *args, "--format", "json"])
        return sorted(hit["id"] for hit in json.loads(result.output)["results"])
    assert ids("--verdict", "promising") == ["sample-case", "second-case"]
    assert ids("--verdict", "effective") == []
    assert runner.invoke(main, ["--root", str(built_root), "search", "--verdict", "great"]).exit_code == 2


@pytest.mark.parametrize("url,message", [
    ("/ledger?by=planet", "by must be one of: theme, region, country"),
    ("/ledger?opposite=yes", "opposite must be 1"),
    ("/ledger?output=up", "output must be one of: success, failure, mixed, no-change"),
    ("/ledger?harm=better", "harm must be one of: improved, worsened, mixed, no-change"),
    ("/api/ledger?theme=nope", "unknown theme 'nope'"),
    ("/evidence-map?rows=planet", "rows must be one of:"),
    ("/evidence-map?rows=theme&cols=theme", "rows and cols must be two different facets"),
    ("/evidence-map?segment=size", "segment must be one of: direction, design"),
    ("/evidence-map?colour=red", "colour must be one of: strength, verdict"),
    ("/evidence-map?rows=theme&cols=design&colour=verdict", "colour=verdict needs the outcome as rows or cols"),
    ("/api/verdicts?region=atlantis", "unknown region 'atlantis'"),
])
def test_bad_parameters_are_400s_naming_them(client, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("url,status", [
    ("/themes/nope/findings", 404), ("/themes/targeted-deterrence/findings.pdf", 404), ("/api/verdicts?case=nope", 404)])
def test_unknown_things_are_404s(client, url, status):
    assert client.get(url).status_code == status


def test_drafts_never_reach_a_reader(client):
    """The draft case (tests/conftest.py) has a strong item: it must not vote anywhere."""
    assert "draft-case" not in client.get("/api/ledger").get_data(as_text=True)
    assert client.get("/api/verdicts?case=draft-case").status_code == 404
    assert client.get("/api/verdicts?theme=police-harm-reduction").get_json()["verdicts"].get("public-health", {}).get(
        "cases", 1) == 1


# --- the shipped collection: the numbers agree with each other --------------------------------

def test_every_map_cell_on_any_axes_counts_the_list_it_opens(shipped):
    for rows, cols, filters in (("region", "design", {}), ("population", "outcome", {"theme": ["targeted-deterrence"]}),
                                ("outcome", "legal_regime", {"direction": ["improved"]})):
        cells = shipped.evidence_grid(filters=filters, rows=rows, cols=cols, segment="design")
        assert cells, (rows, cols)
        for (row_value, col_value), cell in cells.items():
            listed, _ = shipped.evidence(filters={**filters, rows: [row_value], cols: [col_value]}, limit=0)
            assert listed.total == cell.count == sum(cell.segments.values()), (rows, cols, row_value, col_value)


def test_map_cell_verdicts_match_the_themes_verdicts_without_filters(shipped):
    cells = shipped.evidence_grid(verdicts=True)
    for theme in shipped.vocabulary.kinds["themes"]:
        for outcome, verdict in shipped.group_verdicts({"theme": [theme]}).items():
            assert cells[(theme, outcome)].verdict.verdict == verdict.verdict, (theme, outcome)


def test_summary_of_findings_as_page_csv_and_markdown(shipped_client, shipped):
    theme = "security-foreign-aid"
    found = shipped.findings({"theme": [theme]})
    assert found and all(f.verdict.cases >= 1 for f in found)
    page = soup(shipped_client.get(f"/themes/{theme}/findings"))
    assert [th.get_text(strip=True) for th in page.select("table.findings tbody th")] == [
        shipped.vocabulary.label("indicators", f.outcome) for f in found]
    rows = list(csv.DictReader(io.StringIO(shipped_client.get(f"/themes/{theme}/findings.csv").get_data(as_text=True))))
    assert [(r["outcome"], r["verdict"], r["certainty"], int(r["cases"])) for r in rows] == [
        (shipped.vocabulary.label("indicators", f.outcome), shipped.vocabulary.label("verdicts", f.verdict.verdict),
         f.certainty, f.verdict.cases) for f in found]
    markdown = shipped_client.get(f"/themes/{theme}/findings.md").get_data(as_text=True)
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(found) and all(line.count(" | ") == 6 for line in table[2:])
    assert markdown.startswith("## Summary of findings: Drug markets, security and foreign aid")


def test_summary_of_findings_in_the_api(shipped_client, shipped):
    data = shipped_client.get("/api/findings?theme=targeted-deterrence").get_json()
    found = shipped.findings({"theme": ["targeted-deterrence"]})
    assert [(f["outcome"], f["verdict"]["verdict"], f["certainty"]) for f in data["findings"]] == [
        (f.outcome, f.verdict.verdict, f.certainty) for f in found]
    strongest = data["findings"][0]["strongest"]
    assert strongest["url"] == f"/cases/{strongest['case']}#evidence-{strongest['id']}"
    assert shipped_client.get("/api/findings").status_code == 400


def test_pandoc_reads_the_markdown_summary_as_a_table(shipped_client):
    import pypandoc
    markdown = shipped_client.get("/themes/targeted-deterrence/findings.md").get_data(as_text=True)
    html = pypandoc.convert_text(markdown, "html", format="markdown")
    cells = BeautifulSoup(html, "html.parser").select("table tbody tr")
    assert len(cells) == markdown.count("\n|") - 2 and "Violence" in cells[0].get_text()


def test_theme_page_verdicts_and_ledger_summary(shipped_client, shipped):
    page = soup(shipped_client.get("/themes/security-foreign-aid"))
    shown = {row.th.get_text(strip=True): row.select_one(".verdict").get_text(strip=True)
             for row in page.select("table.verdicts tbody tr")}
    expected = {shipped.vocabulary.label("indicators", o): shipped.vocabulary.label("verdicts", v.verdict)
                for o, v in shipped.group_verdicts({"theme": ["security-foreign-aid"]}).items()}
    assert shown == expected
    ledger = shipped.ledger({"theme": ["security-foreign-aid"]})
    assert f"{ledger.opposite} of {ledger.both} case" in page.select_one(".glance").get_text(" ", strip=True)


def test_ledger_page_and_api_agree(shipped_client, shipped):
    data = shipped_client.get("/api/ledger").get_json()
    found = shipped.ledger()
    assert (data["measuring_both"], data["opposite"]) == (found.both, found.opposite)
    assert sum(cell["cases"] for cell in data["cells"]) == found.both
    page = soup(shipped_client.get("/ledger"))
    assert re.search(rf"{found.opposite} of {found.both} cases", page.select_one(".headline").get_text(" ", strip=True))
    only = shipped_client.get("/api/ledger?opposite=1").get_json()
    assert len(only["cases"]) == found.opposite and all(c["opposite"] for c in only["cases"])
    cell = next(c for c in data["cells"] if (c["output"], c["harm"]) == ("success", "worsened"))
    narrowed = soup(shipped_client.get("/ledger?output=success&harm=worsened"))
    assert len(narrowed.select("table.ledger tbody tr")) == cell["cases"]


def test_at_least_half_of_the_quantitative_items_carry_their_effect():
    """Issue 13: an item whose claim states a percentage (a quantified result) has its `effect`."""
    collection = load_collection(ROOT)
    quantified = [item for case in collection.cases for item in case.evidence
                  if re.search(r"\d\s*(%|per ?cent)", item.claim)]
    with_effect = [item for item in quantified if item.effect]
    assert len(quantified) >= 30 and len(with_effect) * 2 >= len(quantified), (len(with_effect), len(quantified))


def test_the_shipped_ledger_has_outputs_moving_against_harms(shipped):
    """The concept note's thesis is visible in the shipped collection: some case's outputs and harms
    moved in opposite directions, and every output item a case reports has its change where given."""
    found = shipped.ledger()
    assert found.opposite >= 2 and found.both >= 10
