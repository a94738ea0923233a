"""The citation basket: collect across pages, export everything, never trust the form blindly."""
from __future__ import annotations

import bibtexparser
import pytest
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
    assert keys == ["doe2020policing", "roe2015cannabis"]
    text = client.get("/basket/export.txt?style=harvard").get_data(as_text=True).splitlines()
    assert text[0].startswith("Doe, J. and van der Meer, P. (2020)")


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
