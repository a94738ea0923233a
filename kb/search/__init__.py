"""Full-text search behind one protocol, so that the build, the read API and the CLI never know
which engine answers or how it keeps its files. `backend(settings)` returns the engine the
`SEARCH_BACKEND` setting names; Whoosh (kb/search/whoosh/) is the one shipped.

A backend keeps index *generations*: a build writes a new one beside the current one (from
scratch, or from the current one plus changes), the database then names it current, and readers
open the generation the database names, so nobody ever sees a half-written index.

To add a backend: a class with the methods of `Backend` (and an opened generation with those of
`Searcher`), named in BACKENDS; it receives `IndexDoc`s and answers with `SearchResult`s and `Hit`s
(kb/search/results.py), and takes the sort names of kb.facets.SORTS and the facets of
kb.facets.INDEX_FACETS.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Iterable, Protocol

from .results import Hit, IndexDoc, SearchResult

if TYPE_CHECKING:
    from ..settings import Settings

BACKENDS = {"whoosh": "kb.search.whoosh:WhooshBackend"}


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
    # every field a query may name -> (the names it answers to, what it holds), for the query help
    query_fields: dict[str, tuple[tuple[str, ...], str]]

    def build_generation(self, generation: str, docs: list[IndexDoc], *, base: str | None = None,
                         removed: Iterable[str] = (), procs: int = 1) -> None: ...

    def has_generation(self, generation: str) -> bool: ...

    def open(self, generation: str) -> Searcher: ...

    def drop(self, generation: str) -> None: ...

    def remove_stale(self, keep: set[str]) -> None: ...


def backend(settings: "Settings") -> Backend:
    module, _, name = BACKENDS[settings.SEARCH_BACKEND].partition(":")
    return getattr(importlib.import_module(module), name)(settings)


__all__ = ["BACKENDS", "Backend", "Hit", "IndexDoc", "SearchResult", "Searcher", "backend"]
