"""Names the PostgreSQL backend shares between writing and reading (the tables themselves are
made by migration 0011)."""
from __future__ import annotations

from ...facets import FACETS

SCHEMA_VERSION = "pg2"   # bump on any change to the rows or vectors: the next build re-indexes everything
TEXT_CONFIG = "kb_english"   # unaccent, then English stemming and stop words
WORDS_CONFIG = "kb_words"    # unaccent, words kept as written (for "did you mean")

# `field:value` fields, kept as `field:value` keys (lower case) in one array
KEYWORD_FIELDS = ("tags", "indicators", "years", "status", "updated",
                  *(facet.name for facet in FACETS if facet.indexed))
# text fields a query may name -> (the vector column, the weight label it is restricted to)
TEXT_FIELDS = {"text": ("tsv", ""), "title": ("tsv", "A"), "summary": ("tsv", "B"),
               "sources": ("tsv_sources", ""), "country_name": ("tsv_countries", "")}
FACET_SEPARATOR = "\x1f"
START, STOP = "\ue000", "\ue001"   # private-use characters marking a snippet's matches
MARKS = str.maketrans({START: " ", STOP: " ", "\x00": " "})
