"""The index schema: one catch-all `text` field for ranked search, boosted `title` and `summary`,
keyword fields for `field:value` queries and facets, and stored fields for results."""
from __future__ import annotations

import re
import unicodedata

from whoosh import fields as wf
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter import stem as porter
from whoosh.support.charset import accent_map

from ...facets import FACETS
from ..variants import american

SCHEMA_VERSION = "9"  # bump on any schema or analyzer change: the next build then re-indexes everything
# A plain word is looked for in `text` only (title and summary are repeated in it as boosts): a
# query on one field lets Whoosh skip blocks of documents that cannot reach the top results, which
# a union over several fields cannot; `title:` and `summary:` stay available as fields.
DEFAULT_FIELDS = ("text",)
# `field:` names a query may use besides the fields' own: each facet's URL parameter, its aliases
ALIASES = {"tags": ["tag"], "years": ["year"], "indicators": ["indicator"], "sources": ["source"],
           **{facet.name: [name for name in (facet.param, *facet.aliases) if name != facet.name]
              for facet in FACETS if facet.indexed}}
# Every field a query may name, with the names it answers to and what it holds (the query-help
# page lists them): the text fields here, then one per facet (kb.facets).
QUERY_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    name: ((name, *ALIASES.get(name, ())), help) for name, help in (
        ("title", "words of the title"), ("summary", "words of the summary"),
        ("sources", "authors, editors and titles of the sources a case cites"),
        ("country_name", "English names of the case's countries"), ("tags", "a tag of the case, e.g. overdose"),
        ("indicators", "an indicator the case reports, e.g. arrests"),
        ("years", "a year of the case's period, e.g. 1996, or a range: [1990 TO 1995]"),
        *((facet.name, facet.help) for facet in FACETS if facet.indexed))}


# Whoosh's word pattern (with `*` for wildcards) plus combining accents, so that a word written
# with one (`Ine` + U+0302 + `s`) stays one word instead of splitting at the accent.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
WORD_PATTERN = rf"[\w\*{_MARKS}]+(\.?[\w\*{_MARKS}]+)*"
_LIGATURES = str.maketrans({"æ": "ae", "œ": "oe"})


class FoldFilter(Filter):
    """Accents folded before anything else looks at a word: decomposed (NFKD), combining marks
    dropped, then Whoosh's accent map for letters that do not decompose (ø, ł). Folding after
    stemming, as before, left `Inês` (the stemmer saw `ê` as a consonant) apart from `Ines`."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if not text.isascii():
                decomposed = unicodedata.normalize("NFKD", text)
                text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
                token.text = text.translate(_LIGATURES).translate(accent_map)
            yield token


class VariantFilter(Filter):
    """British spellings as American ones (kb.search.variants), before stemming. Marked as
    morphology, so the spelling fields keep the words as written and suggestions show them so."""

    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            token.text = american(token.text)
            yield token


_RESTORED_E = re.compile(r"(.*[aeiouy].*(?:at|bl|iz))(?:ed|ing)")


def stem(word: str) -> str:
    """Porter's stem, with the `e` of -ated, -bled and -ized put back as Porter's step 1b says:
    Whoosh's pattern for it only matches a whole word, so `regulated` (regulat) missed
    `regulate` and `regulation` (regul), and `organized` missed `organize`."""
    restored = _RESTORED_E.fullmatch(word)
    return porter(restored.group(1) + "e" if restored else word)


def analyzer():
    """Accents folded, British and American spellings as one, then English stemming: `Zürich` and
    `zurich` meet, `decriminalisation` finds `decriminalization`, `coffeeshops` finds `coffeeshop`."""
    return (RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | FoldFilter() | StopFilter(STOP_WORDS, minsize=2)
            | VariantFilter() | StemFilter(stem, cachesize=50000))


def schema() -> wf.Schema:
    text = analyzer()
    keyword = dict(commas=True, lowercase=True, scorable=True)
    return wf.Schema(
        id=wf.ID(stored=True, unique=True, sortable=True),
        title=wf.TEXT(analyzer=text, stored=True),
        summary=wf.TEXT(analyzer=text, stored=True),
        # title (x3), summary (x2), body, claims, tags, locality, country names and cited sources;
        # its words as written (spell_text) are the candidates of "did you mean"
        text=wf.TEXT(analyzer=text, spelling=True),
        body=wf.STORED(),  # for snippets
        sources=wf.TEXT(analyzer=text), country_name=wf.TEXT(analyzer=text),
        tags=wf.KEYWORD(**keyword), indicators=wf.KEYWORD(**keyword),
        # one keyword field per facet (kb.facets), stored for result lists where the facet says so
        **{facet.name: wf.KEYWORD(stored=facet.stored, **keyword) for facet in FACETS if facet.indexed},
        years=wf.KEYWORD(commas=True), period=wf.STORED(),
        status=wf.ID(),
        period_start=wf.NUMERIC(sortable=True), updated=wf.ID(sortable=True),
    )
