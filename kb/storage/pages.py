"""Case pages rendered by the build and shared by every web worker.

Formatting a case's references and citations (pandoc's citeproc, about 0.2 s a run) is most of the
cost of a case page, so the rendered parts are kept in the `rendered` table, keyed by case, style
and the version of the case they were made from (`version`: the case file's hash and RENDERER).
`kb build` renders the published cases that changed, in every style, in worker processes (the
`build.committed` hook); in its transaction it drops the pages of cases it rewrote, and every page
when the bibliography changed, so pages of unchanged cases stay as they are.
A page the table lacks (a build made before this, a page of a style added later) is rendered by
the first request that needs it and kept; `kb render` fills the table by hand. Related cases
depend on the whole index, so they are kept per generation in the `related` table: written with
the pages rendered here, and by the first view of any other case.
"""
from __future__ import annotations

import html
import multiprocessing
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Engine

from .. import hooks, search, storage
from ..citations.exports import case_key, case_to_csl
from ..citations.keys import CitationSyntaxError, parse_cite_field
from ..citations.styles import STYLES, Document, format_documents
from ..content.body import render_body
from ..model import Case
from ..related import related as find_related
from ..settings import Settings
from ..vocabulary import load_vocabulary
from . import catalog

POOL_FROM = 600  # pages: fewer are rendered in the build's own process (pandoc works in its own anyway)
BATCH = 300      # case pages (in any style) formatted in one pandoc run
PAIR_FROM = 10   # pages: more are formatted by two pandoc runs at once


BASE = "https://base.invalid"   # the public address, put in when a page is shown (with_base_url)
RENDERER = "2"                  # bump when rendering changes: every page is then rendered again


def version(case: Case) -> str:
    """What a stored page was made from: the case's content hash and the renderer's version."""
    return f"{RENDERER}:{case.sha256}"


def render_case(bind: Engine | Connection, case: Case, style: str) -> dict:
    """The costly parts of a case page, as plain data (JSON-safe). The case's own citation holds
    BASE for the public address, so a stored page serves any BASE_URL."""
    return render_cases(bind, [(case, style)])[0]


def render_cases(bind: Engine | Connection, pages: list[tuple[Case, str]]) -> list[dict]:
    """Many case pages, each in its style, formatted in one pandoc run (it costs 0.2 s to start)."""
    sources = catalog.sources(bind, list(dict.fromkeys(key for case, _ in pages for key in case.cited_keys())))
    documents, bodies = [], []
    for case, style in pages:
        groups: dict[tuple, int] = {}   # a body cites the same works again and again: format each once

        def collect(refs, groups=groups) -> str:
            groups.setdefault(tuple(refs), len(groups))
            return ""

        render_body(case.body, collect)
        bodies.append(groups)
        known = [sources[key] for key in case.cited_keys() if key in sources]
        evidence = [[ref for ref in item.citations if ref.key in sources] for item in case.evidence]
        # the case study itself is one more entry of its own page's list, taken out below: one
        # citeproc run per page instead of two (each run parses the style again)
        documents.append(Document([*known, case_to_csl(case, BASE)], [list(group) for group in groups] + evidence, style))
    rendered = []
    for (case, _), mine, groups in zip(pages, format_documents(documents, output="html"), bodies):
        body = render_body(case.body, lambda refs: mine.citations[groups[tuple(refs)]])
        own = case_key(case)
        rendered.append({
            "body": body.html, "toc": [list(entry) for entry in body.toc],
            "evidence_citations": mine.citations[len(groups):],
            "self_citation": next(entry for key, entry in mine.references if key == own),
            "references": [[key, entry] for key, entry in mine.references if key != own],
        })
    return rendered


def format_cites(bind: Engine | Connection, cites: list[str], style: str) -> list[str]:
    """Evidence items' `cite` fields ("[@key, p. 5]") as formatted in-text citations (HTML)."""
    parsed: list[list | None] = []
    for cite in cites:
        try:
            parsed.append(list(parse_cite_field(cite)))
        except CitationSyntaxError:    # checked by the build; kept readable should one slip through
            parsed.append(None)
    found = catalog.sources(bind, list(dict.fromkeys(ref.key for refs in parsed if refs for ref in refs)))
    known = [[ref for ref in refs if ref.key in found] if refs else [] for refs in parsed]
    documents = [Document([found[key] for key in dict.fromkeys(ref.key for ref in refs)], [refs] if refs else [])
                 for refs in known]
    formatted = format_documents(documents, style, "html")
    return [done.citations[0] if refs else html.escape(cite) for cite, refs, done in zip(cites, known, formatted)]


def with_base_url(parts: dict, base_url: str) -> dict:
    """The parts as shown at `base_url` (an operator's setting, escaped like any text)."""
    return {**parts, "self_citation": parts["self_citation"].replace(BASE, html.escape(base_url.rstrip("/")))}


@contextmanager
def _without_main():
    """Start spawned workers without re-running the caller's script: the workers need only this
    module, and a script calling `build()` without an `if __name__ == "__main__":` guard otherwise
    runs again in every worker, whose failing start the pool answers with a new worker, forever.
    Spawn re-imports `__main__` only when it has a `__file__` or `__spec__` (multiprocessing.spawn)."""
    main = sys.modules.get("__main__")
    saved = dict(main.__dict__) if main is not None else {}
    if main is not None:
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
    try:
        yield
    finally:
        if main is not None:
            for name in ("__file__", "__spec__"):
                if name in saved:
                    main.__dict__[name] = saved[name]


def stored_page(bind: Engine | Connection, case: Case, style: str) -> dict | None:
    """The parts the table holds for this version of the case, if any."""
    table = storage.rendered
    with storage.reading(bind) as conn:
        return conn.execute(select(table.c.data).where(and_(
            table.c.case_id == case.id, table.c.style == style, table.c.version == version(case)))).scalar()


def store(bind: Engine | Connection, case: Case, style: str, parts: dict) -> None:
    """Keep a page (one another worker stored first is left: it is the same)."""
    with storage.writing(bind) as conn:
        conn.execute(_insert_new(conn, storage.rendered).values(case_id=case.id, style=style, version=version(case),
                                                                data=parts))


def render_missing(settings: Settings, styles: tuple[str, ...] = tuple(STYLES), procs: int | None = None,
                   only: list[str] | None = None) -> tuple[int, float]:
    """Render every published case of the current build (or of `only` those ids) that the table
    lacks, in each style: (pages rendered, seconds). Used by the build and by `kb render`."""
    started = time.perf_counter()
    # the build has just upgraded the database; `kb render` must check it is this code's
    engine = storage.make_engine(settings.database_url) if only is not None else storage.open_database(settings)
    try:
        with engine.connect() as conn:
            table, cases = storage.rendered, storage.cases
            done_query = select(table.c.case_id, table.c.style, table.c.version)
            published_query = select(cases.c.id, cases.c.sha256).where(cases.c.status != "draft").order_by(cases.c.title)
            if only is not None:
                done_query = done_query.where(table.c.case_id.in_(only[:500]))
                published_query = published_query.where(cases.c.id.in_(only[:500]))
            done = set(conn.execute(done_query).all())
            published = [(case_id, f"{RENDERER}:{sha}") for case_id, sha in conn.execute(published_query)]
    finally:
        engine.dispose()
    todo = [(case_id, style) for style in styles for case_id, current in published if (case_id, style, current) not in done]
    workers = min(procs or os.cpu_count() or 1, 4)
    chunks = [todo[i::workers] for i in range(workers) if todo[i::workers]]
    args = [(settings, chunk) for chunk in chunks]
    if workers > 1 and len(todo) >= POOL_FROM:
        # spawned, not forked: a child of the build would start with the build's whole heap
        with _without_main(), multiprocessing.get_context("spawn").Pool(len(chunks)) as pool:
            pool.starmap(_render_chunk, args)
    else:
        for arg in args:
            _render_chunk(*arg)
    return len(todo), time.perf_counter() - started


def _render_chunk(settings: Settings, pages: list[tuple[str, str]]) -> None:
    """One worker's pages, and the related cases of their cases for the current generation, written
    in one transaction (what is already there is left alone)."""
    engine = storage.make_engine(settings.database_url)
    searcher = None
    try:
        with engine.connect() as conn:
            generation = storage.get_meta(conn, "index_generation")
            rows, cases, related = [], {}, []
            label = load_vocabulary(settings.root).label
            todo: list[tuple[Case, str]] = []
            for case_id, style in pages:
                case = cases.get(case_id) or catalog.case(conn, case_id)
                if case is None:
                    continue
                if case_id not in cases and generation:
                    searcher = searcher or search.backend(settings, lambda: conn).open(generation)
                    related.append({"generation": generation, "case_id": case_id,
                                    "data": [vars(hit) for hit in find_related(searcher, case_id, label=label)]})
                cases[case_id] = case
                todo.append((case, style))
            # two pandoc runs at once (pandoc is single-threaded), each reading through its own connection
            size = min(BATCH, max(PAIR_FROM, -(-len(todo) // 2)))
            batches = [todo[start:start + size] for start in range(0, len(todo), size)]
            with ThreadPoolExecutor(2) as threads:
                for batch, done in zip(batches, threads.map(lambda batch: render_cases(engine, batch), batches)):
                    rows += [{"case_id": case.id, "style": style, "version": version(case), "data": parts}
                             for (case, style), parts in zip(batch, done)]
            conn.commit()
            with conn.begin():
                for table, chunk in ((storage.rendered, rows), (storage.related, related)):
                    for start in range(0, len(chunk), 500):
                        conn.execute(_insert_new(conn, table), chunk[start:start + 500])
    finally:
        if searcher is not None:
            searcher.close()
        engine.dispose()


def stored_related(bind: Engine | Connection, generation: str, case_id: str) -> list[dict] | None:
    """The related cases kept for this generation (dicts of kb.related.Related's fields); rows
    written before related cases had reasons read with none."""
    table = storage.related
    with storage.reading(bind) as conn:
        found = conn.execute(select(table.c.data).where(and_(table.c.generation == generation,
                                                             table.c.case_id == case_id))).scalar()
    return None if found is None else [{**hit, "reasons": hit.get("reasons") or []} for hit in found]


def store_related(bind: Engine | Connection, generation: str, case_id: str, hits: list[dict]) -> None:
    with storage.writing(bind) as conn:
        conn.execute(_insert_new(conn, storage.related).values(generation=generation, case_id=case_id, data=hits))


def _insert_new(conn: Connection, table):
    """INSERT that leaves a row another process stored first (SQLite and PostgreSQL alike)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing()


@hooks.subscribe("build.committed")
def after_build(event: hooks.BuildEvent) -> None:
    """Render the pages the build changed (every style), so first views are as fast as later ones;
    unless the RENDER_PAGES setting leaves them to their first view."""
    if not event.noop and event.settings.RENDER_PAGES == "build":
        few = not event.full and len(event.changed) <= 500
        event.results["pages"] = render_missing(event.settings, procs=event.procs,
                                                only=event.changed if few else None)[0]
