"""Full-text search behind one protocol, so that the build, the read API and the CLI never know
which engine answers or how it keeps its files. `backend(settings, bind)` returns the engine the
`SEARCH` setting names: Whoosh (kb/search/whoosh/, an index folder on one host's disk, the
embedded default) or PostgreSQL (kb/search/postgres/, tables in the database, for teams whose
hosts share only the database).

A backend keeps index *generations*: a build writes a new one, the database then names it current,
and readers open the generation the database names, so nobody ever sees a half-written index.
Whoosh writes its generation in a folder beside the current one before the build's transaction
(from scratch, or from the current one plus changes); a backend `in_database` writes its rows in
the build's own transaction (`build_generation(..., conn=)`), so the commit that names the new
generation is the one that makes its rows visible, and a failed build leaves nothing behind.
`bind` gives such a backend the connection to read with (a request's, a command's, the build's).

To add a backend: a class with the methods of `Backend` (and an opened generation with those of
`Searcher`), named in BACKENDS; it receives `IndexDoc`s and answers with `SearchResult`s and `Hit`s
(kb/search/results.py), and takes the sort names of kb.facets.SORTS and the facets of
kb.facets.INDEX_FACETS.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

from .results import Hit, IndexDoc, SearchResult

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from ..settings import Settings

BACKENDS = {"whoosh": "kb.search.whoosh:WhooshBackend", "postgres": "kb.search.postgres:PostgresBackend"}


class Searcher(Protocol):
    """One opened index generation."""

    def search(self, text: str, *, filters: dict[str, list[str]] | None = None, limit: int = 10, offset: int = 0,
               drafts: bool = False, sort: str = "relevance", only_ids: set[str] | None = None,
               counts: bool = True) -> SearchResult: ...   # counts False: no facet counts (ids and total only)

    def more_like_this(self, case_id: str, limit: int = 5, drafts: bool = False) -> list[Hit]: ...

    def facet_values(self, case_id: str) -> dict[str, list[str]]: ...

    def cases_with(self, facet: str, value: str, drafts: bool = False) -> frozenset[str]: ...

    def hits(self, case_ids: Iterable[str]) -> list[Hit]: ...

    def doc_count(self) -> int: ...

    def close(self) -> None: ...


class Backend(Protocol):
    schema_version: str   # stored by the build; a different one makes the next build re-index everything
    in_database: bool     # written in the build's transaction (conn=) rather than before it
    # every field a query may name -> (the names it answers to, what it holds), for the query help
    query_fields: dict[str, tuple[tuple[str, ...], str]]

    def build_generation(self, generation: str, docs: list[IndexDoc], *, base: str | None = None,
                         removed: Iterable[str] = (), procs: int = 1, conn: "Connection | None" = None) -> None: ...

    def has_generation(self, generation: str) -> bool: ...

    def open(self, generation: str) -> Searcher: ...

    def drop(self, generation: str) -> None: ...

    def remove_stale(self, keep: set[str]) -> None: ...


Bind = Callable[[], "Engine | Connection"]


def backend(settings: "Settings", bind: Bind | None = None) -> Backend:
    """The backend `settings` choose; `bind` returns the connection a backend in the database reads
    and writes with (Whoosh needs none)."""
    module, _, name = BACKENDS[settings.search_backend].partition(":")
    return getattr(importlib.import_module(module), name)(settings, bind)


__all__ = ["BACKENDS", "Backend", "Hit", "IndexDoc", "SearchResult", "Searcher", "backend"]
