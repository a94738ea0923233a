"""Home and search pages, read as a person would: parsed HTML, not string matching on markup."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup


def soup(response):
    assert response.status_code == 200, response.data[:300]
    return BeautifulSoup(response.data, "html.parser")


def test_home_lists_themes_with_counts_concepts_and_recent(client):
    page = soup(client.get("/"))
    cards = {card.h3.get_text(strip=True): card.select_one(".count").get_text(strip=True) for card in page.select(".cards .card")}
    assert len(cards) == 6
    assert cards["Police support for harm reduction"] == "1 case"       # the draft is not counted
    assert cards["Targeted deterrence and organised crime"] == "1 case"
    assert cards["Tolerated cannabis markets"] == "0 cases"
    assert [dt.a.get_text() for dt in page.select(".concepts dt")] == [
        "Harm indicators", "Intelligence-led", "Targeted tolerance", "Harm-based prioritisation"]
    recent = [a.get_text() for a in page.select(".case-list .case-title")]
    assert set(recent) == {"Sample case of police and harm reduction", "Ceasefire in Boston"}
    assert page.select_one("form[role=search] input[name=q]") is not None


def test_search_results_facets_and_counts(client):
    page = soup(client.get("/search?q=police"))
    titles = [h.get_text(strip=True) for h in page.select(".hit h2")]
    assert titles[0] == "Sample case of police and harm reduction"     # in the title and the body
    assert set(titles) == {"Sample case of police and harm reduction", "Ceasefire in Boston"}
    assert page.select_one(".total").get_text(strip=True) == "2 cases"
    assert page.select_one(".snippet mark").get_text().lower() == "police"
    all_page = soup(client.get("/search"))
    facets = {s.h2.get_text(): {a.get_text(): a.find_next_sibling("span").get_text() for a in s.select("li a")}
              for s in all_page.select(".facet")}
    assert facets["Theme"] == {"Police support for harm reduction": "1", "Targeted deterrence and organised crime": "1"}
    assert facets["Country"] == {"Canada (CA)": "1", "United States (US)": "1"}
    assert facets["Outcome"] == {"Public health": "1", "Arrests": "1", "Violence": "1"}
    assert facets["Decade"] == {"2000s": "2", "1990s": "1"}


def test_facet_link_adds_filter_and_chip_removes_it(client):
    page = soup(client.get("/search"))
    link = next(a for a in page.select(".facet a") if a.get_text() == "United States (US)")
    filtered = soup(client.get(link["href"]))
    assert [h.get_text(strip=True) for h in filtered.select(".hit h2")] == ["Ceasefire in Boston"]
    chip = filtered.select_one(".chips a.chip")
    assert chip.get_text(" ", strip=True).startswith("country: United States (US)")
    assert chip["aria-label"] == "Remove filter country: United States (US)"
    back = soup(client.get(chip["href"]))
    assert back.select_one(".total").get_text(strip=True) == "2 cases"


def test_state_is_a_shareable_url(client):
    page = soup(client.get("/search?q=&theme=targeted-deterrence&sort=period&limit=1"))
    assert [h.get_text(strip=True) for h in page.select(".hit h2")] == ["Ceasefire in Boston"]
    assert page.select_one("#sort option[selected]")["value"] == "period"


def test_did_you_mean(client):
    page = soup(client.get("/search?q=polise"))
    suggestion = page.select_one(".suggestion a")
    assert suggestion.get_text() == "police"
    assert "q=police" in suggestion["href"]


def test_pagination(client):
    first = soup(client.get("/search?limit=1"))
    nav = first.select_one("nav.pagination")
    assert nav.span.get_text() == "Page 1 of 2"
    second = soup(client.get(nav.select_one("a[rel=next]")["href"]))
    assert second.select_one("nav.pagination span").get_text() == "Page 2 of 2"
    assert len(second.select(".hit")) == 1


def test_drafts_are_hidden_from_readers(client):
    assert "Unfinished draft" not in client.get("/search?q=unfinished").get_data(as_text=True)
    assert client.get("/search?q=unfinished&drafts=1").get_data(as_text=True).count("Unfinished draft") == 0
    assert client.get("/cases/draft-case").status_code == 404


@pytest.mark.parametrize("query,message", [
    ("theme=bogus", "unknown theme 'bogus'; use one of: police-harm-reduction,"),
    ("page=abc", "page must be a whole number from 1 to 500, not 'abc'"),
    ("page=0", "page must be a whole number from 1 to 500, not '0'"),
    ("sort=random", "sort must be one of: relevance, period, updated"),
    ("country=Canada", "country 'Canada' is not an ISO 3166-1 alpha-2 code such as 'GB' or 'NO'"),
    ("decade=nineties", "decade 'nineties' must look like '1990s'"),
    ("outcome=happiness", "unknown outcome 'happiness'; use one of: arrests,"),
])
def test_bad_parameters_give_400_with_message(client, query, message):
    response = client.get(f"/search?{query}")
    assert response.status_code == 400
    page = BeautifulSoup(response.data, "html.parser")
    assert page.select_one(".error-message").get_text().startswith(message)


@pytest.mark.parametrize("query", ['"unclosed', "AND", "((", "title:", "*", "police^^", "[@x]", "<script>alert(1)</script>"])
def test_odd_queries_never_fail(client, query):
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_a_simplified_query_says_so(client):
    page = BeautifulSoup(client.get("/search?q=*e*+police").data, "html.parser")
    assert "Your query was simplified" in page.select_one("p.note").get_text()
    page = BeautifulSoup(client.get("/search?q=police").data, "html.parser")
    assert page.select_one("p.note") is None


def test_any_search_is_a_feed_newest_change_first(client):
    import xml.etree.ElementTree as ET
    atom = "{http://www.w3.org/2005/Atom}"
    response = client.get("/search.atom?q=police&country=US")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert "“police”" in feed.find(f"{atom}title").text and "United States" in feed.find(f"{atom}title").text
    self_link = next(link.get("href") for link in feed.findall(f"{atom}link") if link.get("rel") == "self")
    assert self_link.endswith("/search.atom?q=police&country=US")
    found = client.get("/api/search?q=police&country=US").get_json()
    ids = [entry.find(f"{atom}id").text.rsplit("/", 1)[1] for entry in feed.findall(f"{atom}entry")]
    assert sorted(ids) == sorted(hit["id"] for hit in found["results"]) and ids
    everything = ET.fromstring(client.get("/search.atom").data)
    updated = [entry.find(f"{atom}updated").text for entry in everything.findall(f"{atom}entry")]
    assert updated == sorted(updated, reverse=True)
    page = client.get("/search?q=police").get_data(as_text=True)
    assert 'type="application/atom+xml" title="This search, newest change first" href="/search.atom?q=police"' in page
    assert client.get("/search.atom?sort=nonsense").status_code == 400


def test_pages_stop_where_requests_may_go(client, monkeypatch):
    """"Next" never leads past the last page a request may ask for (it answered 400: the static
    edition's crawl found it at 10,000 cases), and the page says the rest needs a narrower search."""
    from webapp import search as search_view
    monkeypatch.setattr(search_view, "MAX_PAGE", 1)
    response = client.get("/search?limit=1")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Page 1 of 1 (the first 1 pages" in text and 'rel="next"' not in text
    assert client.get("/search?limit=1&page=2").status_code == 400
