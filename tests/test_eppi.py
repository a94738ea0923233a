"""The evidence map as EPPI-Reviewer JSON for EPPI-Mapper (kb/eppi.py, `kb export eppi-mapper`,
/evidence-map.eppi.json): its structure, its ids, its counts, drafts, and the CLI against the web."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import case_text

from kb.cli import main
from kb.eppi import item_id
from kb.knowledgebase import KnowledgeBase, session
from kb.storage.build import build

ROOT = Path(__file__).resolve().parent.parent
URL = "/evidence-map.eppi.json"
HEADINGS = ["Theme", "Outcome", "Direction", "Design", "Region", "Country", "Market level", "Concept"]
SELECTABLE, HEADING = "Selectable (show checkbox)", "Not selectable (no checkbox)"
# every key of a Reference in EPPI-Reviewer's exports (EPPI-Mapper needs all of them to offer a download)
REFERENCE_KEYS = ["QuickCitation", "ItemId", "Title", "ParentTitle", "ShortTitle", "DateCreated", "CreatedBy", "DateEdited",
                  "EditedBy", "Year", "Month", "StandardNumber", "City", "Country", "Publisher", "Institution", "Volume",
                  "Pages", "Edition", "Issue", "Availability", "URL", "OldItemId", "Abstract", "Comments", "TypeName",
                  "Authors", "ParentAuthors", "DOI", "Keywords", "ItemStatus", "ItemStatusTooltip", "Codes", "Outcomes"]
ATTRIBUTE_KEYS = {"AttributeSetId": int, "AttributeId": int, "OriginalAttributeID": int, "AttributeSetDescription": str,
                  "AttributeType": str, "AttributeName": str, "AttributeDescription": str, "ExtURL": str, "ExtType": str}
CODE_KEYS = {"AttributeId": int, "AdditionalText": str, "ArmId": int, "ArmTitle": str}
DETAIL_KEYS = {"ItemDocumentId": int, "TextFrom": int, "TextTo": int, "Text": str, "IsFromPDF": bool, "DocTitle": str,
               "ItemArm": str}


def attributes(nodes):
    for node in nodes:
        yield node
        yield from attributes(node.get("Attributes", {}).get("AttributesList", []))


def check_structure(found: dict) -> dict[int, dict]:
    """Every rule EPPI-Mapper relies on; returns the attributes by id."""
    assert list(found) == ["CodeSets", "References"]
    [code_set] = found["CodeSets"]
    assert code_set["SetName"] == "Drug law enforcement evidence map" and code_set["SetType"]["SetTypeName"] == "Standard"
    assert isinstance(code_set["SetId"], int) and isinstance(code_set["ReviewSetId"], int)
    tree = code_set["Attributes"]["AttributesList"]
    assert [node["AttributeName"] for node in tree] == HEADINGS
    every = list(attributes(tree))
    for node in every:
        assert {key: type(node[key]) for key in ATTRIBUTE_KEYS} == ATTRIBUTE_KEYS, node
        assert node["AttributeType"] in (SELECTABLE, HEADING) and node["AttributeName"]
        assert set(node) - set(ATTRIBUTE_KEYS) <= {"Attributes"}
        if "Attributes" in node:
            assert isinstance(node["Attributes"]["AttributesList"], list)
    assert {node["AttributeType"] for node in tree} == {HEADING}
    ids = [node["AttributeId"] for node in every]
    assert len(ids) == len(set(ids)) and all(0 < i < 2 ** 31 for i in ids)
    by_id = {node["AttributeId"]: node for node in every}
    item_ids = []
    for ref in found["References"]:
        assert list(ref) == REFERENCE_KEYS
        assert all(isinstance(ref[key], str) for key in REFERENCE_KEYS if key not in ("ItemId", "Codes", "Outcomes"))
        item_ids.append(ref["ItemId"])
        assert ref["Codes"] and ref["Outcomes"] == []
        for code in ref["Codes"]:
            assert {key: type(code[key]) for key in CODE_KEYS} == CODE_KEYS
            assert by_id[code["AttributeId"]]["AttributeType"] == SELECTABLE
            for detail in code.get("ItemAttributeFullTextDetails", []):
                assert {key: type(detail[key]) for key in DETAIL_KEYS} == DETAIL_KEYS
    assert len(item_ids) == len(set(item_ids)) and all(isinstance(i, int) and 0 < i < 2 ** 31 for i in item_ids)
    return by_id


def heading(found: dict, name: str) -> dict:
    return next(node for node in found["CodeSets"][0]["Attributes"]["AttributesList"] if node["AttributeName"] == name)


def by_item(found: dict) -> dict[str, dict]:
    return {ref["OldItemId"]: ref for ref in found["References"]}


def outcome_details(found: dict, ref: dict) -> list[dict]:
    outcomes = {node["AttributeId"] for node in attributes([heading(found, "Outcome")])}
    return [detail for code in ref["Codes"] if code["AttributeId"] in outcomes
            for detail in code.get("ItemAttributeFullTextDetails", [])]


def test_the_export_has_the_structure_eppi_mapper_reads(client):
    response = client.get(URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="evidence-map.eppi.json"'
    found = response.get_json()
    by_id = check_structure(found)
    items = by_item(found)
    assert sorted(items) == ["sample-case/overdose-deaths", "second-case/arrests", "second-case/shootings"]
    # the claim and its locator, in the outcome's code
    assert outcome_details(found, items["sample-case/overdose-deaths"]) == [{
        "ItemDocumentId": 0, "TextFrom": 0, "TextTo": 0, "Text": "Overdose deaths near the site fell. (p. 5)",
        "IsFromPDF": False, "DocTitle": "Sample case of police and harm reduction", "ItemArm": ""}]
    assert outcome_details(found, items["second-case/shootings"])[0]["Text"] == \
        "Shootings fell after call-ins & meetings. (ch. 2)"
    assert outcome_details(found, items["second-case/arrests"])[0]["Text"] == "Arrests did not change."
    # its codes: the case's theme, concept, region, country and market levels, the item's own terms
    names = sorted(by_id[code["AttributeId"]]["AttributeName"] for code in items["second-case/shootings"]["Codes"])
    assert names == sorted(["Targeted deterrence and organised crime", "Harm indicators", "Americas", "Northern America",
                            "United States", "Retail", "Consumption", "Violence", "Improved", "Quasi-experimental"])


def test_a_reference_carries_its_first_source(client):
    found = client.get(URL).get_json()
    ref = by_item(found)["sample-case/overdose-deaths"]
    assert {key: value for key, value in ref.items() if key not in ("ItemId", "Codes")} == {
        "QuickCitation": "Doe J., and van der Meer P. (2020) Policing Open Drug Markets in Zürich. Journal of Drug Policy 12, 1-20",
        "Title": "Policing Open Drug Markets in Zürich", "ParentTitle": "Journal of Drug Policy", "ShortTitle": "Doe (2020)",
        "DateCreated": "", "CreatedBy": "", "DateEdited": "", "EditedBy": "", "Year": "2020", "Month": "",
        "StandardNumber": "", "City": "", "Country": "", "Publisher": "", "Institution": "", "Volume": "12",
        "Pages": "1-20", "Edition": "", "Issue": "", "Availability": "",
        "URL": "https://kb.example.org/cases/sample-case#evidence-overdose-deaths",
        "OldItemId": "sample-case/overdose-deaths", "Abstract": "Overdose deaths near the site fell.",
        "Comments": "Case: Sample case of police and harm reduction", "TypeName": "Journal, Article",
        "Authors": "Doe, J.; van der Meer, P.;", "ParentAuthors": "", "DOI": "10.1000/jdp.2020.1", "Keywords": "",
        "ItemStatus": "I", "ItemStatusTooltip": "Included in review", "Outcomes": []}
    items = by_item(found)
    assert (items["second-case/shootings"]["TypeName"], items["second-case/shootings"]["Publisher"]) == ("Book, Whole", "Example Press")
    report = items["second-case/arrests"]
    assert (report["TypeName"], report["Authors"], report["ShortTitle"], report["Institution"]) == \
        ("Report", "World Bank;", "World Bank (2018)", "World Bank")


def test_ids_follow_the_documented_scheme(client):
    """A block of 100,000 ids per heading: vocabulary terms by position, regions by M49 code,
    countries by ISO 3166-1 numeric code (docs/eppi-mapper.md)."""
    found = client.get(URL).get_json()
    ids = {node["AttributeName"]: node["AttributeId"] for node in attributes(found["CodeSets"][0]["Attributes"]["AttributesList"])}
    assert {name: ids[name] for name in ("Theme", "Police support for harm reduction", "Outcome", "Harm outcomes",
                                         "Violence", "Traditional indicators", "Arrests", "Direction", "Improved",
                                         "Americas", "Northern America", "Canada", "United States", "Concept")} == {
        "Theme": 100000, "Police support for harm reduction": 100001, "Outcome": 200000, "Harm outcomes": 210000,
        "Violence": 210001, "Traditional indicators": 220000, "Arrests": 220001, "Direction": 300000, "Improved": 300001,
        "Americas": 500019, "Northern America": 500021, "Canada": 600124, "United States": 600840, "Concept": 800000}


def test_regions_and_countries_are_those_of_the_cases(client):
    found = client.get(URL).get_json()

    def tree(node):
        return [(child["AttributeName"], tree(child)) for child in node.get("Attributes", {}).get("AttributesList", [])]
    assert tree(heading(found, "Region")) == [("Americas", [("Northern America", [])])]
    assert tree(heading(found, "Country")) == [("Canada", []), ("United States", [])]
    americas = heading(found, "Region")["Attributes"]["AttributesList"][0]
    assert americas["AttributeType"] == SELECTABLE      # a region with sub-regions is a code too
    # every term of the vocabularies, with its help, so an empty row of the map is a gap
    assert len(heading(found, "Theme")["Attributes"]["AttributesList"]) == 6
    assert heading(found, "Direction")["Attributes"]["AttributesList"][0]["AttributeDescription"] == "The outcome got better."
    only_us = client.get(URL + "?country=US").get_json()
    assert tree(heading(only_us, "Country")) == [("United States", [])]


def test_item_ids_are_stable_across_builds(client, built_root):
    before = {ref["OldItemId"]: ref["ItemId"] for ref in client.get(URL).get_json()["References"]}
    # a case whose title sorts first moves every item's position in the list
    (built_root / "case_studies" / "aaa.md").write_text(case_text("aaa-case", title='"Aaa first case"'), encoding="utf-8")
    build(built_root)
    after = {ref["OldItemId"]: ref["ItemId"] for ref in client.get(URL).get_json()["References"]}
    assert list(after)[0] == "aaa-case/overdose-deaths"
    assert {key: after[key] for key in before} == before and len(set(after.values())) == 4


def test_a_colliding_item_id_is_hashed_again():
    taken: set[int] = set()
    first = item_id("case", "item", taken)
    again = item_id("case", "item", taken)       # as if another item had hashed to the same number
    assert again != first and again == item_id("case", "item", {first}) and taken == {first, again}


@pytest.mark.parametrize("query", ["", "?theme=targeted-deterrence", "?outcome=violence", "?country=US",
                                   "?region=americas&direction=improved", "?min_strength=4", "?design=rct"])
def test_references_are_the_items_of_the_evidence_list(client, query):
    found = client.get(URL + query).get_json()
    listed = client.get("/api/evidence" + (query + "&" if query else "?") + "limit=200").get_json()
    assert len(found["References"]) == listed["total"]
    assert sorted(ref["OldItemId"] for ref in found["References"]) == sorted(f"{i['case']}/{i['id']}" for i in listed["items"])


def test_drafts_are_never_exported_unless_asked(client, built_root):
    assert not [ref for ref in client.get(URL + "?drafts=1").get_json()["References"]
                if ref["OldItemId"].startswith("draft-case/")]       # a visitor may not see them
    with session():
        kb = KnowledgeBase(built_root)
        try:
            assert "draft-case/overdose-deaths" not in by_item(kb.eppi_mapper())
            assert "draft-case/overdose-deaths" in by_item(kb.eppi_mapper(drafts=True))
        finally:
            kb.close()


@pytest.mark.parametrize("query", ["", "?theme=targeted-deterrence&min_strength=4"])
def test_the_cli_writes_what_the_web_serves(client, built_root, runner, tmp_path, monkeypatch, query):
    monkeypatch.setenv("KB_BASE_URL", "https://kb.example.org")
    served = client.get(URL + query).get_data()
    options = ["--theme", "targeted-deterrence", "--min-strength", "4"] if query else []
    out = tmp_path / "map.json"
    result = runner.invoke(main, ["--root", str(built_root), "export", "eppi-mapper", *options, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == served and json.loads(served)["References"]
    assert not list(tmp_path.glob(".map.json.*"))         # the temporary file was renamed
    stdout = runner.invoke(main, ["--root", str(built_root), "export", "eppi-mapper", *options])
    assert stdout.exit_code == 0 and stdout.output.encode("utf-8") == served


@pytest.mark.parametrize("query,message", [
    ("?theme=nope", "unknown theme 'nope'"),
    ("?outcome=happiness", "unknown outcome 'happiness'"),
    ("?country=USA", "country 'USA' is not an ISO 3166-1 alpha-2 code"),
    ("?region=atlantis", "unknown region 'atlantis'"),
    ("?min_strength=9", "min_strength must be a whole number from 1 to 5, not '9'"),
])
def test_a_bad_filter_is_a_400(client, query, message):
    response = client.get(URL + query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


@pytest.mark.parametrize("options,message", [
    (["--theme", "nope"], "Invalid value for --theme: unknown value 'nope'; choose from: police-harm-reduction"),
    (["--country", "USA"], "Invalid value for --country: unknown value 'USA'; write it like 'GB'"),
    (["--min-strength", "9"], "Invalid value for '--min-strength': 9 is not in the range 1<=x<=5."),
])
def test_a_bad_filter_is_a_clean_cli_error(built_root, runner, options, message):
    result = runner.invoke(main, ["--root", str(built_root), "export", "eppi-mapper", *options])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_the_map_page_links_to_the_export_with_its_filters(client):
    page = BeautifulSoup(client.get("/evidence-map?country=US&min_strength=2").get_data(as_text=True), "html.parser")
    link = page.select_one("p.map-export a")
    assert link.get_text() == "Download for EPPI-Mapper"
    assert link["href"] == URL + "?country=US&min_strength=2"
    assert client.get(link["href"]).status_code == 200


def test_the_shipped_collection_exports_whole(shipped_build):
    from kb.citations.keys import parse_cite_field
    from kb.settings import Settings
    settings = Settings.load({"ROOT": str(ROOT), "DATA_DIR": str(shipped_build),
                              "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}"})
    with session():
        kb = KnowledgeBase(settings)
        try:
            found = kb.eppi_mapper()
            rows = kb.evidence("", limit=10 ** 6)[0].rows
            sources = kb.sources()
        finally:
            kb.close()
    check_structure(found)
    assert len(found["References"]) == len(rows) > 100
    assert all(ref["Title"] and ref["ShortTitle"] for ref in found["References"])
    anonymous = sum(1 for row in rows if not {"author", "editor"} & set(sources[row.keys[0]].fields))
    assert sum(not ref["Authors"] for ref in found["References"]) <= anonymous   # web pages and news without a byline
    refs = by_item(found)
    located = {f"{row.case_id}/{row.id}": [r.locator for r in parse_cite_field(row.cite) if r.locator] for row in rows}
    assert [item for item, locators in located.items() if locators] != []
    for item, locators in located.items():
        [detail] = outcome_details(found, refs[item])
        assert all(locator in detail["Text"] for locator in locators), (item, detail["Text"])


def test_chromium_downloads_the_filtered_map(page):
    page.goto("/evidence-map?country=US")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download for EPPI-Mapper").click()
    assert download_info.value.suggested_filename == "evidence-map.eppi.json"
    found = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    check_structure(found)
    assert sorted(by_item(found)) == ["second-case/arrests", "second-case/shootings"]


def test_a_second_export_at_once_is_told_to_come_back(client):
    """An export costs seconds of CPU at 10,000 cases: one at a time per worker, the next a 503
    with Retry-After, never a queue of them."""
    from webapp import findings
    assert findings._EXPORTING.acquire(blocking=False)
    try:
        response = client.get("/evidence-map.eppi.json")
    finally:
        findings._EXPORTING.release()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "try again in a few seconds" in response.get_json()["error"]["message"]
    assert client.get("/evidence-map.eppi.json").status_code == 200
