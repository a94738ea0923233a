"""The index schema: one catch-all `text` field for ranked search, boosted `title` and `summary`,
keyword fields for `field:value` queries and facets, and stored fields for results."""
from __future__ import annotations

from whoosh import fields as wf
from whoosh.analysis import CharsetFilter, StemmingAnalyzer
from whoosh.support.charset import accent_map

from ...facets import FACETS

SCHEMA_VERSION = "7"  # bump on any schema or analyzer change: the next build then re-indexes everything
# A plain word is looked for in `text` only (title and summary are repeated in it as boosts): a
# query on one field lets Whoosh skip blocks of documents that cannot reach the top results, which
# a union over several fields cannot; `title:` and `summary:` stay available as fields.
DEFAULT_FIELDS = ("text",)
# `field:` names a query may use besides the fields' own: each facet's URL parameter, its aliases
ALIASES = {"tags": ["tag"], "years": ["year"], "indicators": ["indicator"], "sources": ["source"],
           **{facet.name: [name for name in (facet.param, *facet.aliases) if name != facet.name]
              for facet in FACETS if facet.indexed}}


def analyzer():
    """English stemming with accent folding: `Zürich` and `zurich` meet, `coffeeshops` finds `coffeeshop`."""
    return StemmingAnalyzer() | CharsetFilter(accent_map)


def schema() -> wf.Schema:
    text = analyzer()
    keyword = dict(commas=True, lowercase=True, scorable=True)
    return wf.Schema(
        id=wf.ID(stored=True, unique=True, sortable=True),
        title=wf.TEXT(analyzer=text, stored=True, spelling=True),
        summary=wf.TEXT(analyzer=text, stored=True, spelling=True),
        # title (x3), summary (x2), body, claims, tags, locality, country names and cited sources:
        text=wf.TEXT(analyzer=text),
        body=wf.STORED(),  # for snippets
        sources=wf.TEXT(analyzer=text), country_name=wf.TEXT(analyzer=text),
        tags=wf.KEYWORD(**keyword), indicators=wf.KEYWORD(**keyword),
        # one keyword field per facet (kb.facets), stored for result lists where the facet says so
        **{facet.name: wf.KEYWORD(stored=facet.stored, **keyword) for facet in FACETS if facet.indexed},
        years=wf.KEYWORD(commas=True), period=wf.STORED(),
        status=wf.ID(),
        period_start=wf.NUMERIC(sortable=True), updated=wf.ID(sortable=True),
    )
