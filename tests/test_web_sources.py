"""Source pages: formatted reference, DOI link, and every case and claim citing the source."""
from __future__ import annotations

from bs4 import BeautifulSoup


def test_source_page(client):
    response = client.get("/sources/doe2020policing?style=chicago-author-date")
    assert response.status_code == 200
    page = BeautifulSoup(response.data, "html.parser")
    assert page.select_one(".reference").get_text().startswith("Doe, Jane, and Piet van der Meer. 2020.")
    assert page.select_one(".links a")["href"] == "https://doi.org/10.1000/jdp.2020.1"
    citing = [li.get_text(" ", strip=True) for li in page.select("ul.citing li")]
    assert citing == ["Sample case of police and harm reduction — text, p. 3",
                      "Sample case of police and harm reduction — text",
                      "Sample case of police and harm reduction — evidence item overdose-deaths , p. 5"]
    assert page.select_one("ul.citing a")["href"] == "/cases/sample-case"


def test_uncited_source_and_unknown_key(client):
    page = BeautifulSoup(client.get("/sources/monaghan2013police").data, "html.parser")
    assert page.select_one("ul.citing li").get_text() == "No case study cites this source."
    assert client.get("/sources/nope").status_code == 404


UNSAFE = ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>x</script>",
          "vbscript:msgbox(1)", "//evil.example/", "\\\\evil.example\\x", "https://ok.example/a b"]


def test_an_unsafe_url_that_reached_the_database_is_never_a_link(app, client):
    """Validation refuses these; a database written by an older version must still not link them."""
    from sqlalchemy import update

    from kb import storage
    from webapp.kbstore import get_kb
    for value in UNSAFE:
        with app.app_context():
            with get_kb().engine.begin() as conn:
                row = conn.execute(storage.sources.select().where(storage.sources.c.key == "roe2015cannabis")).first()
                conn.execute(update(storage.sources).where(storage.sources.c.key == "roe2015cannabis")
                             .values(fields={**row.fields, "url": value}))
        for url in ("/sources/roe2015cannabis", "/cases/second-case", "/basket"):
            html = client.get(url).get_data(as_text=True)
            links = [a.get("href", "") for a in BeautifulSoup(html, "html.parser").select("a")]
            assert not any(value.strip() in href or "script:" in href.lower() for href in links), (value, url)
        exported = client.get("/cases/second-case/cite.json").get_json()
        assert all("URL" not in item for item in exported), value


def test_no_page_or_download_shows_the_verification_record(app, client):
    """`verification` is the maintainers' record of what was seen: the source page, its BibTeX, the
    API and every export leave it out, and keep the rest of the entry."""
    from sqlalchemy import update

    from kb import storage
    from webapp.kbstore import get_kb
    record = "Pages not seen during verification"
    with app.app_context():
        with get_kb().engine.begin() as conn:
            row = conn.execute(storage.sources.select().where(storage.sources.c.key == "roe2015cannabis")).first()
            raw = row.raw.replace("  year      = {2015}", f"  year      = {{2015}},\n  verification = {{{record}}}")
            assert raw != row.raw
            conn.execute(update(storage.sources).where(storage.sources.c.key == "roe2015cannabis")
                         .values(fields={**row.fields, "verification": record}, raw=raw))
    page = BeautifulSoup(client.get("/sources/roe2015cannabis").data, "html.parser")
    assert record not in page.get_text()
    assert page.select_one("details pre").get_text() == row.raw
    data = client.get("/api/sources/roe2015cannabis").get_json()
    assert "verification" not in data["fields"] and data["fields"]["publisher"] == "Example Press"
    assert data["bibtex"] == row.raw
    for fmt in ("bib", "ris", "json"):
        text = client.get(f"/cases/second-case/cite.{fmt}").get_data(as_text=True)
        assert "Cannabis Coffeeshops" in text and record not in text and "verification" not in text, fmt
