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
