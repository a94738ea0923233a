"""The static edition (`kb publish DIR`): every page an anonymous reader can see, written as files
with relative links, the exports and feeds as files, and search with facets by Pagefind, so the
knowledge base can be hosted by any static web server, under a path, or carried as a zip.

How it is made (docs/publishing.md):
- pages are rendered by the web app itself (a signed-out test client, `STATIC_EDITION` on), starting
  from the home page and the collection's own lists, following every link to a page the edition
  holds (`Edition.file_of` says which: an endpoint in PAGES, with at most the query parameters
  it allows);
- every link, script, stylesheet and form in a page is rewritten (lxml) to the file it means,
  relative to the page; a search (`/search?...`) goes to the edition's search page with its
  parameters, which Pagefind answers in the browser; anything else a server is needed for
  (forms that post, the reviewers' pages, searches by other means) is left out, its link text kept;
- the files are written to a new folder beside DIR; a file whose bytes have not changed is
  hard-linked from the previous edition instead (same inode and time: a sync tool sees it
  unchanged); Pagefind indexes the case pages; then the new folder takes DIR's place with two
  renames. A publish that fails leaves the previous edition as it was.
"""
from __future__ import annotations

import fcntl
import json
import os
import posixpath
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import lxml.etree
import lxml.html
from flask import Flask, render_template

from kb.citations import STYLES, export
from kb.errors import KbError
from kb.facets import FACETS
from kb.settings import Settings
from webapp.kbstore import get_kb, prime

HOST = "edition.invalid"       # the host pages are rendered for: links to it are the edition's own
DEFAULT_STYLE = "apa"          # the style of /cases/<id> with no `style` (webapp.cases.chosen_style)
VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")   # a path part or parameter value a file may be named by
SEARCH_PARAMS = {"q", "sort", *(facet.param for facet in FACETS if facet.indexed)}
# endpoint -> the query parameters a page of it may have (each becomes part of the file's name)
PAGES: dict[str, frozenset[str]] = {name: frozenset(params) for name, params in {
    "search.home": (), "cases.case": ("style",), "cases.case_itself_export": (), "cases.case_sources_export": (),
    "cases.evidence_export": (), "cases.charts": (), "cases.concept": ("page",), "cases.country": ("page",),
    "evidence.evidence_list": ("page",), "cases.evidence_map": ("colour",), "findings.evidence_map_eppi": (),
    "evidence.evidence_csv": (), "cases.feed": (), "findings.ledger": (), "cases.regions": (),
    "cases.region_page": ("page",), "sources.source": ("style",), "static": (), "cases.themes": (), "cases.theme": ("page",),
    "cases.theme_export": (), "findings.theme_findings": (), "findings.theme_findings_file": (), "findings.rules": (),
    "cases.search_export": (), "search.search_csv": (),
}.items()}
# ... and these may also have one filter (a page per value of each of their facets: bounded by the
# vocabulary, where every combination of two would not be); a link with more is left out
FILTERED = {"evidence.evidence_list", "findings.ledger", "search.search_csv", "evidence.evidence_csv"}
# a search's feed for one theme, region or concept is a file of that page's folder
FEEDS = {"theme": "themes", "region": "regions", "concept": "concepts"}
EXPORTS = ("/search.csv", "/evidence.csv", "/evidence-map.eppi.json", "/feed.atom")   # the server's, as files
BIBLIOGRAPHY = {"bib": "bibtex", "ris": "ris", "json": "csl-json"}   # exports/sources.* and exports/case-studies.*
MAX_PAGES = 500_000            # a bound on the crawl, far above any collection's page count


def edition_marks(case) -> dict:
    """What Pagefind keeps of a case page (the case template writes them as data-pagefind-*
    attributes): its facet values as filters (the URL parameter's name and value, as /search has
    them) and the sort keys (period as `year`, last update as `updated`)."""
    this_year = time.gmtime().tm_year
    filters = [(facet.param, value.upper() if facet.upper else value)
               for facet in FACETS if facet.indexed and facet.values for value in facet.values(case, this_year)]
    start, _ = case.period_years
    sorts = {"year": f"{start:04d}" if start else "0000", "updated": case.updated or "0000-00-00"}
    return {"filters": filters, "sorts": sorts}


class PublishError(KbError):
    """The edition could not be made; the previous one (if any) is untouched."""


@dataclass
class Report:
    folder: Path
    pages: int = 0                 # HTML pages
    files: int = 0                 # every file, Pagefind's included
    written: int = 0               # files whose bytes changed (or are new)
    unchanged: int = 0             # hard-linked from the previous edition
    removed: int = 0               # in the previous edition, not in this one
    bytes: int = 0
    render_seconds: float = 0.0
    pagefind_seconds: float = 0.0
    seconds: float = 0.0
    left_out: dict[str, int] = field(default_factory=dict)   # links to what a server is needed for, by endpoint
    zip_path: Path | None = None


class Edition:
    """One publish: renders pages with the app, names their files, rewrites their links."""

    def __init__(self, settings: Settings, base_url: str):
        from webapp import create_app
        self.base_url = base_url.rstrip("/")
        self.base = urlsplit(self.base_url)
        self.settings = settings
        # no one signs in to an edition: a key of its own (a team's hosts refuse to start without one)
        self.app: Flask = create_app(Settings.load({**settings.as_dict(), "BASE_URL": self.base_url or f"http://{HOST}",
                                                    "SECRET_KEY": secrets.token_hex(32), "SECRET_KEY_FILE": None},
                                                   environ={}))
        self.app.config["STATIC_EDITION"] = True
        self.app.jinja_env.globals["edition_marks"] = edition_marks
        self.client = self.app.test_client()
        self.adapter = self.app.url_map.bind(HOST)
        self.left_out: dict[str, int] = {}
        self._files: dict[tuple[str, str], str | None] = {}
        self.indexed: set[str] = set()          # the pages Pagefind indexes (the case pages, default style)

    def close(self) -> None:
        """The app's knowledge base closed: its connections returned, its engine disposed."""
        opened = self.app.extensions["kb"]["kb"]
        if opened is not None:
            opened.close()

    # --- which file a URL is ---------------------------------------------------------------------

    def own_path(self, url: str) -> tuple[str, str] | None:
        """(path, query) of a URL of this knowledge base (relative to the site's root, or absolute
        on the rendering host or the base URL); None for another site's."""
        parts = urlsplit(url)
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None
        if parts.netloc:
            if parts.netloc == HOST:
                return parts.path or "/", parts.query
            if self.base.netloc and parts.netloc == self.base.netloc and parts.path.startswith(self.base.path):
                return parts.path[len(self.base.path):] or "/", parts.query
            return None
        if parts.path.startswith("/"):
            return parts.path, parts.query
        return None

    def file_of(self, path: str, query: str) -> str | None:
        """The edition's file for a page (`cases/x/index.html`, `cases/x/harvard.html`,
        `evidence/theme-x-page-2.html`, `cases/x/cite.bib`, `search-theme-x.csv`), or None if the
        edition does not hold it."""
        key = (path, query)
        if key not in self._files:
            if len(self._files) > 200_000:
                self._files.clear()
            self._files[key] = self._file_of(path, query)
        return self._files[key]

    def _file_of(self, path: str, query: str) -> str | None:
        try:
            endpoint, values = self.adapter.match(path, method="GET")
        except Exception:   # werkzeug's NotFound, MethodNotAllowed, RequestRedirect: not a page
            return None
        if endpoint not in PAGES or not all(VALUE.fullmatch(str(v)) for k, v in values.items() if k != "filename"):
            return None
        if endpoint == "static" and ".." in path:
            return None
        params = parse_qsl(query, keep_blank_values=True)
        filters = [name for name, _ in params if name not in PAGES[endpoint]]
        if len(filters) > (1 if endpoint in FILTERED else 0) or len({name for name, _ in params}) != len(params) \
                or not all(VALUE.fullmatch(name) and VALUE.fullmatch(value) for name, value in params):
            return None
        if any(name == "style" and value not in STYLES for name, value in params):
            return None
        params = sorted(((name, value) for name, value in params           # the filter, then the page
                         if (name, value) not in (("style", DEFAULT_STYLE), ("page", "1"))),
                        key=lambda p: (p[0] == "page", p[0]))
        named = "-".join(value if name == "style" else f"{name}-{value}" for name, value in params)
        path = path.strip("/")
        stem, suffix = posixpath.splitext(path)
        if suffix:                  # a file of its own: cite.bib, style.css, feed.atom, search-theme-x.csv
            return f"{stem}-{named}{suffix}" if named else path
        return (f"{path}/" if path else "") + (named or "index") + ".html"

    def feed_file(self, query: str) -> str | None:
        """`/search.atom?theme=x` (or region, concept) -> `themes/x/feed.atom`."""
        params = parse_qsl(query)
        if len(params) == 1 and params[0][0] in FEEDS and VALUE.fullmatch(params[0][1]):
            return f"{FEEDS[params[0][0]]}/{params[0][1]}/feed.atom"
        return None

    def search_target(self, query: str) -> str | None:
        """A search's parameters, as the edition's search page reads them (others dropped)."""
        kept = [(name, value) for name, value in parse_qsl(query) if name in SEARCH_PARAMS and value]
        return "search/index.html" + (f"?{urlencode(kept)}" if kept else "")

    def link(self, url: str, page_file: str) -> str | None:
        """What a link on `page_file` becomes: relative to the page, unchanged (another site's, an
        anchor), or None (left out: the edition holds no such page)."""
        if not url or url.startswith("#"):
            return url
        own = self.own_path(url)
        if own is None:
            return url
        path, query = own
        fragment = urlsplit(url).fragment
        if path == "/search":
            target = self.search_target(query)
        elif path == "/search.atom":
            target = self.feed_file(query)
        else:
            target = self.file_of(path, query)
        if target is None:
            try:
                endpoint = self.adapter.match(path, method="GET")[0]
            except Exception:
                endpoint = "(none)"
            self.left_out[endpoint] = self.left_out.get(endpoint, 0) + 1
            return None
        file, _, target_query = target.partition("?")
        relative = posixpath.relpath(file, posixpath.dirname(page_file) or ".")
        return relative + (f"?{target_query}" if target_query else "") + (f"#{fragment}" if fragment else "")

    def absolute(self, file: str) -> str:
        """The public URL of one of the edition's files (feeds and citations need absolute ones)."""
        if file.endswith("index.html"):
            file = file[:-len("index.html")]
        return f"{self.base_url}/{file}" if self.base_url else file

    # --- rendering ---------------------------------------------------------------------------------

    def get(self, path: str, query: str = "") -> bytes | None:
        with self.client.get(path + (f"?{query}" if query else ""), base_url=f"http://{HOST}") as response:
            return response.get_data() if response.status_code == 200 else None   # closed: static files are open

    def render(self, file: str, path: str, query: str) -> tuple[str, bytes, list[tuple[str, str]], bool]:
        """(file, its bytes, the links it holds to pages, whether Pagefind indexes it)."""
        body = self.get(path, query)
        if body is None:
            raise PublishError(f"{path}{'?' + query if query else ''} answered no page, but a page links to it; "
                               "report this as a bug of kb publish")
        if file.endswith(".html"):
            body, links = self.rewrite_html(body, file)
            return file, body, links, b"data-pagefind-body" in body
        if file.endswith(".atom"):
            body = self.rewrite_feed(body)
        return file, body, [], False

    def rewrite_html(self, html: bytes, page_file: str) -> tuple[bytes, list[tuple[str, str]]]:
        """The page with every link to the edition's own files made relative; returns the links
        (path, query) it holds to pages, for the crawl."""
        doc = lxml.html.document_fromstring(html)
        found: list[tuple[str, str]] = []
        for form in doc.iter("form"):
            action = form.get("action", "")
            own = self.own_path(action) if action else None
            if form.get("method", "get").lower() == "get" and own and own[0] == "/search":
                form.set("action", posixpath.relpath("search/index.html", posixpath.dirname(page_file) or "."))
            else:      # a form a server answers: left out (the page reads the same without it)
                form.drop_tree()
        for element, attribute in ((e, a) for e in doc.iter() if isinstance(e.tag, str)
                                   for a in ("href", "src") if e.get(a) is not None):
            url = element.get(attribute)
            own = self.own_path(url)
            if own is not None and own[0] not in ("/search", "/search.atom"):
                found.append(own)
            elif own is not None and own[0] == "/search.atom" and self.feed_file(own[1]):
                found.append(own)
            target = self.link(url, page_file)
            if target is not None:
                element.set(attribute, target)
            elif element.tag == "a":      # the words stay, the link goes
                element.drop_tag()
            else:                         # a <link rel=...>, a script or an image a server gives
                element.drop_tree()
        out = lxml.html.tostring(doc, doctype="<!doctype html>", encoding="utf-8", method="html")
        return out, found

    def rewrite_feed(self, xml: bytes) -> bytes:
        """A feed's links to the edition's pages, absolute at the base URL (or relative to the feed's
        folder when the edition has no base URL)."""
        root = lxml.etree.fromstring(xml)
        for element in root.iter("{http://www.w3.org/2005/Atom}link"):
            own = self.own_path(element.get("href", ""))
            if own is None:
                continue
            if own[0] == "/search.atom":
                target = self.feed_file(own[1])
            elif own[0] == "/search":
                target = None
            else:
                target = self.file_of(*own)
            if target is None:
                element.getparent().remove(element)
            else:
                element.set("href", self.absolute(target))
        return lxml.etree.tostring(root, xml_declaration=True, encoding="utf-8")

    def search_page(self) -> bytes:
        """The edition's search page: the form, the facets and the results filled in by Pagefind."""
        facets = [{"param": f.param, "label": f.label, "vocabulary": f.vocabulary} for f in FACETS if f.indexed]
        with self.app.test_request_context("/search", base_url=f"http://{HOST}"):
            from webapp.kbstore import label
            vocab = get_kb().vocabulary
            labels = {f["param"]: {value: label(f["vocabulary"], value) for value in vocab.values(f["vocabulary"])}
                      for f in facets if f["vocabulary"]}
            labels["country"] = {code: f"{label('country', code)} ({code})" for code in get_kb().term_counts("country")}
            self.app.preprocess_request()
            try:
                html = render_template("search/edition.html", facets=facets, labels=labels)
            finally:
                self.app.do_teardown_request()
        return html.encode()


def publish(settings: Settings, out: Path, *, base_url: str | None = None, zip_path: Path | None = None,
            procs: int | None = None, run_pagefind: bool = True, log=lambda message: None) -> Report:
    """Write the static edition of the current build to `out` (see the module's docstring)."""
    started = time.perf_counter()
    out = _checked_folder(settings, Path(out).resolve())
    edition = Edition(settings, base_url if base_url is not None else settings.base_url)
    report = Report(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _publishing(out):
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.publishing-", dir=out.parent))
            try:
                with edition.app.app_context():
                    _write_pages(edition, staging, report, log, procs)
                report.render_seconds = time.perf_counter() - started
                if run_pagefind and _same_files(staging, out, edition.indexed) and (out / "pagefind").is_dir():
                    shutil.copytree(out / "pagefind", staging / "pagefind", copy_function=_link)   # nothing new to index
                elif run_pagefind:     # (Pagefind names its files differently on each run, even for the same pages)
                    t = time.perf_counter()
                    _pagefind(staging)
                    report.pagefind_seconds = time.perf_counter() - t
                _reuse_unchanged(staging, out, report)
                _swap(staging, out)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        if zip_path is not None:
            report.zip_path = _zip(out, Path(zip_path).resolve())
    except OSError as exc:     # a folder that cannot be written, a full disk: said plainly, the old edition kept
        raise PublishError(f"{exc.filename or out}: {exc.strerror or exc}; the previous edition, if any, is "
                           "unchanged") from None
    finally:
        edition.close()
    report.left_out = dict(sorted(edition.left_out.items(), key=lambda kv: -kv[1]))
    report.seconds = time.perf_counter() - started
    return report


def _default_procs(cases: int) -> int:
    """Worker processes for a large collection (one per core, at most 4; starting them costs about
    2 s); none, rendering in this process, for a small one."""
    return min(4, os.cpu_count() or 1) if cases >= 500 else 1


def _checked_folder(settings: Settings, out: Path) -> Path:
    root = settings.root
    if out == root or root.is_relative_to(out) or out.is_relative_to(root / "case_studies"):
        raise PublishError(f"{out}: an edition needs a folder of its own, not the collection's (try {out / 'edition'})")
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} is a file; name a folder for the edition")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise PublishError(f"{out} holds files that are not an edition's (no {MANIFEST}); name an empty or new folder")
    return out


@contextmanager
def _publishing(out: Path):
    """One publish at a time into `out` (a lock file beside it); what an interrupted one left
    beside it (its half-written folder, a previous edition not yet removed) is cleared first."""
    lock_path = out.with_name(f".{out.name}.lock")
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(f"another kb publish is writing {out}; wait for it to finish") from None
        for stale in out.parent.glob(f".{out.name}.publishing-*"):
            shutil.rmtree(stale, ignore_errors=True)
        retired = sorted(out.parent.glob(f".{out.name}.previous-*"))
        if retired and not out.exists():         # stopped between the two renames: the old edition back
            retired.pop().rename(out)
        for stale in retired:
            shutil.rmtree(stale, ignore_errors=True)
        yield


def _link(source: str, target: str) -> None:
    """A hard link (same inode and time: a sync tool sees the file unchanged), or a copy where the
    file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


MANIFEST = "edition.json"


def _write_pages(edition: Edition, folder: Path, report: Report, log, procs: int | None) -> None:
    """Crawl from the home page, every case and the feeds; write each file. With `procs` > 1 the
    pages are rendered by that many worker processes (each with its own app), this one following
    the links and writing the files."""
    kb = get_kb()
    generation = kb.generation
    cases = kb.cases()
    procs = procs or _default_procs(len(cases))
    seeds = ["/", "/themes", "/regions", "/evidence", "/evidence-map", "/ledger", "/charts", "/verdicts",
             *EXPORTS, *(f"/cases/{c.id}" for c in cases),
             *(f"/search.atom?{kind}={name}" for kind in FEEDS for name in kb.term_counts(kind))]
    references = _formatted_references(kb, procs)
    prime("reference", references)
    queue: deque[tuple[str, str, str]] = deque()     # (file, path, query), each file once
    queued: set[str] = set()
    written: list[str] = []

    def follow(path: str, query: str) -> None:
        file = edition.feed_file(query) if path == "/search.atom" else edition.file_of(path, query)
        if file is not None and file not in queued:
            if len(queued) >= MAX_PAGES:
                raise PublishError(f"more than {MAX_PAGES} pages: the crawl is not ending (a link that makes new pages?)")
            queued.add(file)
            queue.append((file, path, query))

    def done(file: str, body: bytes, links: list[tuple[str, str]], indexed: bool) -> None:
        for link in links:
            follow(*link)
        if indexed:
            edition.indexed.add(file)
        report.pages += file.endswith(".html")
        _put(folder / file, body)
        written.append(file)
        if len(written) % 1000 == 0:
            log(f"{len(written)} files written, {len(queue)} waiting")

    for seed in seeds:
        path, _, query = seed.partition("?")
        follow(path, query)
    search_page, links = edition.rewrite_html(edition.search_page(), "search/index.html")   # its script too
    done("search/index.html", search_page, links, False)
    if procs <= 1:
        while queue:
            done(*edition.render(*queue.popleft()))
    else:
        _render_in_workers(edition, queue, done, procs, references)
    if kb.generation != generation:
        raise PublishError("a build finished while this edition was being written, so its pages are of two builds; "
                           "publish again")
    _bibliography(edition, kb, folder)
    _put(folder / MANIFEST, json.dumps({"generation": generation, "base_url": edition.base_url,
                                        "made_by": "kb publish", "indexed": sorted(edition.indexed)}, indent=1).encode())


CHUNK = 40          # pages a worker renders per task


def _render_in_workers(edition: Edition, queue: deque, done, procs: int, references: dict) -> None:
    """Pages rendered by `procs` spawned processes, a chunk at a time, while this one follows the
    links each chunk brings and submits the next chunks."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    values = edition.settings.as_dict()
    with ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(values, edition.base_url, references)) as pool:
        running: set = set()
        while queue or running:
            while queue and len(running) < 2 * procs:
                chunk = [queue.popleft() for _ in range(min(CHUNK, len(queue)))]
                running.add(pool.submit(_render_chunk, chunk))
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    rendered, left_out = future.result()
                except BrokenProcessPool:
                    raise PublishError("a process rendering pages stopped (out of memory, or killed); "
                                       "publish again, or with --procs 1") from None
                for name, count in left_out.items():
                    edition.left_out[name] = edition.left_out.get(name, 0) + count
                for result in rendered:
                    done(*result)


_worker: Edition | None = None


def _start_worker(values: dict, base_url: str, references: dict) -> None:
    global _worker
    _worker = Edition(Settings.load(values, environ={}), base_url)   # closed when the process ends
    _worker.context = _worker.app.app_context()
    _worker.context.push()
    prime("reference", references)


def _render_chunk(chunk: list[tuple[str, str, str]]) -> tuple[list, dict]:
    assert _worker is not None
    _worker.left_out = {}
    return [_worker.render(*item) for item in chunk], _worker.left_out


REFERENCE_CHUNK = 2000     # sources per pandoc run when formatting every source page's reference


def _formatted_references(kb, procs: int) -> dict[tuple[str, str], str]:
    """Every source's reference in each style, each as if formatted alone (a source page formats
    its one reference by itself: 60 ms a page, 30 s for 500 sources in three styles), many to a
    pandoc run (batch.lua), `procs` runs at a time."""
    from concurrent.futures import ThreadPoolExecutor
    from kb.citations import Document, format_documents
    sources = kb.sources()
    keys = sorted(sources)
    chunks = [(style, keys[start:start + REFERENCE_CHUNK]) for style in STYLES
              for start in range(0, len(keys), REFERENCE_CHUNK)]

    def formatted(chunk):
        style, chosen = chunk
        done = format_documents([Document([sources[key]]) for key in chosen], style, "html")
        return {(key, style): one.entries[0] for key, one in zip(chosen, done) if one.entries}

    found: dict[tuple[str, str], str] = {}
    with ThreadPoolExecutor(max(1, procs)) as pool:     # each run is a pandoc process of its own
        for part in pool.map(formatted, chunks):
            found.update(part)
    return found


def _bibliography(edition: Edition, kb, folder: Path) -> None:
    """Every source the published case studies cite, and the case studies themselves, in each format."""
    cases = kb.full_cases()
    keys = sorted({key for case in cases for key in case.cited_keys()})
    sources = list(kb.sources(keys).values())
    for suffix, output_format in BIBLIOGRAPHY.items():
        _put(folder / "exports" / f"sources.{suffix}", export(output_format, sources, [], edition.base_url).encode())
        _put(folder / "exports" / f"case-studies.{suffix}", export(output_format, [], cases, edition.base_url).encode())


def _put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _pagefind(folder: Path) -> None:
    """Pagefind's index of the case pages (those marked data-pagefind-body), in folder/pagefind."""
    command = [sys.executable, "-m", "pagefind", "--site", str(folder), "--output-subdir", "pagefind",
               "--keep-index-url", "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PublishError(f"Pagefind could not index the edition: {exc}") from None
    if done.returncode != 0:
        raise PublishError(f"Pagefind could not index the edition (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-2000:]}")


def _same_files(staging: Path, out: Path, names: set[str]) -> bool:
    """Whether the previous edition has exactly these pages indexed, with the same bytes."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return False
    try:
        before = set(json.loads(manifest.read_text(encoding="utf-8")).get("indexed", []))
    except ValueError:
        return False
    return before == names and all((out / name).is_file() and (out / name).read_bytes() == (staging / name).read_bytes()
                                   for name in names)


def _reuse_unchanged(staging: Path, out: Path, report: Report) -> None:
    """Each new file with the same bytes as the previous edition's becomes a hard link to it."""
    new = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
    old = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} if out.is_dir() else set()
    for name in sorted(new):
        path = staging / name
        size = path.stat().st_size
        report.files += 1
        report.bytes += size
        previous = out / name
        if name in old and name != MANIFEST and previous.stat().st_size == size and \
                previous.read_bytes() == path.read_bytes():
            path.unlink()
            _link(str(previous), str(path))
            report.unchanged += 1
        else:
            report.written += 1
    report.removed = len(old - new)


def _swap(staging: Path, out: Path) -> None:
    """The new edition takes the old one's place: two renames (the old one is removed after)."""
    if not out.exists():
        staging.rename(out)
        return
    retired = out.with_name(f".{out.name}.previous-{os.getpid()}")
    out.rename(retired)
    try:
        staging.rename(out)
    except OSError:
        retired.rename(out)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _zip(folder: Path, zip_path: Path) -> Path:
    """The edition as one zip (its files under one folder named as the edition), written whole."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{zip_path.name}.", dir=zip_path.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
        os.replace(temporary, zip_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return zip_path
