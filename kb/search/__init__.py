"""Full-text search. Whoosh lives only in this package so that it can be swapped for another engine.

An index is a generation directory under `<data>/index/`; a build writes a new generation (from
scratch, or hard links of the current one plus an incremental commit) and the database records
which generation is current, so readers never see a half-written index.
"""
from .reader import Hit, Index, SearchResult
from .schema import FACETS, SCHEMA_VERSION, IndexDoc
from .writer import FACETS_FILE, build_generation, remove_stale

__all__ = ["FACETS", "SCHEMA_VERSION", "FACETS_FILE", "Hit", "Index", "IndexDoc", "SearchResult", "build_generation", "remove_stale"]
