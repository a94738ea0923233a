"""Choose and compare: the comparison tray (kept like the basket), checkboxes on lists, the
comparison grouped by outcome, and related cases by structure and text with their reasons."""
from __future__ import annotations

import textwrap
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import BIB, case_text

from kb.knowledgebase import KnowledgeBase
from kb.storage.build import build


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.data, "html.parser")


def add(client, *items, next_url="/compare/tray", **form):
    return client.post("/compare/add", data={"item": list(items), "next": next_url, **form})


def tray_ids(client) -> list[str]:
    with client.session_transaction() as session:
        return list(session.get("compare", []))


def flashes(page: BeautifulSoup) -> list[str]:
    return [p.get_text(" ", strip=True) for p in page.select("p.flash")]


def evidence(outcome: str, direction: str = "improved", design: str = "official-statistics", strength: int = 2,
             item: str = "e1") -> str:
    return textwrap.dedent(f"""\
        evidence:
          - id: {item}
            claim: A finding on {outcome}.
            cite: "[@doe2020policing]"
            outcome: {outcome}
            direction: {direction}
            design: {design}
            strength: {strength}""")


# --- a collection for related cases and bigger comparisons ----------------------------------------

def rio_cases() -> dict[str, str]:
    """Rio-like: the text twin shares Rio's distinctive words and nothing else; the structural
    twin shares its theme, concept, region, market level, outcome and design, in other words; a
    draft has all Rio's structure too."""
    words = "favelas pacification occupation proximity units Santa Marta shootouts"
    common = dict(tags="[]", locality=None, body="## Context\n\nSee the sources [@doe2020policing].\n")
    return {
        "rio.md": case_text("rio", title='"Rio pacification units in favelas"', summary=f'"{words}."',
                            themes="[targeted-deterrence]", concepts="[targeted-tolerance]", country="BR",
                            market_levels="[retail]", evidence=evidence("violence"), **common),
        "medellin.md": case_text("medellin", title='"Medellin comuna truce"', summary='"Gang truce in the comunas."',
                                 themes="[targeted-deterrence]", concepts="[targeted-tolerance]", country="CO",
                                 market_levels="[retail]", evidence=evidence("violence"), **common),
        "referral.md": case_text("referral", title='"Arrest referral with pacification units"',
                                 summary=f'"Custody suites. {words}."', themes="[police-harm-reduction]",
                                 concepts="[harm-based-prioritisation]", country="GB", market_levels="[consumption]",
                                 evidence=evidence("public-health", design="before-after"), **common),
        "boston.md": case_text("boston", title='"Ceasefire in Boston"', summary='"Call-ins with gangs."',
                               themes="[targeted-deterrence]", concepts="[harm-indicators]", country="US",
                               market_levels="[wholesale]", evidence=evidence("violence", design="quasi-experimental",
                                                                              strength=4), **common),
        "coffee.md": case_text("coffee", title='"Dutch coffeeshops"', summary='"Tolerated cannabis sales."',
                               themes="[tolerated-cannabis-markets]", concepts="[]", country="NL",
                               market_levels="[consumption]", evidence=evidence("drug-use", design="cross-sectional"),
                               **common),
        "oslo.md": case_text("oslo", title='"Oslo open drug scene"', summary='"Plata scene dispersal."',
                             themes="[local-market-harm-reduction]", concepts="[]", country="NO",
                             market_levels="[consumption]", evidence=evidence("public-nuisance", "worsened",
                                                                              "qualitative"), **common),
        "twin-draft.md": case_text("twin-draft", title='"Unfinished draft"', summary='"Not yet written."',
                                   themes="[targeted-deterrence]", concepts="[targeted-tolerance]",
                                   country="BR", market_levels="[retail]", evidence=evidence("violence"),
                                   status="draft", **common),
    }


@pytest.fixture
def rio_root(kb_root, monkeypatch):
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    root = kb_root(rio_cases(), bib=BIB)
    build(root)
    return root


@pytest.fixture
def rio_client(rio_root, app_factory):
    app = app_factory({"ROOT": str(rio_root), "TESTING": True, "WTF_CSRF_ENABLED": False})
    return app.test_client()


# --- the tray ------------------------------------------------------------------------------------

def test_add_from_the_case_page_and_compare_from_the_tray(client):
    form = soup(client.get("/cases/sample-case")).find("button", string="Add to comparison").find_parent("form")
    assert form["action"] == "/compare/add" and form.find("input", {"name": "item"})["value"] == "sample-case"
    response = add(client, "sample-case", next_url="/cases/sample-case?style=apa")
    assert response.status_code == 302 and response.headers["Location"] == "/cases/sample-case?style=apa"
    page = soup(client.get("/cases/sample-case"))
    assert flashes(page) == ["Added Sample case of police and harm reduction to the comparison (1 of 4)."]
    assert page.find("nav", {"aria-label": "Main"}).find("a", string="Compare (1)")["href"] == "/compare/tray"
    add(client, "second-case")
    add(client, "second-case")                       # twice: kept once
    assert tray_ids(client) == ["sample-case", "second-case"]
    tray = soup(client.get("/compare/tray"))
    assert [a.get_text() for a in tray.select("ul.tray > li > a")] == ["Sample case of police and harm reduction",
                                                                      "Ceasefire in Boston"]
    link = tray.find("a", string="Compare selected")["href"]
    assert parse_qs(urlsplit(link).query) == {"id": ["sample-case", "second-case"]}
    assert client.get(link).status_code == 200


def test_the_tray_holds_four(rio_client):
    for case_id in ("rio", "medellin", "boston", "coffee"):
        add(rio_client, case_id)
    response = add(rio_client, "oslo", next_url="/cases/oslo")
    assert response.status_code == 302 and response.headers["Location"] == "/cases/oslo"
    assert tray_ids(rio_client) == ["rio", "medellin", "boston", "coffee"]
    assert flashes(soup(rio_client.get("/cases/oslo")))[-1] == "The comparison tray holds at most 4 cases; remove one first."
    assert soup(rio_client.get("/compare/tray")).find("a", string="Compare (4)")


def test_remove_and_clear(client):
    add(client, "sample-case", "second-case")
    assert tray_ids(client) == ["sample-case", "second-case"]
    form = soup(client.get("/compare/tray")).find("button", {"aria-label": "Remove Ceasefire in Boston from the comparison"})
    assert form.get_text() == "Remove"
    client.post("/compare/remove", data={"item": "second-case"})
    assert tray_ids(client) == ["sample-case"]
    page = soup(client.get("/compare/tray"))
    assert page.find("a", string="Compare selected") is None     # one case: nothing to compare yet
    assert "Add at least one more" in page.get_text()
    client.post("/compare/clear")
    assert tray_ids(client) == []
    assert "The comparison tray is empty" in client.get("/compare/tray").get_data(as_text=True)


def test_stale_ids_are_dropped_with_a_notice(client):
    with client.session_transaction() as session:   # as if a rebuild had removed a case
        session["compare"] = ["gone-case", "sample-case"]
    page = soup(client.get("/compare/tray"))
    assert page.select_one("p.flash.warn").get_text() == "No longer in the collection, left out: gone-case"
    assert [a.get_text() for a in page.select("ul.tray > li > a")] == ["Sample case of police and harm reduction"]
    assert tray_ids(client) == ["sample-case"]
    assert soup(client.get("/compare/tray")).select_one("p.flash.warn") is None   # said once


@pytest.mark.parametrize("items, status, message", [
    (["nope"], 404, "nothing to compare: no case study with id 'nope' (parameter item)"),
    (["draft-case"], 404, "nothing to compare: no case study with id 'draft-case' (parameter item)"),
    (["sample-case", "nope"], 404, "nothing to compare: no case study with id 'nope' (parameter item)"),
    ([], 400, "item: name the case study to add to the comparison"),
    (["  "], 400, "item: name the case study to add to the comparison"),
])
def test_bad_items_are_refused_by_name(client, items, status, message):
    response = add(client, *items)
    assert response.status_code == status
    assert soup(response).select_one(".error-message").get_text(strip=True) == message
    assert tray_ids(client) == []


def test_next_must_be_local(client):
    assert add(client, "sample-case", next_url="https://evil.example/").headers["Location"] == "/compare/tray"
    assert add(client, "sample-case", next_url="//evil.example/").headers["Location"] == "/compare/tray"
    assert client.post("/compare/remove", data={"item": "x", "next": "/\\evil"}).headers["Location"] == "/compare/tray"


@pytest.mark.parametrize("url, data", [("/compare/add", {"item": "sample-case"}), ("/compare/remove", {"item": "x"}),
                                       ("/compare/clear", {})])
def test_forms_need_the_csrf_token(app, client, url, data):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "CSRF" in soup(response).select_one(".error-message").get_text()


# --- checkboxes on lists --------------------------------------------------------------------------

def test_search_results_have_labelled_checkboxes_in_one_form(client):
    page = soup(client.get("/search?q=police"))
    form = page.select_one("form.choose-form")
    assert form["action"] == "/compare/add" and form["method"] == "post"
    assert form.find("input", {"name": "next"})["value"] == "/search?q=police"
    boxes = form.select("ol.hits li.hit input[type=checkbox][name=item]")
    assert sorted(box["value"] for box in boxes) == ["sample-case", "second-case"]
    labels = sorted(page.select_one(f"label[for={box['id']}]").get_text(" ", strip=True) for box in boxes)
    assert labels == ["Choose Ceasefire in Boston for comparison",
                      "Choose Sample case of police and harm reduction for comparison"]
    submit = form.find("button", {"type": "submit"})
    assert (submit.get_text(), submit["name"], submit["value"]) == ("Compare selected", "compare", "1")
    assert soup(client.get("/search?q=nothingmatcheszz")).select_one("form.choose-form") is None


def test_theme_pages_have_checkboxes_and_home_does_not(client):
    page = soup(client.get("/themes/police-harm-reduction"))
    assert [box["value"] for box in page.select("form.choose-form ul.case-list input[type=checkbox]")] == ["sample-case"]
    assert soup(client.get("/")).select("input[type=checkbox]") == []


def test_two_chosen_boxes_open_the_comparison(client):
    response = add(client, "second-case", "sample-case", next_url="/search?q=police", compare="1")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/compare" and parse_qs(location.query) == {"id": ["second-case", "sample-case"]}
    assert tray_ids(client) == []                     # straight to the comparison, the tray untouched


def test_one_chosen_box_goes_into_the_tray(client):
    response = add(client, "second-case", next_url="/search?q=police", compare="1")
    assert response.headers["Location"] == "/search?q=police"
    assert tray_ids(client) == ["second-case"]


@pytest.mark.parametrize("items, message", [
    (["rio", "medellin", "boston", "coffee", "oslo"], "You chose 5 cases; compare at most 4 at once."),
    ([], "Tick 2 to 4 cases to compare them."),
])
def test_too_many_or_no_boxes_say_so_and_go_back(rio_client, items, message):
    response = add(rio_client, *items, next_url="/themes/targeted-deterrence", compare="1")
    assert response.status_code == 302 and response.headers["Location"] == "/themes/targeted-deterrence"
    assert flashes(soup(rio_client.get("/themes/targeted-deterrence"))) == [message]
    assert tray_ids(rio_client) == []


# --- the comparison -------------------------------------------------------------------------------

def row_cells(page: BeautifulSoup, header: str) -> list[str]:
    th = next(th for th in page.select("table.compare th[scope=row]") if th.get_text(" ", strip=True).startswith(header))
    return [td.get_text(" ", strip=True) for td in th.find_next_siblings("td")]


def test_the_comparison_groups_evidence_by_outcome(client):
    page = soup(client.get("/compare?id=sample-case&id=second-case"))
    outcomes = [tr.th.get_text(" ", strip=True) for tr in page.select("table.compare tr.outcome")]
    assert outcomes == ["Arrests", "Violence", "Public health"]          # vocabulary order
    assert row_cells(page, "Arrests") == [
        "not measured", "→ no change · Official statistics, not graded Arrests did not change."]
    assert row_cells(page, "Violence") == [
        "not measured", "↑ improved · Quasi-experimental, SMS 4 Shootings fell after call-ins & meetings."]
    assert row_cells(page, "Public health")[1] == "not measured"
    assert page.select("table.compare tr.agree") == []                  # no outcome both measure
    assert row_cells(page, "Designs") == ["Before and after", "Quasi-experimental, Official statistics"]
    assert row_cells(page, "Strongest evidence") == ["SMS 3 (Public health, before and after)",
                                                     "SMS 4 (Violence, quasi-experimental)"]
    assert row_cells(page, "Evidence items and sources") == ["1 item from 2 sources", "2 items from 2 sources"]
    assert row_cells(page, "Themes") == ["Police support for harm reduction", "Targeted deterrence and organised crime"]
    assert page.select_one("table.compare").find_parent("div")["class"] == ["table-wrap"]
    assert page.select("table.compare tfoot") == []                     # two cases: none to leave out


def test_agreeing_outcomes_are_marked_and_a_case_can_be_left_out(rio_client):
    page = soup(rio_client.get("/compare?id=rio&id=medellin&id=boston"))
    agree = page.select("table.compare tr.agree")
    assert [tr.th.get_text(" ", strip=True) for tr in agree] == ["Violence all improved"]
    assert row_cells(page, "Violence")[2].startswith("↑ improved · Quasi-experimental, SMS 4")
    assert page.find("th", string="Regions") is None or len(row_cells(page, "Regions")) == 3
    links = page.select("table.compare tfoot a")
    assert [a["aria-label"] for a in links] == [f"Remove {t} from this comparison" for t in (
        "Rio pacification units in favelas", "Medellin comuna truce", "Ceasefire in Boston")]
    assert parse_qs(urlsplit(links[0]["href"]).query) == {"id": ["medellin", "boston"]}
    assert rio_client.get(links[0]["href"]).status_code == 200
    page = soup(rio_client.get("/compare?id=oslo&id=coffee"))
    assert row_cells(page, "Public nuisance") == ["↓ worsened · Qualitative, SMS 2 A finding on public-nuisance.",
                                                  "not measured"]


# --- related cases by structure and text ----------------------------------------------------------

def test_related_cases_weigh_structure_with_text(rio_root):
    kb = KnowledgeBase(rio_root)
    try:
        assert kb.index.more_like_this("rio")[0].id == "referral"        # words alone pick the wrong case
        related = kb.related("rio")
        assert [hit.id for hit in related][:2] == ["medellin", "referral"]
        assert related[0].reasons == ["same theme, concept, region, market level and study design",
                                      "both measure violence"]
        assert related[1].reasons == ["similar wording"]
        by_id = {hit.id: hit for hit in related}
        assert by_id["boston"].reasons == ["same theme", "both measure violence"]   # the Americas alone is no region
        assert "twin-draft" not in by_id
        assert "twin-draft" in [hit.id for hit in kb.related("rio", drafts=True)]
        assert all(hit.score > 0 for hit in related) and related == sorted(related, key=lambda h: -h.score)
    finally:
        kb.close()


def test_the_case_page_shows_why_cases_are_related(rio_client):
    page = soup(rio_client.get("/cases/rio"))
    items = page.select("ul.related li")
    assert items[0].a.get_text() == "Medellin comuna truce"
    assert items[0].select_one(".reasons").get_text() == (
        "same theme, concept, region, market level and study design; both measure violence")
    assert "twin-draft" not in str(page)


def test_related_rows_stored_without_reasons_still_read(rio_root, rio_client):
    from kb import storage
    kb = KnowledgeBase(rio_root)
    try:
        old = [{k: v for k, v in vars(hit).items() if k != "reasons"} for hit in kb.related("medellin")]
        with kb.engine.begin() as conn:
            conn.execute(storage.related.delete())
            conn.execute(storage.related.insert().values(generation=kb.generation, case_id="medellin", data=old))
        parts = kb.case_page("medellin", "apa", "https://kb.example.org")[1]
        assert [hit["reasons"] for hit in parts["related"]] == [[] for _ in old]
    finally:
        kb.close()
    page = soup(rio_client.get("/cases/medellin"))
    assert page.select("ul.related li") and page.select("ul.related .reasons") == []


# --- in the browser -------------------------------------------------------------------------------

def test_search_tick_two_and_compare(page):
    page.goto("/search?q=police")
    page.get_by_label("Choose Sample case of police and harm reduction for comparison").check()
    page.get_by_label("Choose Ceasefire in Boston for comparison").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/compare?id=*")
    headers = page.locator("table.compare thead a").all_inner_texts()
    assert sorted(headers) == ["Ceasefire in Boston", "Sample case of police and harm reduction"]
    assert page.locator("table.compare tr.outcome th", has_text="Violence").is_visible()
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("node => node.scrollWidth > node.clientWidth")   # the table scrolls inside it
