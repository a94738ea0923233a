"""Shared fixtures: a `kb_root` factory writing small case files and a bibliography into tmp_path,
a click `runner`, `db_url`, which runs storage tests on SQLite and on PostgreSQL, the web `app`
and, for the browser tests, Chromium (`browser`), the app served (`server`) and a `page`."""
from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

# Builds leave case pages to their first view (pandoc costs 0.2 s a run): tests of rendering in the
# build set KB_RENDER_PAGES=build themselves (the `render_in_build` fixture).
os.environ.setdefault("KB_RENDER_PAGES", "first-view")


@pytest.fixture
def render_in_build(monkeypatch):
    monkeypatch.setenv("KB_RENDER_PAGES", "build")


BIB = textwrap.dedent("""\
    @article{doe2020policing,
      author  = {Doe, Jane and van der Meer, Piet},
      title   = {Policing Open Drug Markets in {Z{\\"u}rich}},
      journal = {Journal of Drug Policy},
      year    = {2020},
      volume  = {12},
      pages   = {1--20},
      doi     = {10.1000/jdp.2020.1}, options = {useprefix=true}
    }

    @book{roe2015cannabis,
      author    = {Roe, Richard},
      title     = {Cannabis Coffeeshops and the Law},
      publisher = {Example Press},
      year      = {2015}
    }

    @techreport{bank2018laundering,
      author      = {{World Bank}},
      title       = {Money Laundering and Drug Markets},
      institution = {World Bank},
      year        = {2018}
    }
    """)


REPORT_BIB = """
@techreport{monaghan2013police,
  author      = {Monaghan, Geoffrey and Bewley-Taylor, Dave},
  title       = {Police Support for Harm Reduction Policies and Practices towards People Who Inject Drugs},
  institution = {International Drug Policy Consortium},
  type        = {Modernising Drug Law Enforcement Report},
  number      = {1},
  year        = {2013}
}
"""


def case_text(case_id: str = "sample-case", **overrides) -> str:
    """A valid case study; keyword arguments replace front-matter lines (value None drops the key)."""
    fields = {
        "id": case_id,
        "title": '"Sample case of police and harm reduction"',
        "summary": "Police referred people who inject drugs to a supervised injection site.",
        "themes": "[police-harm-reduction]",
        "concepts": "[harm-indicators]",
        "country": "CA",
        "locality": "Vancouver",
        "period": '"2003-2008"',
        "market_levels": "[retail, consumption]",
        "tags": "[supervised-injection, overdose]",
        "status": "published",
        "updated": "2024-05-01",
    }
    fields.update(overrides)
    lines = [f"{key}: {value}" for key, value in fields.items() if value is not None and key not in ("evidence", "body")]
    evidence = overrides.get("evidence", textwrap.dedent("""\
        evidence:
          - id: overdose-deaths
            claim: Overdose deaths near the site fell.
            cite: "[@doe2020policing, p. 5]"
            outcome: public-health
            direction: improved
            design: before-after
            strength: 3"""))
    body = overrides.get("body", "## Context\n\nPolice in the city worked with health services [@doe2020policing, p. 3].\n")
    return "---\n" + "\n".join(lines) + ("\n" + evidence if evidence else "") + "\n---\n" + body


@contextmanager
def built_kb(folder: Path, cases: dict[str, str], bib: str | None = None, backend: str = "whoosh"):
    """A knowledge base of `cases` (file name -> text) built in `folder`, opened: with the Whoosh
    backend on SQLite, or with `backend="postgres"` on a new PostgreSQL database (the search index
    in it). For module-scoped fixtures, which cannot use monkeypatch (KB_DATABASE_URL is put back
    after)."""
    from kb.knowledgebase import KnowledgeBase
    from kb.settings import Settings
    from kb.storage.build import build
    (folder / "case_studies").mkdir()
    for name, text in cases.items():
        (folder / "case_studies" / name).write_text(text, encoding="utf-8")
    (folder / "bibliography.bib").write_text(BIB if bib is None else bib, encoding="utf-8")
    saved = os.environ.pop("KB_DATABASE_URL", None)
    try:
        with postgres_database(backend == "postgres") as url:
            settings = Settings.load({"ROOT": str(folder), "DATABASE_URL": url, "SEARCH": backend})
            build(settings)
            knowledge_base = KnowledgeBase(settings)
            try:
                yield knowledge_base
            finally:
                knowledge_base.close()
    finally:
        if saved:
            os.environ["KB_DATABASE_URL"] = saved


@contextmanager
def postgres_database(wanted: bool = True):
    """A new PostgreSQL database's URL for the block (dropped after), or None when not `wanted`.
    Needs KB_TEST_POSTGRES_URL: in CI its absence is a failure, elsewhere a skip."""
    if not wanted:
        yield None
        return
    admin = _postgres_admin_url()
    if not admin:
        if os.environ.get("CI"):
            pytest.fail("CI must set KB_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("PostgreSQL not configured: set KB_TEST_POSTGRES_URL or run `make test` via .ci/run")
    from sqlalchemy import create_engine, text
    name = f"kbtest_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


SEARCH_BACKENDS = ["whoosh", "postgres"]   # module fixtures parametrised with these run each test on both


@pytest.fixture
def kb_root(tmp_path):
    """Factory: kb_root({"a.md": text, ...}, bib=...) -> root Path with case_studies/ and bibliography.bib."""
    def make(cases: dict[str, str | bytes] | None = None, bib: str | None = BIB) -> Path:
        root = tmp_path / "root"
        (root / "case_studies").mkdir(parents=True, exist_ok=True)
        for name, text in (cases if cases is not None else {"sample-case.md": case_text()}).items():
            path = root / "case_studies" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        if bib is not None:
            (root / "bibliography.bib").write_text(bib, encoding="utf-8")
        return root
    return make


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory):
    """The shipped collection built once into a data folder of its own (SQLite): `kb cite` and
    the web read a build, not the Markdown."""
    from kb.settings import Settings
    from kb.storage.build import build
    data = tmp_path_factory.mktemp("shipped") / "data"
    root = Path(__file__).resolve().parent.parent
    build(Settings.load({"ROOT": str(root), "DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'kb.sqlite3'}"}))
    return data


@pytest.fixture
def runner():
    return CliRunner()


def _postgres_admin_url() -> str | None:
    return os.environ.get("KB_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, monkeypatch, tmp_path):
    """Point KB_DATABASE_URL at a fresh database: SQLite in tmp_path, or a new PostgreSQL database.

    PostgreSQL runs wherever KB_TEST_POSTGRES_URL is set (`.ci/run` and `make test-pg` start a
    throwaway cluster); in CI its absence is a failure, not a skip.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        monkeypatch.setenv("KB_DATABASE_URL", url)
        yield url
        return
    with postgres_database() as url:
        monkeypatch.setenv("KB_DATABASE_URL", url)
        yield url


@pytest.fixture
def built_root(kb_root, monkeypatch):
    """A knowledge base with two published cases and a draft, built (SQLite in the root)."""
    from kb.storage.build import build
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    evidence_two = textwrap.dedent("""\
        evidence:
          - id: shootings
            claim: Shootings fell after call-ins & meetings.
            cite: "[@roe2015cannabis, ch. 2]"
            outcome: violence
            direction: improved
            design: quasi-experimental
            strength: 4
          - id: arrests
            claim: Arrests did not change.
            cite: "[@bank2018laundering]"
            outcome: arrests
            direction: no-change
            design: official-statistics""")
    root = kb_root({
        "police/sample-case.md": case_text(body="## Context\n\nPolice worked with health services [@doe2020policing, p. 3].\n\n"
                                           "## Outcomes\n\nOverdoses fell [@doe2020policing; @roe2015cannabis].\n"),
        "deterrence/second-case.md": case_text("second-case", title='"Ceasefire in Boston"', country="US",
                                               period='"1996-2000"', themes="[targeted-deterrence]",
                                               evidence=evidence_two, body="## Context\n\nGangs and guns.\n"),
        "draft/draft-case.md": case_text("draft-case", title='"Unfinished draft"', status="draft"),
    }, bib=BIB + REPORT_BIB)
    build(root)
    return root


@pytest.fixture
def app(built_root, tmp_path):
    from webapp import create_app
    app = create_app({"ROOT": str(built_root), "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "test", "BASE_URL": "https://kb.example.org"})
    app.instance_path = str(tmp_path / "instance")
    yield app
    state = app.extensions["kb"]
    if state["kb"] is not None:
        state["kb"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_factory(tmp_path):
    """Factory: app_factory(config) -> a Flask app whose knowledge base is closed after the test."""
    from webapp import create_app
    made = []

    def make(config: dict):
        app = create_app({"SECRET_KEY": "test", **config})
        app.instance_path = str(tmp_path / f"instance-{len(made)}")
        made.append(app)
        return app
    yield make
    for app in made:
        state = app.extensions["kb"]
        if state["kb"] is not None:
            state["kb"].close()


# Real Chromium through Playwright, for the browser tests (tests/test_browser*.py); the helpers
# they share (page types, widths, axe-core) are in tests/browser_helpers.py.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("Chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app):
    """The app served on a free port of 127.0.0.1, with CSRF on (the real forms, with their tokens)."""
    from browser_helpers import serve
    app.config["WTF_CSRF_ENABLED"] = True
    with serve(app) as url:
        yield url


@pytest.fixture
def page(browser, server):
    context = browser.new_context(accept_downloads=True, base_url=server)
    page = context.new_page()
    yield page
    context.close()
