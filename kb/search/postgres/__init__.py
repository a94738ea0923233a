"""The PostgreSQL backend: the index is tables in the database itself (migration 0011), written in
the build's own transaction, so every host that shares the database serves the same build the
moment it commits, with nothing on any host's disk. Chosen with `KB_SEARCH=postgres` (or `auto`
on a PostgreSQL database). The query language is the Whoosh backend's (kb/search/postgres/query.py
compiles it); ranking is PostgreSQL's cover density over a weighted vector (docs/architecture.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from sqlalchemy import text

from ...errors import KbError
from ..results import IndexDoc
from ..whoosh.schema import QUERY_FIELDS
from .reader import Index, connection
from .schema import SCHEMA_VERSION
from .writer import write

if TYPE_CHECKING:
    from ...settings import Settings


class PostgresBackend:
    schema_version = SCHEMA_VERSION
    query_fields = QUERY_FIELDS
    in_database = True

    def __init__(self, settings: "Settings", bind=None):
        self._bind = bind

    def build_generation(self, generation: str, docs: list[IndexDoc], *, base: str | None = None,
                         removed: Iterable[str] = (), procs: int = 1, conn=None) -> None:
        if conn is None:
            raise KbError("the PostgreSQL search index is written in the build's transaction: pass its connection")
        write(conn, generation, docs, full=base is None, removed=removed)

    def has_generation(self, generation: str) -> bool:
        if not generation or self._bind is None:
            return False
        with connection(self._bind) as conn:
            return conn.execute(text("SELECT generation FROM search_state")).scalar() == generation

    def open(self, generation: str) -> Index:
        if self._bind is None:
            raise KbError("the PostgreSQL search index is read through a connection: pass `bind`")
        return Index(self._bind, generation)

    def drop(self, generation: str) -> None:
        """Nothing to do: a failed build's rows go with its transaction."""

    def remove_stale(self, keep: set[str]) -> None:
        """Nothing to do: the rows are replaced in place, in the build's transaction."""
