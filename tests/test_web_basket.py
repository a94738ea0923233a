"""The citation basket: collect across pages, export everything, never trust the form blindly."""
from __future__ import annotations

import subprocess

import bibtexparser
import pytest
import rispy
from bs4 import BeautifulSoup


def add(client, item, next_url="/basket"):
    return client.post("/basket/add", data={"item": item, "next": next_url})


def test_collect_and_export(client):
    assert add(client, "sample-case", "/cases/sample-case").headers["Location"] == "/cases/sample-case"
    add(client, "second-case/shootings")
    add(client, "second-case/shootings")          # twice: kept once
    page = BeautifulSoup(client.get("/basket").data, "html.parser")
    assert len(page.select("ul.basket li")) == 2
    # the whole case cites doe; the one evidence item of the second case cites roe (not bank)
    assert [li.get_text()[:4] for li in page.select("ol.references li")] == ["Doe,", "Roe,"]
    keys = sorted(e.key for e in bibtexparser.parse_string(client.get("/basket/export.bib").get_data(as_text=True)).entries)
    assert keys == ["case:sample-case", "case:second-case", "doe2020policing", "roe2015cannabis"]
    text = client.get("/basket/export.txt?style=harvard").get_data(as_text=True)
    assert "\nDoe, J. and van der Meer, P. (2020)" in text


def test_remove_and_clear(client):
    add(client, "sample-case")
    add(client, "second-case")
    client.post("/basket/remove", data={"item": "sample-case"})
    page = BeautifulSoup(client.get("/basket").data, "html.parser")
    assert [a.get_text() for a in page.select("ul.basket a")] == ["Ceasefire in Boston"]
    client.post("/basket/clear")
    assert "The basket is empty" in client.get("/basket").get_data(as_text=True)


@pytest.mark.parametrize("item", ["nope", "sample-case/nope", "draft-case", ""])
def test_unknown_items_are_refused(client, item):
    assert add(client, item).status_code == 404


def test_next_must_be_local(client):
    assert add(client, "sample-case", "https://evil.example/").headers["Location"] == "/basket"
    assert add(client, "sample-case", "//evil.example/").headers["Location"] == "/basket"


def test_forms_need_the_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/basket/add", data={"item": "sample-case"})
    assert response.status_code == 400
    assert "CSRF" in BeautifulSoup(response.data, "html.parser").select_one(".error-message").get_text()


# --- what the basket gives a report author ----------------------------------------------------------


def pandoc_binary() -> str:
    from kb.citations.styles import pandoc_path
    return pandoc_path()


def fill(client):
    add(client, "sample-case")
    add(client, "second-case/shootings")
    add(client, "source:bank2018laundering")


def test_the_basket_lists_claims_with_citations_then_references(client):
    fill(client)
    page = BeautifulSoup(client.get("/basket?style=apa").data, "html.parser")
    claims = [p.get_text() for p in page.select("#briefing p.claim-cited")]
    assert "Shootings fell after call-ins & meetings (Roe, 2015, Chapter 2)." in claims          # the picked item first
    assert any(claim.endswith("(Doe & van der Meer, 2020, p. 5).") for claim in claims)   # then the whole case's
    references = [p.get_text() for p in page.select("#briefing p.reference-entry")]
    assert [r[:4] for r in references] == ["Doe,", "Roe,", "Worl"]          # the source picked alone too
    copy = page.select_one("#briefing")
    assert copy["data-copy-label"] == "Copy all (claims and references)" and copy.find("ol") is None  # no numbers
    assert "<i>" in str(copy)                                                 # rich text keeps italics


def test_exports_hold_the_sources_and_the_case_studies(client):
    fill(client)
    records = rispy.loads(client.get("/basket/export.ris").get_data(as_text=True))
    assert {r.get("id") for r in records} >= {"doe2020policing", "bank2018laundering"}
    assert any(r["type_of_reference"] == "ELEC" and r["urls"][0].endswith("/cases/sample-case") for r in records)
    items = client.get("/basket/export.json").get_json()
    assert {"case:sample-case", "case:second-case", "bank2018laundering"} <= {item["id"] for item in items}


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_the_briefing_reads_back(client, tmp_path, fmt):
    """The DOCX and ODT, read back by pandoc: claims with their citations, then the references."""
    fill(client)
    response = client.get(f"/basket/export.{fmt}?style=chicago-author-date")
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith(f'briefing.{fmt}"')
    path = tmp_path / f"briefing.{fmt}"
    path.write_bytes(response.data)
    text = subprocess.run([pandoc_binary(), "-f", fmt, "-t", "plain", "--wrap=none", str(path)], capture_output=True,
                          text=True, check=True).stdout
    assert "(Doe and van der Meer 2020, 5)." in text
    assert text.index("Claims") < text.index("References")
    assert "Doe, Jane, and Piet van der Meer. 2020." in text
    assert "World Bank. 2018." not in text or "Money Laundering" in text
    assert "[@" not in text and "???" not in text


def test_a_pull_url_needs_no_session(client):
    url = "/basket/export.bib?items=sample-case,source:bank2018laundering"
    keys = sorted(e.key for e in bibtexparser.parse_string(client.get(url).get_data(as_text=True)).entries)
    assert keys == ["bank2018laundering", "case:sample-case", "doe2020policing", "roe2015cannabis"]
    assert client.get("/basket/export.bib?items=" + ",".join(f"x{n}" for n in range(300))).status_code == 400
    assert client.get("/basket/export.bib?items=" + "x" * 50_000).status_code == 400
    page = BeautifulSoup(client.get("/basket").data, "html.parser")   # the page shows the address of its basket
    add(client, "sample-case")
    page = BeautifulSoup(client.get("/basket").data, "html.parser")
    assert page.select_one("code.pull-url").get_text().endswith("/basket/export.bib?items=sample-case")


def test_pull_urls_of_a_theme_and_a_search(client):
    theme = bibtexparser.parse_string(client.get("/themes/police-harm-reduction/cite.bib").get_data(as_text=True))
    assert "doe2020policing" in [e.key for e in theme.entries]
    found = rispy.loads(client.get("/search.ris?q=boston").get_data(as_text=True))
    assert "roe2015cannabis" in [r["id"] for r in found]
    assert client.get("/search.json?q=nothing-matches-this").get_json() == []
    assert client.get("/themes/nope/cite.bib").status_code == 404
    assert client.get("/search.docx?q=boston").status_code == 404
    assert client.get("/search.bib?sort=nope").status_code == 400


def test_a_source_goes_in_and_out_of_the_basket(client):
    assert add(client, "source:roe2015cannabis").status_code == 302
    assert add(client, "source:nope").status_code == 404
    page = BeautifulSoup(client.get("/basket").data, "html.parser")
    assert [a.get_text() for a in page.select("ul.basket a")] == ["roe2015cannabis"]
    client.post("/basket/remove", data={"item": "source:roe2015cannabis"})
    assert "The basket is empty" in client.get("/basket").get_data(as_text=True)


def test_a_pandoc_draft_citing_sources_and_case_studies_resolves_every_reference(client, tmp_path):
    """A report author's Markdown, built with pandoc against the basket's BibTeX: every key is found."""
    fill(client)
    bib = tmp_path / "basket.bib"
    bib.write_bytes(client.get("/basket/export.bib").data)
    draft = tmp_path / "draft.md"
    draft.write_text("Deaths fell near the site [@doe2020policing, p. 5], as the case study shows "
                     "[@case:sample-case; see @case:second-case]. Money laundering [@bank2018laundering].\n\n"
                     "# References\n", encoding="utf-8")
    run = subprocess.run([pandoc_binary(), "--citeproc", f"--bibliography={bib}", "-t", "plain", "--wrap=none", str(draft)],
                         capture_output=True, text=True, check=True)
    assert "not found" not in run.stderr and "[WARNING]" not in run.stderr, run.stderr
    assert "(Doe and van der Meer 2020, 5)" in run.stdout
    assert "sample case of police and harm reduction" in run.stdout.lower() and "ceasefire in boston" in run.stdout.lower()
    assert "?" not in run.stdout.split("# References")[0].replace("?)", "")
