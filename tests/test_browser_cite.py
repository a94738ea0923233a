"""A report author's journey in real Chromium: cases, a claim and a source into the basket, "Copy
all" (rich and plain text on the clipboard), and the DOCX, BibTeX and RIS downloads read back by
pandoc, bibtexparser and rispy; a claim copied with its citation from a case page."""
from __future__ import annotations

import subprocess

import bibtexparser
import pytest
import rispy

from kb.citations.styles import pandoc_path


@pytest.fixture
def author(browser, server):
    context = browser.new_context(accept_downloads=True, base_url=server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    yield page
    context.close()


def clipboard(page) -> dict[str, str]:
    """What the clipboard holds, by type."""
    return page.evaluate("""async () => {
        const found = {};
        for (const item of await navigator.clipboard.read()) {
            for (const type of item.types) found[type] = await (await item.getType(type)).text();
        }
        return found;
    }""")


def download(page, link_name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    return info.value.path()


def test_basket_journey(author, tmp_path):
    page = author
    page.goto("/cases/sample-case")
    page.get_by_role("button", name="Add case to citation basket").click()
    page.goto("/cases/second-case")
    page.get_by_role("button", name="Add case to citation basket").click()
    page.get_by_role("button", name="Add to basket: evidence item E1 (shootings)").click()
    page.goto("/sources/bank2018laundering")
    page.get_by_role("button", name="Add source to citation basket").click()
    page.goto("/basket?style=apa")
    assert page.locator("ul.basket li").count() == 4          # two cases, one claim, one source

    page.get_by_role("button", name="Copy all (claims and references)").click()
    page.get_by_role("button", name="Copied: Copy all (claims and references)").wait_for()
    copied = clipboard(page)
    plain = copied["text/plain"]
    assert "Shootings fell after call-ins & meetings (Roe, 2015, Chapter 2)." in plain
    assert "Doe, J., & van der Meer, P. (2020). Policing open drug markets in Zürich." in plain
    assert not any(line[:1].isdigit() for line in plain.splitlines())       # no list numbers
    assert "<i>Journal of Drug Policy</i>" in copied["text/html"] and "<ol" not in copied["text/html"]

    docx = tmp_path / "briefing.docx"
    docx.write_bytes(download(page, "Word (DOCX)").read_bytes())
    text = subprocess.run([pandoc_path(), "-f", "docx", "-t", "plain", "--wrap=none", str(docx)], capture_output=True,
                          text=True, check=True).stdout
    assert "(Roe, 2015, Chapter 2)." in text and text.index("Claims") < text.index("References")

    bib = bibtexparser.parse_file(str(download(page, "BibTeX")))
    assert {e.key for e in bib.entries} == {"case:sample-case", "case:second-case", "doe2020policing",
                                            "roe2015cannabis", "bank2018laundering"}
    records = rispy.loads(download(page, "RIS").read_text(encoding="utf-8"))
    assert {r["id"] for r in records} == {e.key for e in bib.entries}


def test_copy_a_claim_with_its_citation(author):
    page = author
    page.goto("/cases/second-case?style=harvard")
    page.get_by_role("button", name="Copy claim with citation: evidence item E1").click()
    page.get_by_role("button", name="Copied: Copy claim with citation: evidence item E1").wait_for()
    copied = clipboard(page)
    assert copied["text/plain"] == "Shootings fell after call-ins & meetings (Roe, 2015, ch. 2)."
    assert "Shootings fell after call-ins &amp; meetings" in copied["text/html"]
    box = page.locator("section.cite-this")
    assert box.is_visible() and box.bounding_box()["y"] < page.locator("#evidence").bounding_box()["y"]
