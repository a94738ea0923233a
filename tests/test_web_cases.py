"""Case pages, lists, the evidence map, comparison, pictures, feed and exports."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import bibtexparser
import pytest
import rispy
from bs4 import BeautifulSoup


def soup(response, status=200):
    assert response.status_code == status, response.data[:300]
    return BeautifulSoup(response.data, "html.parser")


def test_case_page_metadata_body_and_references(client):
    page = soup(client.get("/cases/sample-case"))
    assert page.h1.get_text(strip=True) == "Sample case of police and harm reduction"
    panel = {dt.get_text(strip=True): dt.find_next_sibling("dd").get_text(" ", strip=True) for dt in page.select(".meta-panel dt")}
    assert panel["Country"] == "Canada"
    assert panel["Period"] == "2003-2008"
    assert panel["Market levels"] == "Retail, Consumption"
    assert [a.get_text() for a in page.select("nav.toc a")] == ["Context", "Outcomes", "Evidence", "References"]
    references = {li["id"] for li in page.select("ol.references li")}
    assert references == {"ref-doe2020policing", "ref-roe2015cannabis"}
    links = [a["href"] for a in page.select(".case-body a.cite")]
    assert links and all(link.lstrip("#") in references for link in links)
    assert page.select_one(".case-body a.cite").get_text() == "(Doe & van der Meer, 2020, p. 3)"


def test_style_picker_changes_formatting(client):
    apa = soup(client.get("/cases/sample-case"))
    chicago = soup(client.get("/cases/sample-case?style=chicago-author-date"))
    assert apa.select_one("#ref-doe2020policing").get_text().startswith("Doe, J., & van der Meer, P. (2020).")
    assert chicago.select_one("#ref-doe2020policing").get_text().startswith("Doe, Jane, and Piet van der Meer. 2020.")
    assert chicago.select_one("#style option[selected]")["value"] == "chicago-author-date"
    assert client.get("/cases/sample-case?style=apa-7").status_code == 400


def test_evidence_table(client):
    page = soup(client.get("/cases/second-case"))
    rows = page.select("table.evidence tbody tr")
    cells = [[td.get_text(" ", strip=True) for td in row.select("td")[:5]] for row in rows]
    assert cells == [
        ["Shootings fell after call-ins & meetings.", "Violence", "improved", "Quasi-experimental", "4"],
        ["Arrests did not change.", "Arrests", "no change", "Official statistics", "—"],
    ]
    assert rows[0]["id"] == "evidence-shootings"
    assert rows[0].select("td")[5].get_text() == "—"          # not reviewed yet
    assert "(Roe, 2015, Chapter 2)" in rows[0].select("td")[6].get_text()


def test_unknown_and_draft_cases_are_404(client):
    for url in ("/cases/nope", "/cases/draft-case", "/cases/sample-case/evidence/nope/cite.bib", "/cases/sample-case/cite.pdf"):
        assert client.get(url).status_code == 404


def test_exports_are_readable_by_other_programs(client):
    bib = client.get("/cases/second-case/cite.bib")
    assert bib.headers["Content-Disposition"] == 'attachment; filename="second-case-sources.bib"'
    library = bibtexparser.parse_string(bib.get_data(as_text=True))
    assert sorted(entry.key for entry in library.entries) == ["bank2018laundering", "roe2015cannabis"]
    ris = rispy.loads(client.get("/cases/second-case/evidence/shootings/cite.ris").get_data(as_text=True))
    assert [record["title"] for record in ris] == ["Cannabis Coffeeshops and the Law"]
    itself = client.get("/cases/sample-case/case.json").get_json()
    assert itself[0]["URL"] == "https://kb.example.org/cases/sample-case"
    assert itself[0]["title"] == "Sample case of police and harm reduction"


def test_theme_page_lists_cases_and_presents_the_report(client):
    page = soup(client.get("/themes/police-harm-reduction"))
    assert [a.get_text() for a in page.select(".case-title")] == ["Sample case of police and harm reduction"]
    assert "Police support for harm reduction policies" in page.select_one(".report").get_text()
    assert soup(client.get("/countries/us")).select_one(".case-title").get_text() == "Ceasefire in Boston"
    assert client.get("/themes/nope").status_code == 404
    assert client.get("/countries/ZZ").status_code == 404
    assert soup(client.get("/concepts/harm-indicators")).h1.get_text() == "Harm indicators"


def test_evidence_map_rows_cells_and_links(client):
    page = soup(client.get("/evidence-map"))
    rows = page.select("table.evidence-map tbody tr")
    assert [row.th.get_text(strip=True) for row in rows][:2] == ["Police support for harm reduction", "Targeted deterrence and organised crime"]
    headers = [th.get_text(strip=True) for th in page.select("table.evidence-map thead th")][1:]
    deterrence = rows[1].select("td")
    cell = deterrence[headers.index("Violence")]
    assert cell.a.get_text() == "1" and "theme=targeted-deterrence" in cell.a["href"] and "outcome=violence" in cell.a["href"]
    assert "SMS 4.0" in cell.get_text()
    assert cell.a["href"].startswith("/evidence?")           # a cell opens the evidence list, with as many items
    followed = soup(client.get(cell.a["href"]))
    assert len(followed.select(".evidence-item")) == 1
    assert followed.select_one(".evidence-item .meta a").get_text(strip=True) == "Ceasefire in Boston"


def test_compare_two_cases(client):
    page = soup(client.get("/compare?id=sample-case&id=second-case"))
    assert [a.get_text() for a in page.select("table.compare thead a")] == ["Sample case of police and harm reduction", "Ceasefire in Boston"]
    periods = page.find("th", string="Period").find_next_siblings("td")
    assert [td.get_text() for td in periods] == ["2003-2008", "1996-2000"]
    assert client.get("/compare?id=sample-case").status_code == 400
    assert client.get("/compare?id=sample-case&id=nope").status_code == 404


def test_pictures_are_labelled_svg_with_links(client):
    page = soup(client.get("/charts"))
    timeline = page.select_one("svg#timeline")
    assert timeline["role"] == "figure" and timeline.title.get_text() == "Cases over time"
    assert "2 case studies" in timeline.desc.get_text()
    assert {a["href"] for a in timeline.select("a")} == {"/cases/sample-case", "/cases/second-case"}
    countries = page.select_one("svg#by-country")
    assert countries.desc.get_text() == "Canada: 1; United States: 1"


def test_atom_feed(client):
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.find("a:title", ns).text for e in feed.findall("a:entry", ns)]
    assert sorted(titles) == ["Ceasefire in Boston", "Sample case of police and harm reduction"]
    ids = [e.find("a:id", ns).text for e in feed.findall("a:entry", ns)]
    assert "https://kb.example.org/cases/sample-case" in ids


@pytest.mark.parametrize("url", ["/cases/sample-case", "/search", "/", "/evidence-map", "/evidence-map?colour=verdict&segment=design", "/charts", "/basket", "/themes", "/ledger", "/verdicts", "/themes/targeted-deterrence/findings"])
def test_images_and_controls_have_labels(client, url):
    page = soup(client.get(url))
    for control in page.select("input:not([type=hidden]), select"):
        assert control.get("id") and page.select_one(f"label[for={control['id']}]"), control
    for svg in page.select("svg"):   # a picture with links is a figure: an image's children are not reachable
        assert svg.get("role") in ("img", "figure") and svg.title and svg.get("aria-labelledby") == svg.title.get("id")
    assert page.select_one("a.skip")["href"] == "#main"


def test_running_app_picks_up_a_new_build(client, built_root):
    from kb.storage.build import build
    assert "Ceasefire in Boston" in client.get("/search?q=ceasefire").get_data(as_text=True)
    path = built_root / "case_studies" / "deterrence" / "second-case.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Ceasefire in Boston", "Operation Ceasefire revisited"), encoding="utf-8")
    build(built_root)
    assert "Operation Ceasefire revisited" in client.get("/search?q=ceasefire").get_data(as_text=True)
    assert BeautifulSoup(client.get("/cases/second-case").data, "html.parser").h1.get_text(strip=True) == "Operation Ceasefire revisited"


def test_rendered_pages_are_shared_between_workers_and_renewed_by_a_build(render_in_build, app, client, built_root,
                                                                          monkeypatch, tmp_path):
    """A page rendered by one worker is read by the others; `kb render` fills in missing pages; a
    build renders the pages of what it changed and carries the others over."""
    from click.testing import CliRunner
    from sqlalchemy import select

    from kb import storage
    from kb.cli import main
    from kb.storage import pages
    from kb.storage.build import build
    from webapp import create_app
    body = lambda html: BeautifulSoup(html, "html.parser").select_one(".case-body").get_text()
    with storage.make_engine(f"sqlite:///{built_root / '.kb' / 'kb.sqlite3'}").begin() as conn:
        conn.execute(storage.rendered.delete())          # as after a build by an older kb: no page rendered
    first = body(client.get("/cases/sample-case").data)
    other = create_app({"ROOT": str(built_root), "TESTING": True, "SECRET_KEY": "x", "BASE_URL": "https://kb.example.org"})
    monkeypatch.setattr(pages, "render_case", lambda *a, **k: (_ for _ in ()).throw(AssertionError("rendered twice")))
    assert body(other.test_client().get("/cases/sample-case").data) == first
    monkeypatch.undo()
    monkeypatch.setenv("KB_RENDER_PAGES", "build")    # undone with the rest
    result = CliRunner().invoke(main, ["--root", str(built_root), "render", "--style", "apa", "--procs", "1"])
    assert result.output.startswith("rendered 1 case page(s) in apa")         # sample-case was already there
    engine = app.extensions["kb"]["kb"].engine
    rows = lambda: sorted(engine.connect().execute(select(storage.rendered.c.case_id, storage.rendered.c.style,
                                                          storage.rendered.c.version)).all())
    assert [(case, style) for case, style, _ in rows()] == [("sample-case", "apa"), ("second-case", "apa")]
    stored = {case: data for case, data in engine.connect().execute(
        select(storage.rendered.c.case_id, storage.rendered.c.data))}
    path = built_root / "case_studies" / "police" / "sample-case.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Police worked", "Officers worked"), encoding="utf-8")
    build(built_root)
    current = {case.id: pages.version(case) for case in app.extensions["kb"]["kb"].full_cases()}
    assert rows() == [("sample-case", style, current["sample-case"]) for style in ("apa", "chicago-author-date", "harvard")
                      ] + [("second-case", "apa", current["second-case"])]   # the edited case in every style; the other kept
    after = {case: data for case, data, style in engine.connect().execute(
        select(storage.rendered.c.case_id, storage.rendered.c.data, storage.rendered.c.style)) if style == "apa"}
    assert after["second-case"] == stored["second-case"] and after["sample-case"] != stored["sample-case"]
    assert "Officers worked" in client.get("/cases/sample-case").get_data(as_text=True)
    assert "https://kb.example.org/cases/sample-case" in client.get("/cases/sample-case").get_data(as_text=True)


@pytest.mark.parametrize("firsts,keys,groups", [
    (["a", "b"], ["a", "b", "c", "b"], [["a", "b", "c"], ["b"]]),      # a later group's first work inside a group
    (["a", "b"], ["a", "b", "b", "a"], [["a", "b"], ["b", "a"]]),
    (["a", "b", "b"], ["a", "b", "x", "b"], [["a"], ["b", "x"], ["b"]]),
    (["a", "z"], ["a", "b"], [["a"], ["z"]]),                          # do not fit: each group's first work
    ([], [], []),
])
def test_citation_groups_found_again_from_their_first_works(firsts, keys, groups):
    from webapp.citing import _groups
    assert _groups(firsts, keys) == groups


def test_each_citation_has_an_id_and_each_reference_its_places(client):
    page = soup(client.get("/cases/sample-case"))
    assert [span["id"] for span in page.select(".case-body span.citation")] == ["cite-T1", "cite-T2"]
    assert page.select_one("tr#evidence-overdose-deaths a.cite")["id"] == "cite-E1"
    cited_in = {li["id"]: [(a.get_text(), a["href"]) for a in li.select(".cited-in a")] for li in page.select("ol.references li")}
    assert cited_in == {"ref-doe2020policing": [("Context", "#cite-T1"), ("Outcomes", "#cite-T2"), ("E1", "#cite-E1")],
                        "ref-roe2015cannabis": [("Outcomes", "#cite-T2")]}


def test_the_case_page_says_when_it_was_checked_against_its_sources(client):
    page = BeautifulSoup(client.get("/cases/second-case").data, "html.parser")
    label = next(dt for dt in page.select("dt") if dt.get_text() == "Checked against its sources")
    assert label.find_next_sibling("dd").get_text(strip=True) == "not recorded"


def test_a_checked_date_is_shown(kb_root, app_factory):
    from conftest import case_text

    from kb.storage.build import build
    root = kb_root({"checked-case.md": case_text("checked-case", checked="2026-11-30")})
    build(root)
    page = BeautifulSoup(app_factory({"ROOT": str(root)}).test_client().get("/cases/checked-case").data, "html.parser")
    assert page.select_one("dd time[datetime='2026-11-30']").get_text() == "2026-11-30"
