"""The query-help page (/search/help): the query language with examples that run, every field a
query may name (from kb.facets and the index), and links to it from the search boxes."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from kb.facets import FACETS

# Examples that need words the test collection does not have (British spellings, Latin America):
# their links must work, but may find nothing here.
MAY_FIND_NOTHING = {"British and American spellings", "Regions"}


def soup(response):
    assert response.status_code == 200, response.data[:300]
    return BeautifulSoup(response.data, "html.parser")


def total(client, href: str) -> int:
    page = soup(client.get(href))
    return int(page.select_one(".results .total").get_text().split()[0])


def test_the_page_lists_every_field_a_query_may_name(client):
    page = soup(client.get("/search/help"))
    named = {code.get_text().rstrip(":") for code in page.select(".fields dt code")}
    for facet in FACETS:
        if facet.indexed:
            assert {facet.name, facet.param, *facet.aliases} <= named, facet.name
    assert {"title", "summary", "sources", "source", "tags", "tag", "years", "year", "indicators"} <= named
    assert "review" not in named                    # not in the index: a filter only


def test_every_example_runs_and_finds_cases(client):
    page = soup(client.get("/search/help"))
    examples = page.select(".examples dt")
    assert len(examples) >= 9
    for dt in examples:
        heading, href = dt.get_text().split(":")[0], dt.a["href"]
        assert urlsplit(href).path == "/search"
        found = total(client, href)
        assert found > 0 or heading in MAY_FIND_NOTHING, (heading, href)
    kinds = {dt.get_text().split(":")[0] for dt in examples}
    assert {"Words", "Phrases", "Either word", "Leaving out", "Grouping", "Prefixes", "Accents", "Regions",
            "British and American spellings"} <= kinds


def test_field_filter_and_sort_examples_find_cases(client):
    page = soup(client.get("/search/help"))
    links = page.select(".fields dd a, .filter-examples a, #sorting-h ~ p a")
    assert len(links) >= len([f for f in FACETS if f.indexed]) - 1
    for link in links:
        assert total(client, link["href"]) > 0, link["href"]
    filters = {key for link in page.select(".filter-examples a") for key in parse_qs(urlsplit(link["href"]).query)}
    assert {"theme", "country", "region", "outcome"} <= filters


def test_the_page_is_read_by_its_headings(client):
    page = soup(client.get("/search/help"))
    assert page.select_one("main h1").get_text() == "How to search"
    assert [h.get_text() for h in page.select("main h2")][:2] == ["The query language",
                                                                  "Searching one field: field:value"]
    assert all(section.get("aria-labelledby") for section in page.select("main section"))


@pytest.mark.parametrize("url", ["/", "/search?q=police", "/cases/sample-case", "/themes"])
def test_every_search_box_links_to_the_help(client, url):
    page = soup(client.get(url))
    assert page.select_one("header form[role=search] a.search-help")["href"] == "/search/help"


def test_the_home_search_box_and_few_results_link_to_the_help(client):
    assert soup(client.get("/")).select_one(".big-search a.search-help")["href"] == "/search/help"
    none = soup(client.get("/search?q=nosuchword"))
    assert none.select_one("p.search-help a")["href"] == "/search/help"
    assert soup(client.get("/search")).select_one("p.search-help") is None   # no query: nothing to help with


def test_the_help_page_fits_a_phone_and_passes_axe(browser, server):
    from browser_helpers import assert_no_horizontal_scroll, axe_violations, describe_violations
    for width in (390, 1280):
        context = browser.new_context(base_url=server, viewport={"width": width, "height": 800}, bypass_csp=True)
        page = context.new_page()
        try:
            assert_no_horizontal_scroll(page, "/search/help")
            violations = axe_violations(page)
            assert violations == [], describe_violations(violations)
        finally:
            context.close()
