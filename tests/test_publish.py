"""The static edition (`kb publish`, webapp/publish.py), tested as a reader would use it: the shipped
collection published once, served by a plain static file server on loopback, and read in Chromium
(search with a filter, a case, a citation, a downloaded .bib); every internal link crawled; nothing
requested from another host. A small collection with a draft for what a publish must never show,
for the incremental and atomic writes, the zip and the refusals."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import bibtexparser
import lxml.html
import pytest
from browser_helpers import assert_no_horizontal_scroll, axe_script, axe_violations
from conftest import case_text

from kb.cli import main as cli
from kb.settings import Settings
from kb.storage.build import build
from webapp import publish as publishing
from webapp.publish import PublishError, publish

REPO = Path(__file__).resolve().parent.parent
BASE = "https://example.org/drug-law-kb"
# what loads something into the page (a link a reader follows is not a request)
LOADS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src",
         "embed": "src", "object": "data"}


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def static_server(folder: Path):
    """`python -m http.server` on loopback: a host that knows nothing but files."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import http.client
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("HEAD", "/")
            connection.getresponse()
            connection.close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def shipped_edition(shipped_build, tmp_path_factory):
    settings = Settings.load({"ROOT": str(REPO), "DATA_DIR": str(shipped_build),
                              "DATABASE_URL": f"sqlite:///{shipped_build / 'kb.sqlite3'}"}, environ={})
    folder = tmp_path_factory.mktemp("edition") / "site"
    report = publish(settings, folder, base_url=BASE)
    return settings, folder, report


@pytest.fixture(scope="module")
def edition_server(shipped_edition):
    process, url = static_server(shipped_edition[1])
    yield url
    process.terminate()
    process.wait(timeout=10)


def html_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if "pagefind" not in p.relative_to(folder).parts)


# --- the shipped collection's edition ----------------------------------------------------------------

def test_every_case_is_published_in_each_style_with_its_exports(shipped_edition):
    settings, folder, report = shipped_edition
    from kb.knowledgebase import KnowledgeBase
    kb = KnowledgeBase(settings)
    try:
        cases = kb.cases()
        themes = kb.term_counts("theme")
    finally:
        kb.close()
    assert len(cases) >= 37
    for case in cases:
        for name in ("index.html", "chicago-author-date.html", "harvard.html", "cite.bib", "cite.ris", "cite.json"):
            assert (folder / "cases" / case.id / name).is_file(), (case.id, name)
    for theme in themes:
        assert (folder / "themes" / theme / "index.html").is_file()
        feed = (folder / "themes" / theme / "feed.atom").read_text(encoding="utf-8")
        assert f"{BASE}/cases/" in feed and "edition.invalid" not in feed      # entries at the edition's address
    for name in ("index.html", "search/index.html", "evidence/index.html", "evidence-map/index.html",
                 "ledger/index.html", "regions/index.html", "feed.atom", "search.csv", "evidence.csv",
                 "exports/sources.bib", "exports/case-studies.ris", "pagefind/pagefind.js"):
        assert (folder / name).is_file(), name
    sources = bibtexparser.parse_string((folder / "exports" / "sources.bib").read_text(encoding="utf-8"))
    cited = {key for case_file in (folder / "cases").glob("*/cite.bib")
             for key in (e.key for e in bibtexparser.parse_string(case_file.read_text(encoding="utf-8")).entries)}
    assert {e.key for e in sources.entries} == cited      # every cited source, none uncited
    manifest = json.loads((folder / publishing.MANIFEST).read_text())
    assert manifest["base_url"] == BASE and manifest["generation"]
    assert report.pages == len(html_files(folder))


def test_every_internal_link_resolves_and_nothing_loads_from_another_host(shipped_edition):
    _, folder, _ = shipped_edition
    broken, foreign, server_urls = [], [], []
    pages = html_files(folder)
    for page in pages:
        doc = lxml.html.document_fromstring(page.read_bytes())
        for element in doc.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in ("href", "src", "action", "data"):
                url = element.get(attribute)
                if url is None or url.startswith(("#", "mailto:")):
                    continue
                parts = urlsplit(url)
                loads = LOADS.get(element.tag) == attribute or (
                    element.tag == "link" and set((element.get("rel") or "").split()) & {"stylesheet", "icon", "preload", "modulepreload", "manifest"})
                if parts.scheme or parts.netloc:
                    if loads or element.tag == "form":
                        foreign.append((page.name, element.tag, url))
                    if url.startswith(BASE) or "edition.invalid" in url or "127.0.0.1" in url:
                        server_urls.append((str(page.relative_to(folder)), url))   # should have been made relative
                    continue
                target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
                if not target.is_file():
                    broken.append((str(page.relative_to(folder)), url))
    assert len(pages) > 500
    assert not broken, broken[:10]
    assert not foreign, foreign[:10]
    assert not server_urls, server_urls[:10]
    css = (folder / "static" / "style.css").read_text(encoding="utf-8")
    assert "http:" not in css and "https:" not in css and "@import" not in css


def test_nothing_for_reviewers_or_posted_forms(shipped_edition):
    _, folder, _ = shipped_edition
    for page in html_files(folder):
        text = page.read_text(encoding="utf-8")
        assert "csrf_token" not in text and 'method="post"' not in text.lower(), page
        assert "/reviews" not in text and "Sign in" not in text, page
    assert not (folder / "reviews").exists() and not (folder / "signin").exists()


def _requests_of(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_reader_journey_search_filter_case_citation_and_bib(browser, edition_server, shipped_edition):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    seen = _requests_of(page)
    try:
        page.goto(f"{edition_server}/index.html")
        page.fill("#site-q", "police")
        page.press("#site-q", "Enter")
        page.wait_for_selector("#edition-hits li.hit")
        assert "/search/index.html?q=police" in page.url
        total = int(page.inner_text("#edition-status").split()[0])
        assert total > 3
        theme_link = page.locator("#edition-facets section", has_text="Theme").locator("a").first
        theme = theme_link.inner_text()
        theme_link.click()
        page.wait_for_selector("#edition-chips:not([hidden])")
        page.wait_for_selector("#edition-hits li.hit")
        assert "theme=" in page.url and theme in page.inner_text("#edition-chips")
        narrowed = int(page.inner_text("#edition-status").split()[0])
        assert 0 < narrowed <= total
        page.locator("#edition-hits li.hit h2 a").first.click()
        page.wait_for_selector("article.case h1")
        assert page.url.endswith("/index.html") and "/cases/" in page.url
        assert theme in page.inner_text(".meta-panel")         # the case is one of the theme's
        case_url = page.url
        # follow a citation: a reference's link to its source page
        page.locator(".references a[href*='sources/']").first.click()
        page.wait_for_selector("h1")
        assert "/sources/" in page.url and page.locator(".references, .reference, blockquote").count() > 0
        page.goto(case_url)
        with page.expect_download() as download:
            page.get_by_role("link", name="BibTeX of this case study's sources").click()
        entries = bibtexparser.parse_string(Path(download.value.path()).read_text(encoding="utf-8")).entries
        assert entries and all(entry.key for entry in entries)
        keys = {href.split("/sources/")[1].split("/")[0] for href in
                page.eval_on_selector_all(".references a[href*='sources/']", "els => els.map(e => e.href)")}
        assert {entry.key for entry in entries} >= keys
        # another style: a page of its own, the reference list in that style
        page.get_by_role("link", name="Harvard (Cite Them Right)").click()
        assert page.url.endswith("/harvard.html")
        assert page.locator(".style-picker strong").inner_text() == "Harvard (Cite Them Right)"
    finally:
        context.close()
    assert not errors, errors
    assert seen and all(url.startswith(edition_server + "/") for url in seen), \
        [url for url in seen if not url.startswith(edition_server)][:5]


def test_search_without_a_server_keeps_its_promises(browser, edition_server):
    """A bookmarked search with OR-ed values of one facet and a sort; words no case has all of
    (the no-dead-end fallback); the phone width; axe-core."""
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{edition_server}/search/index.html?region=europe&region=northern-america&sort=period")
        page.wait_for_selector("#edition-hits li.hit")
        both = int(page.inner_text("#edition-status").split()[0])
        page.goto(f"{edition_server}/search/index.html?region=europe&sort=period")
        page.wait_for_selector("#edition-hits li.hit")
        europe = int(page.inner_text("#edition-status").split()[0])
        assert 0 < europe < both
        assert page.locator("#edition-sort").input_value() == "period"
        assert_no_horizontal_scroll(page)
        # no shipped case has both words (Dutch coffeeshops, naloxone elsewhere): the cases with either
        page.goto(f"{edition_server}/search/index.html?q=coffeeshop+naloxone")
        page.wait_for_selector("#edition-hits li.hit")
        assert "No case has all 2 words" in page.inner_text("#edition-relaxed")
        assert page.locator("#edition-hits li.hit").count() >= 2
        axe_script()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{edition_server}/search/index.html?q=police")
        page.wait_for_selector("#edition-hits li.hit")
        assert not axe_violations(page)
    finally:
        context.close()


def test_opened_from_a_folder_the_search_page_says_how_to_serve_it(browser, shipped_edition):
    _, folder, _ = shipped_edition
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto((folder / "search" / "index.html").as_uri())
        page.wait_for_selector("#edition-offline:not([hidden])")
        assert "python3 -m http.server" in page.inner_text("#edition-offline")
        page.goto((folder / "index.html").as_uri())          # pages themselves read from disk
        page.get_by_role("link", name="Themes").first.click()
        assert page.url.endswith("themes/index.html")
    finally:
        context.close()


# --- a small collection: drafts, incremental and atomic writes, zip, refusals --------------------------

@pytest.fixture
def small(kb_root, tmp_path, db_url):
    """Three cases, one a draft, built on SQLite and on PostgreSQL (its search in the database)."""
    root = kb_root({"published-one.md": case_text("published-one", title="Published one"),
                    "published-two.md": case_text("published-two", title="Published two"),
                    "secret-draft.md": case_text("secret-draft", title="Zanzibar draft", status="draft")})
    settings = Settings.load({"ROOT": str(root), "BASE_URL": BASE, "DATABASE_URL": db_url}, environ={})
    build(settings)
    return settings, tmp_path / "out" / "site"


def all_text(folder: Path) -> str:
    """Every file's text, Pagefind's compressed index and fragments opened."""
    parts = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def leftovers(folder: Path) -> list[str]:
    """What a publish left beside its folder, apart from its lock file."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name not in (folder.name, f".{folder.name}.lock"))


def test_drafts_are_never_in_the_edition(small):
    settings, folder = small
    publish(settings, folder)
    assert (folder / "cases" / "published-one" / "index.html").is_file()
    assert not (folder / "cases" / "secret-draft").exists()
    text = all_text(folder)
    assert "/cases/published-two/index.html" in all_text(folder / "pagefind")   # its fragments were read
    assert "secret-draft" not in text and "Zanzibar" not in text


def test_publishing_again_rewrites_only_what_changed(small):
    settings, folder = small
    first = publish(settings, folder)
    page = folder / "cases" / "published-one" / "index.html"
    inode, mtime = page.stat().st_ino, page.stat().st_mtime_ns
    again = publish(settings, folder)
    assert again.files == first.files and again.removed == 0
    assert again.written <= 1 and again.unchanged == again.files - again.written   # the manifest, at most
    assert page.stat().st_ino == inode and page.stat().st_mtime_ns == mtime
    case = settings.root / "case_studies" / "published-two.md"
    case.write_text(case.read_text(encoding="utf-8").replace("worked with health services", "worked with nurses"),
                    encoding="utf-8")
    build(settings)
    changed = publish(settings, folder)
    assert "worked with nurses" in (folder / "cases" / "published-two" / "index.html").read_text(encoding="utf-8")
    assert page.stat().st_ino == inode                     # an unchanged case's page is not rewritten
    assert 1 < changed.written < changed.files / 2
    assert leftovers(folder) == []                          # no staging folder left


def test_a_failed_publish_leaves_the_previous_edition_whole(small, monkeypatch):
    settings, folder = small
    publish(settings, folder)
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def broken(_folder):
        raise PublishError("Pagefind could not index the edition (exit 1): simulated")
    monkeypatch.setattr(publishing, "_pagefind", broken)
    case = settings.root / "case_studies" / "published-one.md"
    case.write_text(case.read_text(encoding="utf-8").replace("Published one", "Changed"), encoding="utf-8")
    build(settings)
    with pytest.raises(PublishError, match="simulated"):
        publish(settings, folder)
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert leftovers(folder) == []


def test_a_publish_stopped_between_its_renames_is_mended_by_the_next(small):
    settings, folder = small
    first = publish(settings, folder)
    folder.rename(folder.with_name(".site.previous-999"))     # killed after moving the old edition aside
    again = publish(settings, folder)
    assert (folder / "index.html").is_file() and leftovers(folder) == []
    assert again.unchanged == first.files - 1                # the old edition was put back and reused


def test_kb_publish_with_a_zip_and_the_refusals(small, runner):
    settings, folder = small
    zip_path = folder.parent / "edition.zip"
    result = runner.invoke(cli, ["--root", str(settings.root), "publish", str(folder), "--base-url", BASE,
                                 "--zip", str(zip_path)], env={"KB_BASE_URL": BASE})
    assert result.exit_code == 0, result.output
    assert "published" in result.output and "unchanged" in result.output
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    assert "site/index.html" in names and "site/search/index.html" in names
    assert not any("secret-draft" in name for name in names)
    # a folder with other files, the collection itself, a file: refused, nothing written
    other = folder.parent / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(cli, ["--root", str(settings.root), "publish", str(other)])
    assert result.exit_code != 0 and "holds files that are not an edition's" in result.output
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    result = runner.invoke(cli, ["--root", str(settings.root), "publish", str(settings.root)])
    assert result.exit_code != 0 and "a folder of its own" in result.output
    result = runner.invoke(cli, ["--root", str(settings.root), "publish", str(folder / "index.html")])
    assert result.exit_code != 0 and "is a file" in result.output


def test_file_names_of_pages(small):
    settings, _ = small
    edition = publishing.Edition(settings, BASE)
    f = edition.file_of
    assert f("/", "") == "index.html"
    assert f("/cases/a-case", "") == "cases/a-case/index.html"
    assert f("/cases/a-case", "style=apa") == "cases/a-case/index.html"
    assert f("/cases/a-case", "style=harvard") == "cases/a-case/harvard.html"
    assert f("/cases/a-case", "style=ieee") is None                     # only the short list is published
    assert f("/evidence", "page=2&theme=x") == "evidence/theme-x-page-2.html"
    assert f("/evidence", "theme=x&country=GB") is None                 # one filter at most
    assert f("/search.csv", "theme=x") == "search-theme-x.csv"
    assert f("/static/../secret", "") is None
    assert f("/reviews", "") is None and f("/signin", "") is None
    assert edition.link(f"{BASE}/cases/a-case#evidence-1", "themes/x/index.html") == "../../cases/a-case/index.html#evidence-1"
    assert edition.link("/search?q=police&theme=x&drafts=1", "cases/a/index.html") == \
        "../../search/index.html?q=police&theme=x"
    assert edition.link("https://doi.org/10.1/x", "index.html") == "https://doi.org/10.1/x"


def test_worker_processes_make_the_same_edition(small):
    """Pages rendered by two spawned processes (each with its own hash seed) are the bytes one
    process makes: nothing on a page may follow a set's order."""
    settings, folder = small
    publish(settings, folder, procs=1)
    other = folder.with_name("parallel")
    publish(settings, other, procs=2)
    def files(root: Path) -> dict:
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and "pagefind" not in p.relative_to(root).parts}
    assert files(other) == files(folder)


def test_the_ledger_lists_its_groups_in_order():
    from kb.ledger import CaseLedger, ledger
    entries = {f"c{n}": CaseLedger(f"c{n}", f"Case {n}", output_move="failure", harm_move="improved") for n in range(3)}
    groups = {"c0": ("zeta", "alpha"), "c1": ("mid",), "c2": ("alpha",)}
    assert list(ledger(entries, groups).groups) == ["alpha", "mid", "zeta"]


def test_a_case_text_that_looks_like_markup_stays_text_in_search_results(kb_root, tmp_path, browser, monkeypatch):
    """Pagefind's excerpt is HTML put into the results list: words of a case that look like a tag
    must arrive escaped, never as an element (an attacker's content file)."""
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    hostile = "Officers wrote `<img src=x onerror=alert(1)>` and <b>bold</b> on the zorblax form."
    root = kb_root({"hostile.md": case_text("hostile", title="Zorblax forms", body=f"## Context\n\n{hostile}\n")})
    settings = Settings.load({"ROOT": str(root), "BASE_URL": BASE}, environ={})
    build(settings)
    folder = tmp_path / "site"
    publish(settings, folder)
    process, url = static_server(folder)
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"{url}/search/index.html?q=zorblax")
        page.wait_for_selector("#edition-hits li.hit")
        page.goto(f"{url}/search/index.html?q=onerror")
        page.wait_for_selector("#edition-hits li.hit")
        assert page.locator("#edition-hits img, #edition-hits b, #edition-hits script").count() == 0
        assert "<img src=x onerror=alert(1)>" in page.inner_text("#edition-hits")
    finally:
        context.close()
        process.terminate()
        process.wait(timeout=10)
    assert dialogs == []
