"""The read API: the one front door to a built knowledge base. The web, the CLI and any later
edition read cases, evidence, sources, vocabulary, facets, search, related cases, stats and the
reviews' public view through `KnowledgeBase`, and nothing below it.

One object per process (the CLI, or one per web worker). It notices a newer build (the database
names a new index generation) and reopens the index, so a running server needs no restart.

Connections: inside `with session():` (a web request, a CLI command) everything uses one
database connection, opened when first needed and closed at the end; `kb.db` is that connection
(or the engine outside a session) and is what callers hand to the reviews package.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from . import facets, search, storage
from .errors import Unavailable
from .model import Case, Source
from .reviews.views import public_view, review_state_by_case
from .settings import Settings
from .storage import catalog, pages
from .vocabulary import Vocabulary, load_vocabulary

SORTS = facets.SORTS


class _Session:
    """One connection per engine, opened on first use; the generation read once."""

    def __init__(self):
        self.connections: dict[int, Connection] = {}
        self.generations: dict[int, str] = {}

    def connection(self, engine: Engine) -> Connection:
        conn = self.connections.get(id(engine))
        if conn is None:
            conn = self.connections[id(engine)] = engine.connect()
            conn.info["shared"] = True   # kb.storage.writing commits on it (see there)
        return conn

    def close(self) -> None:
        for conn in self.connections.values():
            try:
                if conn.in_transaction():
                    conn.rollback()   # reads only: every write committed in its own block
            finally:
                conn.close()
        self.connections.clear()


_current: ContextVar[_Session | None] = ContextVar("kb_session", default=None)


@contextmanager
def session() -> Iterator[None]:
    """Everything inside shares one database connection (per knowledge base)."""
    opened = _Session()
    token = _current.set(opened)
    try:
        yield
    finally:
        _current.reset(token)
        opened.close()


class KnowledgeBase:
    def __init__(self, settings: Settings | Path | str, data: Path | str | None = None):
        self.settings = settings if isinstance(settings, Settings) else Settings.for_root(settings, data)
        self.root = self.settings.root
        self.data_dir = self.settings.data_dir
        self.engine = storage.open_database(self.settings)
        self.backend = search.backend(self.settings)
        self._index: search.Searcher | None = None
        self._generation = ""
        self._vocabulary: Vocabulary | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self.engine.dispose()

    # --- the connection ---------------------------------------------------------------------------

    @property
    def db(self) -> Engine | Connection:
        """The current session's connection, or the engine outside one."""
        current = _current.get()
        return current.connection(self.engine) if current is not None else self.engine

    @property
    def generation(self) -> str:
        """The current build's index generation (read once per session)."""
        current = _current.get()
        if current is None:
            return storage.get_meta(self.engine, "index_generation")
        if id(self.engine) not in current.generations:
            current.generations[id(self.engine)] = storage.get_meta(self.db, "index_generation")
        return current.generations[id(self.engine)]

    # --- search -----------------------------------------------------------------------------------

    @property
    def index(self) -> search.Searcher:
        generation = self.generation
        if not generation:
            raise Unavailable(f"no build found in {self.data_dir}; run `kb build` first", storage.NOT_BUILT)
        if storage.get_meta(self.db, "index_schema") != self.backend.schema_version:
            raise Unavailable(f"the search index in {self.data_dir} was made by another version of kb; run `kb build`",
                              "the knowledge base is being upgraded; its operator must run `kb build`")
        with self._lock:
            if generation != self._generation or self._index is None:
                old = self._index
                self._index = self.backend.open(generation)
                self._generation = generation
                if old is not None:
                    old.close()
            return self._index

    def search(self, query: str, **options) -> search.SearchResult:
        return self.index.search(query, **options)

    def related(self, case_id: str, limit: int = 5, drafts: bool = False) -> list[search.Hit]:
        return self.index.more_like_this(case_id, limit=limit, drafts=drafts)

    # --- cases, sources, terms --------------------------------------------------------------------

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary(self.root)
        return self._vocabulary

    def case(self, case_id: str, drafts: bool = False) -> Case | None:
        return catalog.case(self.db, case_id, drafts)

    def cases(self, **options) -> list[catalog.CaseSummary]:
        """Summaries: `drafts`, `kind`/`name` (cases with a term), `ids`, `order`, `limit`."""
        return catalog.cases(self.db, **options)

    def full_cases(self, ids: list[str] | None = None, drafts: bool = False) -> list[Case]:
        """Whole cases (body and evidence), in title order or in the order of `ids`."""
        return catalog.full_cases(self.db, ids, drafts)

    def term_counts(self, kind: str, drafts: bool = False) -> dict[str, int]:
        return catalog.term_counts(self.db, kind, drafts)

    def sources(self, keys: list[str] | None = None) -> dict[str, Source]:
        return catalog.sources(self.db, keys)

    def citing(self, key: str, drafts: bool = False) -> list[catalog.Citing]:
        return catalog.citing(self.db, key, drafts)

    def evidence_map(self, drafts: bool = False) -> dict[tuple[str, str], catalog.MapCell]:
        return catalog.evidence_map(self.db, drafts)

    def reconciled_by_cell(self, drafts: bool = False) -> dict[tuple[str, str], list[int]]:
        return catalog.reconciled_by_cell(self.db, self.public_reviews(), drafts)

    def case_page(self, case_id: str, style: str, base_url: str, drafts: bool = False) -> tuple[Case, dict] | None:
        """(case, rendered parts with related cases). Rendered by the build and shared; rendered
        here and kept when missing. Pages that may show drafts (to reviewers) are not shared."""
        case = self.case(case_id, drafts)
        if case is None:
            return None
        parts = None if drafts else pages.stored_page(self.db, case, style)
        if parts is None:
            parts = pages.render_case(self.db, case, style)
            if not drafts:
                pages.store(self.db, case, style, parts)
        return case, {**pages.with_base_url(parts, base_url), "related": self._related_parts(case_id, drafts)}

    def _related_parts(self, case_id: str, drafts: bool) -> list[dict]:
        """Related cases as page data: shared by every worker for the current generation (about
        25 ms of Whoosh's more-like-this at 10,000 cases, paid once per case and build)."""
        if drafts:
            return [vars(hit) for hit in self.related(case_id, drafts=True)]
        stored = pages.stored_related(self.db, self.generation, case_id)
        if stored is None:
            stored = [vars(hit) for hit in self.related(case_id)]
            pages.store_related(self.db, self.generation, case_id, stored)
        return stored

    # --- reviews' public view ---------------------------------------------------------------------

    def public_reviews(self, case_id: str | None = None) -> dict:
        """Reconciled grades readers may see (kb.reviews.views.public_view)."""
        return public_view(self.db, case_id)

    def review_states(self, public: bool = True) -> dict[str, str]:
        return review_state_by_case(self.db, public=public)

    # --- counts -----------------------------------------------------------------------------------

    def stats(self) -> dict:
        T = storage
        with storage.reading(self.db) as conn:
            by_status = dict(conn.execute(select(T.cases.c.status, func.count()).group_by(T.cases.c.status)).all())

            def terms(kind):
                rows = conn.execute(select(T.case_terms.c.name, func.count()).where(T.case_terms.c.kind == kind)
                                    .group_by(T.case_terms.c.name).order_by(func.count().desc(), T.case_terms.c.name))
                return dict(rows.all())
            n_sources = conn.execute(select(func.count()).select_from(T.sources)).scalar()
            cited = conn.execute(select(func.count(T.citations.c.source_key.distinct()))).scalar()
            n_evidence = conn.execute(select(func.count()).select_from(T.evidence_items)).scalar()
            n_citations = conn.execute(select(func.count()).select_from(T.citations)).scalar()
            theme_counts, country_counts = terms("theme"), terms("country")
            built_at = storage.get_meta(conn, "built_at")
        total = sum(by_status.values())
        return {
            "cases": total, "by_status": by_status, "themes": theme_counts, "countries": country_counts,
            "evidence_items": n_evidence, "citations": n_citations, "sources": n_sources,
            "sources_cited": cited, "citation_coverage": round(cited / n_sources, 3) if n_sources else 0.0,
            "built_at": built_at,
        }
