"""Journeys through the web browser in real Chromium (Debian's /usr/bin/chromium, driven by
Playwright): search, facets, a case, a citation, an export, the basket, the evidence map, and
keyboard-only use."""
from __future__ import annotations

import bibtexparser

# The `browser`, `server` and `page` fixtures are in tests/conftest.py.


def test_search_facet_and_chip(page):
    page.goto("/")
    page.fill("#home-q", "police")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/search?q=police")
    assert page.locator(".total").inner_text() == "2 cases"
    page.get_by_role("link", name="United States (US)").click()
    assert page.locator(".hit h2").all_inner_texts() == ["Ceasefire in Boston"]
    page.get_by_role("link", name="Remove filter country: United States (US)").click()
    assert page.locator(".total").inner_text() == "2 cases"


def test_case_citation_and_bibtex_export(page):
    page.goto("/search?q=overdoses")
    page.get_by_role("link", name="Sample case of police and harm reduction").click()
    page.locator(".case-body a.cite").first.click()
    assert page.url.endswith("#ref-doe2020policing")
    target = page.locator("#ref-doe2020policing")
    assert target.is_visible() and target.inner_text().startswith("Doe, J., & van der Meer, P. (2020).")
    with page.expect_download() as download_info:
        page.locator(".cite-box a", has_text="BibTeX").first.click()
    path = download_info.value.path()
    keys = sorted(entry.key for entry in bibtexparser.parse_file(str(path)).entries)
    assert keys == ["doe2020policing", "roe2015cannabis"]


def test_basket(page):
    page.goto("/cases/second-case")
    page.get_by_role("button", name="Add to basket: evidence item E1 (shootings)").click()
    page.goto("/cases/sample-case")
    page.get_by_role("button", name="Add case to citation basket").click()
    page.get_by_role("link", name="Citation basket (2)").click()
    assert page.locator("ul.basket li").count() == 2
    with page.expect_download() as download_info:
        page.get_by_role("link", name="RIS").click()
    text = download_info.value.path().read_text(encoding="utf-8")
    assert "TI  - Cannabis Coffeeshops and the Law" in text and "TI  - Policing Open Drug Markets in Zürich" in text


def test_evidence_map(page):
    page.goto("/evidence-map")
    cell = page.get_by_role("link", name="1 evidence items on Violence in Targeted deterrence and organised crime, mean strength 4.0")
    cell.click()
    page.wait_for_url("**/evidence?**")
    assert page.locator(".evidence-item .meta a").first.inner_text() == "Ceasefire in Boston"
    assert page.locator(".evidence-item").count() == 1


def _tab_to(page, text: str, presses: int = 60) -> int:
    """Press Tab until the focused element's text is `text`; the number of presses, or fail."""
    page.wait_for_load_state("load")
    for count in range(1, presses + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == text:
            return count
    raise AssertionError(f"{text!r} not reached in {presses} Tab presses on {page.url}")


def test_keyboard_only_search_and_case(page):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(10):                                   # on to the big search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "home-q":
            break
    page.keyboard.type("ceasefire")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=ceasefire")
    presses = _tab_to(page, "Skip to results", 10)        # reach the first result by tabbing, skipping the header
    page.keyboard.press("Enter")
    presses += _tab_to(page, "Ceasefire in Boston", 10)
    assert presses <= 10
    page.keyboard.press("Enter")
    page.wait_for_url("**/cases/second-case")
    _tab_to(page, "Skip to content", 3)                   # past the header, whose menu may name "Evidence" too
    page.keyboard.press("Enter")
    _tab_to(page, "Evidence", 40)
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#evidence'")


def test_controls_and_images_have_accessible_names(page):
    for url in ("/", "/search?q=police", "/cases/sample-case", "/charts", "/evidence-map"):
        page.goto(url)
        unnamed = page.evaluate("""() => [...document.querySelectorAll('a, button, input:not([type=hidden]), select, svg[role]')]
            .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0; })
            .filter(e => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim() || e.querySelector('title')))
            .map(e => e.outerHTML.slice(0, 80))""")
        assert unnamed == [], url


CSP_PAGES = ["/", "/search?q=police", "/cases/sample-case", "/sources/doe2020policing", "/themes", "/evidence-map",
             "/charts", "/basket", "/signin", "/compare?id=sample-case&id=second-case", "/themes/police-harm-reduction"]


def test_no_page_breaks_the_content_security_policy(page):
    """Chromium enforces the policy: nothing on any page is blocked, and the page's script runs."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    for url in CSP_PAGES:
        page.goto(url)
        page.wait_for_load_state("load")
        assert violations == [], (url, violations)
    page.goto("/cases/sample-case")
    assert page.locator("button.copy").count() >= 1          # app.js ran: it is a file, allowed
    page.goto("/evidence-map")
    cell = page.locator("table.evidence-map td[class^=shade-]").first
    assert cell.evaluate("node => getComputedStyle(node).backgroundColor") != "rgba(0, 0, 0, 0)"
