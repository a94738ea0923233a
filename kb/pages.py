"""Case pages rendered once per build and shared by every web worker.

Formatting a case's references and citations with citeproc-py is most of the cost of a case page
(about 25 of 38 ms), so the rendered parts are kept in the `rendered` table, keyed by build
generation, case and style: the first worker to show a page stores it, the others read it, and
`kb render` can fill the table for every case right after a build. A build removes the rows of
earlier generations.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from sqlalchemy import and_, insert, select
from sqlalchemy.exc import IntegrityError

from . import catalog, storage
from .exporting import case_to_csl, source_to_csl
from .formatting import Formatter
from .model import Case
from .render import render_body


def render_case(kb, case: Case, style: str, base_url: str, drafts: bool = False) -> dict:
    """The costly parts of a case page, as plain data (JSON-safe)."""
    sources = catalog.sources(kb.engine, case.cited_keys())
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
        "self_citation": Formatter([case_to_csl(case, base_url)], style, "html").references()[0],
        "references": [list(pair) for pair in formatter.references_by_key()],
        "related": [vars(hit) for hit in kb.index.more_like_this(case.id, limit=5, drafts=drafts)],
    }


def case_page(kb, case_id: str, style: str, base_url: str, drafts: bool = False) -> tuple[Case, dict] | None:
    """(case, rendered parts), from the shared table when it has them. Pages that may show drafts
    (to reviewers) are rendered for the request and not shared."""
    case = catalog.case(kb.engine, case_id, drafts=drafts)
    if case is None:
        return None
    if drafts:
        return case, render_case(kb, case, style, base_url, drafts=True)
    generation = kb.generation
    table = storage.rendered
    with kb.engine.connect() as conn:
        stored = conn.execute(select(table.c.data).where(and_(
            table.c.generation == generation, table.c.case_id == case_id, table.c.style == style))).scalar()
    if stored is not None:
        return case, stored
    parts = render_case(kb, case, style, base_url)
    _store(kb.engine, generation, case_id, style, parts)
    return case, parts


def _store(engine, generation: str, case_id: str, style: str, parts: dict) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(insert(storage.rendered).values(generation=generation, case_id=case_id, style=style, data=parts))
    except IntegrityError:
        pass  # another worker stored the same page first: theirs is identical


def render_all(root: Path, data: str | None, style: str, base_url: str, procs: int | None = None) -> tuple[int, float]:
    """Render every published case not yet in the table for the current build: (pages, seconds)."""
    from .knowledgebase import KnowledgeBase
    started = time.perf_counter()
    kb = KnowledgeBase(root, data)
    generation = kb.generation
    table = storage.rendered
    with kb.engine.connect() as conn:
        done = set(conn.execute(select(table.c.case_id).where(and_(table.c.generation == generation, table.c.style == style))).scalars())
    todo = [item.id for item in catalog.cases(kb.engine) if item.id not in done]
    kb.close()
    workers = procs or min(os.cpu_count() or 1, 4)
    args = [(str(root), data, style, base_url, chunk) for chunk in _chunks(todo, workers)]
    if workers > 1 and len(todo) > 50:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.starmap(_render_chunk, args)
    else:
        for arg in args:
            _render_chunk(*arg)
    return len(todo), time.perf_counter() - started


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i::n] for i in range(n) if items[i::n]]


def _render_chunk(root: str, data: str | None, style: str, base_url: str, case_ids: list[str]) -> None:
    from .knowledgebase import KnowledgeBase
    kb = KnowledgeBase(Path(root), data)
    try:
        for case_id in case_ids:
            case_page(kb, case_id, style, base_url)
    finally:
        kb.close()
