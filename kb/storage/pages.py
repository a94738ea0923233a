"""Case pages rendered by the build and shared by every web worker.

Formatting a case's references and citations with citeproc-py is most of the cost of a case page
(about 25 of 38 ms), so the rendered parts are kept in the `rendered` table, keyed by build
generation, case and style. `kb build` renders the published cases that changed, in every style,
in worker processes (the `build.committed` hook); the pages of unchanged cases move to the new
generation with the build (`build._carry_pages`), and a bibliography change renders all again.
A page the table lacks (a build made before this, a page of a style added later) is rendered by
the first request that needs it and kept; `kb render` fills the table by hand. Related cases
depend on the whole index, so they are not stored: the read API adds them per view.
"""
from __future__ import annotations

import html
import multiprocessing
import os
import time

from sqlalchemy import and_, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .. import hooks, storage
from ..citations.exports import case_to_csl, source_to_csl
from ..citations.styles import STYLES, Formatter
from ..content.body import render_body
from ..model import Case
from ..settings import Settings
from . import catalog

POOL_FROM = 50   # pages: fewer are rendered in the build's own process


BASE = "https://base.invalid"   # the public address, put in when a page is shown (with_base_url)


def render_case(bind: Engine | Connection, case: Case, style: str) -> dict:
    """The costly parts of a case page, as plain data (JSON-safe). The case's own citation holds
    BASE for the public address, so a stored page serves any BASE_URL."""
    sources = catalog.sources(bind, case.cited_keys())
    formatter = Formatter([source_to_csl(s) for s in sources.values()], style, "html")
    cited: dict[tuple, str] = {}   # a body cites the same works again and again: format each once

    def cite(refs) -> str:
        key = tuple((r.key, r.locator, r.prefix) for r in refs)
        if key not in cited:
            cited[key] = formatter.cite(list(key))
        return cited[key]

    body = render_body(case.body, cite)
    return {
        "body": body.html, "toc": [list(entry) for entry in body.toc],
        "evidence_citations": [formatter.cite([(r.key, r.locator) for r in item.citations]) for item in case.evidence],
        "self_citation": Formatter([case_to_csl(case, BASE)], style, "html").references()[0],
        "references": [list(pair) for pair in formatter.references_by_key()],
    }


def with_base_url(parts: dict, base_url: str) -> dict:
    """The parts as shown at `base_url` (an operator's setting, escaped like any text)."""
    return {**parts, "self_citation": parts["self_citation"].replace(BASE, html.escape(base_url.rstrip("/")))}


def stored_page(bind: Engine | Connection, generation: str, case_id: str, style: str) -> dict | None:
    """The parts the table holds for this generation, if any."""
    table = storage.rendered
    with storage.reading(bind) as conn:
        stored = conn.execute(select(table.c.data).where(and_(
            table.c.generation == generation, table.c.case_id == case_id, table.c.style == style))).scalar()
    return stored


def store(bind: Engine | Connection, generation: str, case_id: str, style: str, parts: dict) -> None:
    try:
        with storage.writing(bind) as conn:
            conn.execute(insert(storage.rendered).values(generation=generation, case_id=case_id, style=style, data=parts))
    except IntegrityError:
        pass  # another worker stored the same page first


def render_missing(settings: Settings, styles: tuple[str, ...] = tuple(STYLES), procs: int | None = None) -> tuple[int, float]:
    """Render every published case of the current build that the table lacks, in each style:
    (pages rendered, seconds). Used by the build (for the cases it changed) and by `kb render`."""
    started = time.perf_counter()
    engine = storage.open_database(settings)
    try:
        with engine.connect() as conn:
            generation = storage.get_meta(conn, "index_generation")
            table = storage.rendered
            done = set(conn.execute(select(table.c.case_id, table.c.style).where(table.c.generation == generation)).all())
            published = [item.id for item in catalog.cases(conn)]
    finally:
        engine.dispose()
    todo = [(case_id, style) for style in styles for case_id in published if (case_id, style) not in done]
    workers = min(procs or os.cpu_count() or 1, 4)
    chunks = [todo[i::workers] for i in range(workers) if todo[i::workers]]
    args = [(settings, generation, chunk) for chunk in chunks]
    if workers > 1 and len(todo) >= POOL_FROM:
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            pool.starmap(_render_chunk, args)
    else:
        for arg in args:
            _render_chunk(*arg)
    return len(todo), time.perf_counter() - started


def _render_chunk(settings: Settings, generation: str, pages: list[tuple[str, str]]) -> None:
    """One worker's pages, written in one transaction (a page already there is left alone)."""
    engine = storage.make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows, cases = [], {}
            for case_id, style in pages:
                case = cases.get(case_id) or catalog.case(conn, case_id)
                if case is None:
                    continue
                cases[case_id] = case
                rows.append({"generation": generation, "case_id": case_id, "style": style,
                             "data": render_case(conn, case, style)})
            conn.commit()
            with conn.begin():
                for start in range(0, len(rows), 500):
                    conn.execute(_insert_new(conn), rows[start:start + 500])
    finally:
        engine.dispose()


def _insert_new(conn: Connection):
    """INSERT that leaves a page another process stored first (SQLite and PostgreSQL alike)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(storage.rendered).on_conflict_do_nothing()


@hooks.subscribe("build.committed")
def after_build(event: hooks.BuildEvent) -> None:
    """Render the pages the build changed (every style), so first views are as fast as later ones."""
    if not event.noop:
        event.results["pages"] = render_missing(event.settings, procs=event.procs)[0]
