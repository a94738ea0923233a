"""What the browser tests share: the page types of the web browser, the widths they are looked at,
signing in, and two checks any page can be put through: no horizontal scrolling
(`assert_no_horizontal_scroll`) and axe-core (`axe_violations`).

A new page type is one line in PAGE_TYPES; the layout and accessibility tests then check it at
every width. The `browser`, `server` and `page` fixtures are in tests/conftest.py.
"""
from __future__ import annotations

import functools
import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from werkzeug.serving import make_server

PHONE_WIDTHS = (360, 390)
DESKTOP_WIDTH = 1280
HEIGHT = 800
PASSWORD = "correct horse battery"
USERS = {"alice": "reviewer", "ed": "editor"}   # made by the `reviewers` fixture of the layout tests

# axe-core from npm, pinned (AXE_VERSION) and installed by .ci/run, which sets KB_AXE_JS
CI_RUN = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
AXE_VERSION = re.search(r"^AXE_VERSION=(\S+)$", CI_RUN, re.M).group(1)
AXE_DEFAULT = "/tmp/axe/node_modules/axe-core/axe.min.js"
AXE_INSTALL = f"npm install --prefix /tmp/axe axe-core@{AXE_VERSION} (or set KB_AXE_JS to its axe.min.js)"
SEVERE = ("serious", "critical")


@dataclass(frozen=True)
class PageType:
    """A kind of page, by one URL of the test app (tests/conftest.py `app`), seen by whom."""
    name: str
    url: str
    who: str | None = None                       # a name in USERS, or None for an anonymous reader
    status: int = 200
    prepare: Callable | None = None              # prepare(page): what to do first, e.g. fill the basket


def fill_basket(page) -> None:
    page.goto("/cases/second-case")
    page.locator("tr#evidence-shootings form button").click()
    page.wait_for_load_state("load")
    page.goto("/cases/sample-case")
    page.locator(".action-bar form.add-to-basket button").click()
    page.wait_for_load_state("load")


REVIEW_ITEM = "/reviews/item/second-case/shootings"
PAGE_TYPES: list[PageType] = [
    PageType("home", "/"),
    PageType("search", "/search?q=police"),
    PageType("search, no query", "/search"),
    PageType("search, nothing found", "/search?q=nosuchword&country=US"),
    PageType("search help", "/search/help"),
    PageType("case", "/cases/second-case"),
    PageType("case with text citations", "/cases/sample-case?style=chicago-author-date"),
    PageType("source", "/sources/doe2020policing"),
    PageType("case in a style outside the short list", "/cases/second-case?style=ieee"),
    PageType("citation styles", "/styles?q=chicago&next=/cases/second-case"),
    PageType("themes", "/themes"),
    PageType("theme", "/themes/police-harm-reduction"),
    PageType("concept", "/concepts/harm-indicators"),
    PageType("country", "/countries/US"),
    PageType("evidence map", "/evidence-map"),
    PageType("evidence map, filtered", "/evidence-map?region=americas&min_strength=2"),
    PageType("evidence map by verdict and design", "/evidence-map?colour=verdict&segment=design"),
    PageType("evidence map, other axes", "/evidence-map?rows=region&cols=design"),
    PageType("ledger", "/ledger"),
    PageType("ledger, opposite only", "/ledger?opposite=1&by=country"),
    PageType("verdict rules", "/verdicts"),
    PageType("summary of findings", "/themes/targeted-deterrence/findings"),
    PageType("evidence list", "/evidence"),
    PageType("evidence list, filtered", "/evidence?region=northern-america&outcome=violence&direction=improved&q=gangs"),
    PageType("evidence list, nothing found", "/evidence?direction=worsened"),
    PageType("regions", "/regions"),
    PageType("region", "/regions/northern-america"),
    PageType("comparison tray", "/compare/tray"),
    PageType("charts", "/charts"),
    PageType("basket, empty", "/basket"),
    PageType("basket", "/basket", prepare=fill_basket),
    PageType("sign-in", "/signin"),
    PageType("compare", "/compare?id=sample-case&id=second-case"),
    PageType("error 404", "/cases/no-such-case", status=404),
    PageType("error 400", "/search?page=many", status=400),
    PageType("review queue", "/reviews", who="alice"),
    PageType("review item", REVIEW_ITEM, who="alice"),
    PageType("case, for a reviewer", "/cases/second-case", who="alice"),
    PageType("review item, for an editor", REVIEW_ITEM, who="ed"),
    PageType("review history", REVIEW_ITEM + "/history", who="ed"),
    PageType("agreement", "/reviews/agreement", who="ed"),
    PageType("review settings", "/reviews/settings", who="ed"),
]


@contextmanager
def serve(app) -> Iterator[str]:
    """`app` served on a free port of 127.0.0.1 while the block runs; its base URL."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=5)


def sign_in(page, name: str) -> None:
    page.goto("/signin")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/reviews")


def pages_by_viewer(types: list[PageType]) -> dict[str | None, list[PageType]]:
    """Page types grouped by who sees them, so that each viewer signs in once."""
    groups: dict[str | None, list[PageType]] = {}
    for kind in types:
        groups.setdefault(kind.who, []).append(kind)
    return groups


def viewer_page(browser, server: str, who: str | None, width: int):
    """A new page `width` CSS pixels wide, signed in as `who`. The context bypasses the Content
    Security Policy so that axe-core can be injected; test_browser.py checks the policy itself."""
    context = browser.new_context(base_url=server, viewport={"width": width, "height": HEIGHT}, bypass_csp=True)
    page = context.new_page()
    if who:
        sign_in(page, who)
    return page


def visit(page, kind: PageType) -> None:
    if kind.prepare:
        kind.prepare(page)
    response = page.goto(kind.url)
    page.wait_for_load_state("load")
    assert response is not None and response.status == kind.status, (kind.name, kind.url, response and response.status)


# Elements sticking out of the viewport that no scrolling box of their own holds: what makes a page scroll sideways.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX; if (x !== 'visible' && a !== document.body && a !== document.documentElement) return true; }
    return false; };
  return [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > width + 0.5 && !scrolls(e))
    .slice(0, 8).map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''}`
      + ` right=${Math.round(e.getBoundingClientRect().right)} "${(e.textContent || '').trim().slice(0, 40)}"`);
}"""


def horizontal_overflow(page) -> dict:
    """The page's scroll width and viewport width, and what sticks out if it is wider."""
    found = page.evaluate("() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth})")
    found["overflowing"] = page.evaluate(OVERFLOWING) if found["scrollWidth"] > found["innerWidth"] else []
    return found


def assert_no_horizontal_scroll(page, url: str | None = None) -> None:
    """The page (at `url`, or the one open) is no wider than the viewport: long words, URLs and
    tables wrap or scroll inside their own box."""
    if url is not None:
        page.goto(url)
        page.wait_for_load_state("load")
    found = horizontal_overflow(page)
    assert found["scrollWidth"] <= found["innerWidth"], (page.url, found)


def axe_script() -> str:
    """axe-core's source, of the pinned version; when it is missing or another version, a failure
    under CI=true, else a skip saying how to install it. Call it before the work that needs it."""
    path = Path(os.environ.get("KB_AXE_JS") or AXE_DEFAULT)
    package = path.parent / "package.json"
    version = json.loads(package.read_text(encoding="utf-8")).get("version") if package.is_file() else None
    if not path.is_file() or version != AXE_VERSION:
        found = f"axe-core {version}" if path.is_file() else "no axe-core"
        if os.environ.get("CI"):
            pytest.fail(f"CI must install axe-core {AXE_VERSION} at {path}, found {found} (see .ci/run)")
        pytest.skip(f"{found} at {path}, not {AXE_VERSION}: {AXE_INSTALL}")
    return _read(path)


@functools.lru_cache(maxsize=2)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def axe_violations(page, impacts: tuple[str, ...] = SEVERE) -> list[dict]:
    """axe-core's violations of the open page (all its default rules) with one of these impacts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_script())
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in violations if v["impact"] in impacts]


def describe_violations(violations: list[dict]) -> str:
    """One paragraph per violation: its id, impact and help, then each element and what is wrong with it."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:6]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)
