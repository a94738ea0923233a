"""The Whoosh backend: each generation is a folder `<data>/index/<generation>/` holding a Whoosh
index and `facets.json` (each document's facet values, for counting). Only this package knows
Whoosh's formats and that layout."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ...errors import Unavailable
from ..results import IndexDoc
from .reader import Index
from .schema import QUERY_FIELDS, SCHEMA_VERSION
from .writer import FACETS_FILE, build_generation, remove_stale

if TYPE_CHECKING:
    from ...settings import Settings

INDEX_DIR = "index"


class WhooshBackend:
    schema_version = SCHEMA_VERSION
    query_fields = QUERY_FIELDS
    in_database = False

    def __init__(self, settings: "Settings", bind=None):
        self.root: Path = settings.data_dir / INDEX_DIR

    def build_generation(self, generation: str, docs: list[IndexDoc], *, base: str | None = None,
                         removed: Iterable[str] = (), procs: int = 1, conn=None) -> None:
        build_generation(self.root, generation, docs, base=base, removed=removed, procs=procs)

    def has_generation(self, generation: str) -> bool:
        return bool(generation) and (self.root / generation / FACETS_FILE).exists()

    def open(self, generation: str) -> Index:
        try:
            return Index(self.root / generation)
        except Exception as exc:  # Whoosh raises assorted errors for a missing or damaged index
            raise Unavailable(f"the search index {self.root / generation} cannot be read "
                              f"({type(exc).__name__}: {exc}); run `kb build --full`") from None

    def drop(self, generation: str) -> None:
        shutil.rmtree(self.root / generation, ignore_errors=True)

    def remove_stale(self, keep: set[str]) -> None:
        remove_stale(self.root, keep)
