"""Read access to a built knowledge base: the database plus the current search index.

One object per process (the CLI, or one per web worker). It notices a newer build (the database
names a new index generation) and reopens the index, so a running server needs no restart.
"""
from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from . import search, storage
from .build import INDEX_DIR, NOT_BUILT, data_dir_for, open_engine
from .errors import Unavailable


class KnowledgeBase:
    def __init__(self, root: Path, data: Path | str | None = None):
        self.root = Path(root).resolve()
        self.data_dir = data_dir_for(self.root, data)
        self.engine = open_engine(self.data_dir, create=False)
        self._index: search.Index | None = None
        self._generation = ""
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self.engine.dispose()

    @property
    def generation(self) -> str:
        """The current build's index generation: changes with every build that changed something."""
        return storage.get_meta(self.engine, "index_generation")

    @property
    def index(self) -> search.Index:
        generation = storage.get_meta(self.engine, "index_generation")
        if not generation:
            raise Unavailable(f"no build found in {self.data_dir}; run `kb build` first", NOT_BUILT)
        if storage.get_meta(self.engine, "index_schema") != search.SCHEMA_VERSION:
            raise Unavailable(f"the search index in {self.data_dir} was made by another version of kb; run `kb build`",
                              "the knowledge base is being upgraded; its operator must run `kb build`")
        with self._lock:
            if generation != self._generation or self._index is None:
                old = self._index
                try:
                    self._index = search.Index(self.data_dir / INDEX_DIR / generation)
                except Exception as exc:  # Whoosh raises assorted errors for a missing or damaged index
                    raise Unavailable(f"the search index {self.data_dir / INDEX_DIR / generation} cannot be read "
                                      f"({type(exc).__name__}: {exc}); run `kb build --full`") from None
                self._generation = generation
                if old is not None:
                    old.close()
            return self._index

    def search(self, query: str, **kwargs) -> search.SearchResult:
        return self.index.search(query, **kwargs)

    def stats(self) -> dict:
        with self.engine.connect() as conn:
            by_status = dict(conn.execute(select(storage.cases.c.status, func.count()).group_by(storage.cases.c.status)).all())
            def terms(kind):
                rows = conn.execute(select(storage.case_terms.c.name, func.count()).where(storage.case_terms.c.kind == kind)
                                    .group_by(storage.case_terms.c.name).order_by(func.count().desc(), storage.case_terms.c.name))
                return dict(rows.all())
            n_sources = conn.execute(select(func.count()).select_from(storage.sources)).scalar()
            cited = conn.execute(select(func.count(storage.citations.c.source_key.distinct()))).scalar()
            n_evidence = conn.execute(select(func.count()).select_from(storage.evidence_items)).scalar()
            n_citations = conn.execute(select(func.count()).select_from(storage.citations)).scalar()
            theme_counts, country_counts = terms("theme"), terms("country")
        total = sum(by_status.values())
        return {
            "cases": total, "by_status": by_status, "themes": theme_counts, "countries": country_counts,
            "evidence_items": n_evidence, "citations": n_citations, "sources": n_sources,
            "sources_cited": cited, "citation_coverage": round(cited / n_sources, 3) if n_sources else 0.0,
            "built_at": storage.get_meta(self.engine, "built_at"),
        }
