"""One-click capture into reference managers: Highwire meta tags read as Zotero's Embedded Metadata
translator reads them, COinS read as Zotero's OpenURL parser reads them, the unAPI server and its
ids on every page listing several items, and JSON-LD that no title can break out of."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import rispy
from bs4 import BeautifulSoup
from conftest import case_text
from lxml import etree

from kb.citations.embedded import coins, highwire, json_ld, source_json_ld
from kb.citations.exports import KB_NAME

ROOT = Path(__file__).resolve().parents[1]

# Zotero's Embedded Metadata translator (zotero/translators, "Embedded Metadata.js"): each tag's
# field, in the order it reads them (a later tag of the same field wins), and the tags that set the type.
HIGHWIRE_FIELDS = [
    ("citation_title", "title"), ("citation_publication_date", "date"), ("citation_cover_date", "date"),
    ("citation_date", "date"), ("citation_journal_title", "publicationTitle"),
    ("citation_inbook_title", "publicationTitle"),
    ("citation_book_title", "bookTitle"), ("citation_volume", "volume"), ("citation_issue", "issue"),
    ("citation_series_title", "series"), ("citation_conference_title", "conferenceName"),
    ("citation_dissertation_institution", "university"), ("citation_technical_report_institution", "institution"),
    ("citation_technical_report_number", "number"), ("citation_publisher", "publisher"), ("citation_isbn", "ISBN"),
    ("citation_abstract", "abstractNote"), ("citation_doi", "DOI"), ("citation_public_url", "url"),
    ("citation_language", "language"),
]
HIGHWIRE_TYPES = {"citation_journal_title": "journalArticle", "citation_technical_report_institution": "report",
                  "citation_conference_title": "conferencePaper", "citation_book_title": "bookSection",
                  "citation_inbook_title": "bookSection", "citation_dissertation_institution": "thesis"}


def soup(response, status=200) -> BeautifulSoup:
    assert response.status_code == status, response.data[:300]
    return BeautifulSoup(response.data, "html.parser")


def zotero_creator(name: str, role: str) -> dict:
    """ZU.cleanAuthor: 'Family, Given' split at the comma, otherwise the last word is the family name."""
    if "," in name:
        last, _, first = name.partition(",")
    else:
        first, _, last = name.rpartition(" ")
    return {"lastName": last.strip(), "firstName": first.strip(), "creatorType": role}


def zotero_item(page: BeautifulSoup) -> dict:
    """The item Zotero's Embedded Metadata translator makes of a page's Highwire tags."""
    metas = [(meta["name"], meta["content"]) for meta in page.select("head meta[name][content]")]

    def first(tag: str) -> str | None:      # Zotero matches names ending in the tag: meta[name$="..."]
        return next((content for name, content in metas if name.endswith(tag)), None)
    item: dict = {}
    hw_type = guess = None
    for name, _ in metas:
        short = name[name.rfind("citation_"):]
        if short in HIGHWIRE_TYPES:
            hw_type = HIGHWIRE_TYPES[short]
        elif short in ("citation_title", "citation_series_title"):
            guess = guess or "journalArticle"
        elif short == "citation_isbn":
            guess = "book"
    item["itemType"] = hw_type or guess
    for tag, field in HIGHWIRE_FIELDS:
        if first(tag):
            item[field] = " ".join(first(tag).split())
    item["creators"] = [zotero_creator(content, role) for role in ("author", "editor")
                        for name, content in metas if name == f"citation_{role}"]
    start, end = first("citation_firstpage"), first("citation_lastpage")
    if start:
        item["pages"] = start + (f"-{end}" if end else "")
    item["url"] = item.get("url") or first("citation_abstract_html_url") or first("citation_fulltext_html_url")
    return item


def zotero_context_object(title: str) -> dict[str, list[str]]:
    """A COinS title split as Zotero's parseContextObject splits it (at `&`, then at `=`): every
    part must be one key and one value, so `&` and `=` inside values must be encoded."""
    parts = [part.split("=") for part in title.split("&")]
    assert all(len(part) == 2 for part in parts), title
    return parse_qs(title, strict_parsing=True)


@pytest.fixture
def shipped(app_factory, shipped_build):
    """A client of the shipped collection (its bibliography, its case studies)."""
    return app_factory({"ROOT": str(ROOT), "DATA_DIR": str(shipped_build), "BASE_URL": "https://kb.example.org",
                        "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}"}).test_client()


@pytest.fixture
def own_cases(kb_root, monkeypatch, app_factory):
    """Factory: own_cases({file: text}) -> a client of a knowledge base of those cases, built."""
    from kb.storage.build import build
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)

    def make(cases: dict[str, str]):
        root = kb_root(cases)
        build(root)
        return app_factory({"ROOT": str(root), "BASE_URL": "https://kb.example.org", "TESTING": True,
                            "WTF_CSRF_ENABLED": False}).test_client()
    return make


# --- Highwire Press meta tags -----------------------------------------------------------------

def test_a_journal_article_of_the_shipped_bibliography_saves_as_one(shipped):
    item = zotero_item(soup(shipped.get("/sources/marshall2011reduction")))
    assert item == {
        "itemType": "journalArticle",
        "title": "Reduction in Overdose Mortality after the Opening of North America's First Medically Supervised "
                 "Safer Injecting Facility: A Retrospective Population-Based Study",
        "creators": [zotero_creator(name, "author") for name in
                     ("Marshall, Brandon D. L.", "Milloy, M-J", "Wood, Evan", "Montaner, Julio S. G.", "Kerr, Thomas")],
        "date": "2011", "publicationTitle": "The Lancet", "volume": "377", "issue": "9775", "pages": "1429-1437",
        "DOI": "10.1016/S0140-6736(10)62353-7", "url": None,
    }
    assert item["creators"][0] == {"lastName": "Marshall", "firstName": "Brandon D. L.", "creatorType": "author"}


def test_a_report_and_a_chapter_save_as_their_types(shipped):
    report = zotero_item(soup(shipped.get("/sources/jacobson1999policing")))
    assert report == {"itemType": "report", "title": "Policing Drug Hot-Spots",
                      "creators": [zotero_creator("Jacobson, Jessica", "author")], "date": "1999",
                      "institution": "Home Office, Policing and Reducing Crime Unit", "number": "109",
                      "ISBN": "1-84082-259-7", "url": None}
    chapter = zotero_item(soup(shipped.get("/sources/killias2000impact")))
    assert chapter == {
        "itemType": "bookSection", "title": "The Impact of Heroin Prescription on Heroin Markets in Switzerland",
        "creators": [zotero_creator("Killias, Martin", "author"), zotero_creator("Aebi, Marcelo F.", "author"),
                     zotero_creator("Natarajan, Mangai", "editor"), zotero_creator("Hough, Mike", "editor")],
        "date": "2000", "bookTitle": "Illegal Drug Markets: From Research to Prevention Policy",
        "series": "Crime Prevention Studies", "volume": "11", "publisher": "Criminal Justice Press", "pages": "83-99",
        "url": None,
    }


def test_a_thesis_names_its_university_and_its_address(shipped):
    thesis = zotero_item(soup(shipped.get("/sources/king2010confiscation")))
    assert (thesis["itemType"], thesis["university"]) == ("thesis", "University of Limerick")
    assert thesis["url"].startswith("https://researchrepository.ul.ie/articles/thesis/")


def test_a_case_page_describes_the_case_study_itself(own_cases):
    client = own_cases({"a.md": case_text(authors='["Doe, Jane", "Harm Reduction International"]'),
                        "b.md": case_text("no-authors", title='"Without authors"')})
    page = soup(client.get("/cases/sample-case"))
    tags = [(meta["name"], meta["content"]) for meta in page.select("head meta[name^=citation_]")]
    assert tags == [
        ("citation_title", "Sample case of police and harm reduction"),
        ("citation_author", "Doe, Jane"), ("citation_author", "Harm Reduction International"),
        ("citation_publication_date", "2024/05/01"), ("citation_date", "2024/05/01"),
        ("citation_publisher", KB_NAME),
        ("citation_abstract", "Police referred people who inject drugs to a supervised injection site."),
        ("citation_public_url", "https://kb.example.org/cases/sample-case"),
        ("citation_abstract_html_url", "https://kb.example.org/cases/sample-case"),
        ("citation_language", "en"),
    ]
    item = zotero_item(page)
    assert item["url"] == "https://kb.example.org/cases/sample-case" and item["date"] == "2024/05/01"
    none = soup(client.get("/cases/no-authors"))
    assert none.select("meta[name=citation_author]") == []
    assert none.select_one("meta[name=citation_title]")["content"] == "Without authors"


# --- COinS ------------------------------------------------------------------------------------

def test_each_reference_of_a_case_page_carries_its_context_object(client):
    page = soup(client.get("/cases/sample-case"))
    references = page.select("ol.references > li")
    assert len(references) == 2 and all(len(li.select("span.Z3988")) == 1 for li in references)
    found = {li["id"]: zotero_context_object(li.select_one("span.Z3988")["title"]) for li in references}
    assert found["ref-doe2020policing"] == {
        "ctx_ver": ["Z39.88-2004"], "rft_val_fmt": ["info:ofi/fmt:kev:mtx:journal"],
        "rft_id": ["info:doi/10.1000/jdp.2020.1"],
        "rft.genre": ["article"], "rft.atitle": ["Policing Open Drug Markets in Zürich"],
        "rft.jtitle": ["Journal of Drug Policy"], "rft.volume": ["12"], "rft.aulast": ["Doe"], "rft.aufirst": ["Jane"],
        "rft.au": ["Doe, Jane", "van der Meer, Piet"], "rft.date": ["2020"], "rft.pages": ["1-20"], "rft.spage": ["1"],
        "rft.epage": ["20"]}
    assert found["ref-roe2015cannabis"] == {
        "ctx_ver": ["Z39.88-2004"], "rft_val_fmt": ["info:ofi/fmt:kev:mtx:book"], "rft.genre": ["book"],
        "rft.btitle": ["Cannabis Coffeeshops and the Law"], "rft.pub": ["Example Press"], "rft.aulast": ["Roe"],
        "rft.aufirst": ["Richard"], "rft.au": ["Roe, Richard"], "rft.date": ["2015"]}
    assert references[0].get_text().startswith("Doe, J., & van der Meer, P. (2020).")   # the marks add no text


def test_the_basket_source_and_theme_pages_carry_context_objects(client):
    client.post("/basket/add", data={"item": "second-case"})
    basket = soup(client.get("/basket"))
    spans = [zotero_context_object(span["title"]) for span in basket.select("ol.references li span.Z3988")]
    assert len(spans) == len(basket.select("ol.references li")) == 2
    report = next(s for s in spans if s["rft.genre"] == ["report"])     # a report reads as the book format's report
    assert report["rft_val_fmt"] == ["info:ofi/fmt:kev:mtx:book"]
    assert report["rft.btitle"] == ["Money Laundering and Drug Markets"]
    assert report["rft.aucorp"] == ["World Bank"] and "rft.au" not in report   # an organisation is not split into names
    source_page = soup(client.get("/sources/doe2020policing"))
    source = zotero_context_object(source_page.select_one(".reference span.Z3988")["title"])
    assert source["rft.atitle"] == ["Policing Open Drug Markets in Zürich"]
    theme = soup(client.get("/themes/police-harm-reduction")).select_one("section.report span.Z3988")
    assert zotero_context_object(theme["title"])["rft.btitle"] == [
        "Police Support for Harm Reduction Policies and Practices towards People Who Inject Drugs"]


@pytest.mark.parametrize("item,expected", [
    ({"id": "x", "type": "chapter", "title": "A Chapter", "container-title": "The Book", "page": "141-",
      "author": [{"family": "King", "given": "Colin"}]},
     {"rft_val_fmt": ["info:ofi/fmt:kev:mtx:book"], "rft.genre": ["bookitem"], "rft.atitle": ["A Chapter"],
      "rft.btitle": ["The Book"], "rft.pages": ["141"], "rft.spage": ["141"]}),
    ({"id": "x", "type": "thesis", "title": "T", "publisher": "University of Limerick", "genre": "PhD thesis"},
     {"rft_val_fmt": ["info:ofi/fmt:kev:mtx:dissertation"], "rft.title": ["T"], "rft.inst": ["University of Limerick"],
      "rft.degree": ["PhD thesis"]}),
    ({"id": "x", "type": "webpage", "title": "Q&A = answers?", "URL": "https://example.org/a?b=1&c=2",
      "author": [{"literal": "World Bank"}], "language": "fr"},
     {"rft_val_fmt": ["info:ofi/fmt:kev:mtx:dc"], "rft.type": ["webpage"], "rft.title": ["Q&A = answers?"],
      "rft.creator": ["World Bank"], "rft.identifier": ["https://example.org/a?b=1&c=2"],
      "rft_id": ["https://example.org/a?b=1&c=2"], "rft.language": ["fr"]}),
    ({"id": "x", "type": "legal_case", "title": "R v X"},
     {"rft_val_fmt": ["info:ofi/fmt:kev:mtx:dc"], "rft.type": ["case"]}),
])
def test_context_objects_use_the_format_zotero_reads_for_each_type(item, expected):
    found = zotero_context_object(coins(item))
    assert found["ctx_ver"] == ["Z39.88-2004"] and coins(item).startswith("ctx_ver=Z39.88-2004&")
    assert {key: found.get(key) for key in expected} == expected


# --- unAPI ------------------------------------------------------------------------------------

FORMATS = [("ris", "application/x-research-info-systems"), ("bibtex", "text/x-bibtex"),
           ("csl-json", "application/vnd.citationstyles.csl+json")]


def formats_of(response) -> tuple[etree._Element, list[tuple[str, str]]]:
    assert response.mimetype == "application/xml"
    root = etree.fromstring(response.data)
    assert root.tag == "formats"
    return root, [(f.get("name"), f.get("type")) for f in root.findall("format")]


def test_unapi_lists_formats_for_the_server_and_for_an_id(client):
    response = client.get("/unapi")
    assert response.status_code == 200
    root, found = formats_of(response)
    assert found == FORMATS and root.get("id") is None
    response = client.get("/unapi?id=source:doe2020policing")
    assert response.status_code == 300
    root, found = formats_of(response)
    assert found == FORMATS and root.get("id") == "source:doe2020policing"
    link = soup(client.get("/")).select_one('head link[rel="unapi-server"]')
    assert (link["href"], link["type"]) == ("/unapi", "application/xml")


def test_unapi_gives_records_in_each_format(client):
    response = client.get("/unapi?id=source:doe2020policing&format=ris")
    assert response.status_code == 200 and response.mimetype == "application/x-research-info-systems"
    [record] = rispy.loads(response.get_data(as_text=True))
    assert (record["type_of_reference"], record["title"], record["doi"]) == (
        "JOUR", "Policing Open Drug Markets in Zürich", "10.1000/jdp.2020.1")
    assert record["authors"] == ["Doe, Jane", "van der Meer, Piet"]
    bibtex = client.get("/unapi?id=source:doe2020policing&format=bibtex")
    assert bibtex.mimetype == "text/x-bibtex" and bibtex.get_data(as_text=True).startswith("@article{doe2020policing,")
    [case] = json.loads(client.get("/unapi?id=case:sample-case&format=csl-json").data)
    assert (case["id"], case["URL"]) == ("case:sample-case", "https://kb.example.org/cases/sample-case")
    [case_ris] = rispy.loads(client.get("/unapi?id=case:second-case&format=ris").get_data(as_text=True))
    assert case_ris["type_of_reference"] == "ELEC" and case_ris["title"] == "Ceasefire in Boston"


@pytest.mark.parametrize("query,status", [
    ("id=source:nope", 404), ("id=case:nope&format=ris", 404), ("id=case:draft-case", 404), ("id=doe2020policing", 404),
    ("id=source:", 404), ("id=source:doe2020policing&format=mods", 406), ("id=case:sample-case&format=", 406),
    ("format=ris", 400), ("id=", 400), ("id=source:" + "x" * 294, 400), ("id=source:" + "x" * 293, 404),
    ("id=source:doe%00", 400), ("id=case:sample-case%0A&format=ris", 400), ("id=source:%E2%80%AE", 404),
])
def test_unapi_answers_unknown_and_bad_input_with_its_statuses(client, query, status):
    response = client.get(f"/unapi?{query}")
    assert response.status_code == status, response.data[:300]
    if status == 400:
        assert "id" in response.get_data(as_text=True)


def test_every_page_listing_items_offers_them_all(client):
    """The unAPI ids Zotero finds on each page: the cases of the search and theme pages, the case
    and its references on a case page, the cases and references of the basket; each one resolves."""
    def ids(url: str) -> list[str]:
        return [abbr["title"] for abbr in soup(client.get(url)).select("abbr.unapi-id")]
    search = soup(client.get("/search?q=police"))
    hits = ["case:" + a["href"].rsplit("/", 1)[1] for a in search.select("li.hit h2 a")]
    assert [abbr["title"] for abbr in search.select("abbr.unapi-id")] == hits and len(hits) == 2
    assert ids("/themes/targeted-deterrence") == ["case:second-case"]
    assert ids("/themes/police-harm-reduction") == ["source:monaghan2013police", "case:sample-case"]
    assert ids("/cases/sample-case") == ["case:sample-case", "source:doe2020policing", "source:roe2015cannabis"]
    client.post("/basket/add", data={"item": "sample-case"})
    client.post("/basket/add", data={"item": "second-case/arrests"})
    basket = ids("/basket")
    assert basket[0] == "case:sample-case"
    assert sorted(basket[1:]) == ["source:bank2018laundering", "source:doe2020policing", "source:roe2015cannabis"]
    for item_id in set(basket + ids("/themes/police-harm-reduction")):
        assert client.get(f"/unapi?id={item_id}").status_code == 300, item_id


def test_the_marks_are_empty_and_hidden(client):
    page = soup(client.get("/cases/sample-case"))
    marks = page.select("abbr.unapi-id, span.Z3988")
    assert len(marks) == 5 and all(mark.get_text() == "" and mark["aria-hidden"] == "true" for mark in marks)


# --- JSON-LD ----------------------------------------------------------------------------------

def json_ld_of(page: BeautifulSoup) -> dict:
    [script] = page.select('script[type="application/ld+json"]')
    return json.loads(script.string)


def test_case_and_source_pages_describe_their_work_in_json_ld(client, shipped):
    case = json_ld_of(soup(client.get("/cases/sample-case")))
    assert case == {
        "@context": "https://schema.org", "@type": "ScholarlyArticle",
        "name": "Sample case of police and harm reduction",
        "headline": "Sample case of police and harm reduction", "dateModified": "2024-05-01",
        "publisher": {"@type": "Organization", "name": KB_NAME}, "url": "https://kb.example.org/cases/sample-case",
        "isPartOf": {"@type": "WebSite", "name": KB_NAME},
        "about": [{"@type": "Thing", "name": "Police support for harm reduction"}],
        "keywords": "Police support for harm reduction, Harm indicators",
        "abstract": "Police referred people who inject drugs to a supervised injection site.", "inLanguage": "en"}
    article = json_ld_of(soup(shipped.get("/sources/marshall2011reduction")))
    assert (article["@type"], article["datePublished"], article["pageStart"], article["pageEnd"]) == (
        "ScholarlyArticle", "2011", "1429", "1437")
    assert article["isPartOf"] == {"@type": "PublicationIssue", "issueNumber": "9775", "isPartOf": {
        "@type": "PublicationVolume", "volumeNumber": "377", "isPartOf": {"@type": "Periodical", "name": "The Lancet"}}}
    assert article["identifier"] == {"@type": "PropertyValue", "propertyID": "DOI",
                                     "value": "10.1016/S0140-6736(10)62353-7"}
    assert article["author"][1] == {"@type": "Person", "name": "M-J Milloy", "familyName": "Milloy", "givenName": "M-J"}
    chapter = json_ld_of(soup(shipped.get("/sources/killias2000impact")))
    assert (chapter["@type"], chapter["isPartOf"]["@type"], chapter["isPartOf"]["name"]) == (
        "Chapter", "Book", "Illegal Drug Markets: From Research to Prevention Policy")
    report = json_ld_of(soup(shipped.get("/sources/jacobson1999policing")))
    assert (report["@type"], report["reportNumber"], report["publisher"]["name"]) == (
        "Report", "109", "Home Office, Policing and Reducing Crime Unit")


HOSTILE = '</script><script>alert(1)</script> <!-- & "quotes" \u2028'


def test_a_hostile_title_cannot_break_out_of_the_script_or_the_tags(own_cases):
    client = own_cases({"a.md": case_text(title=json.dumps(HOSTILE))})
    html = client.get("/cases/sample-case").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    page = BeautifulSoup(html, "html.parser")
    assert [s.get("type") for s in page.select("script")] == ["application/ld+json", None]   # and the site's own app.js
    assert json_ld_of(page)["name"] == " ".join(HOSTILE.split())
    assert page.select_one("meta[name=citation_title]")["content"] == " ".join(HOSTILE.split())


def test_json_ld_escapes_what_would_end_a_script_element():
    text = json_ld(source_json_ld({"id": "x", "type": "book", "title": "</script><!--&"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["name"] == "</script><!--&"


def test_no_tag_is_made_up():
    """Empty values give no tag; a PDF is named only when the address is one; pages without an end."""
    tags = highwire({"id": "x", "type": "report", "title": "R", "URL": "https://example.org/r.PDF", "page": "141-"})
    assert tags == [("citation_title", "R"), ("citation_firstpage", "141"),
                    ("citation_pdf_url", "https://example.org/r.PDF")]
    unsafe = {"id": "x", "type": "book", "title": "B", "URL": "javascript:alert(1)"}
    assert highwire(unsafe) == [("citation_title", "B")]
    assert highwire({**unsafe, "language": "de"}) == [("citation_title", "B"), ("citation_language", "de")]
    assert ("citation_fulltext_html_url", "https://example.org/b") in highwire(
        {"id": "x", "type": "book", "title": "B", "URL": "https://example.org/b"})
