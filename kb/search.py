"""Full-text search. Whoosh lives only in this module so it can be swapped for another engine.

An index is a generation directory under `<data>/index/`; a build writes a new generation (a full
rebuild, or hard links of the current one plus an incremental commit) and the database records
which generation is current, so readers never see a half-written index.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from whoosh import fields as wf
from whoosh import index as windex
from whoosh import qparser, query as wq
from whoosh.qparser import syntax
from whoosh.analysis import CharsetFilter, StemmingAnalyzer
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.support.charset import accent_map

FACETS = ("themes", "concepts", "country", "market_levels", "outcome", "design")
# Fields a plain word is looked for in; the keyword fields (themes, country, years...) are reached
# with field:value. Fewer default fields keep ranked queries fast.
SEARCH_FIELDS = ("title", "summary", "body", "claims", "tags", "country_name", "sources", "locality")
SNIPPET_CHARLIMIT = 6000  # highlight within the first characters of the body: re-analysing is the cost
ALIASES = {"themes": ["theme"], "concepts": ["concept"], "tags": ["tag"], "years": ["year"],
           "market_levels": ["market_level"], "indicators": ["indicator"], "sources": ["source"]}
_DANGLING = re.compile(r"^\s*(?:(?:AND|OR|ANDNOT|ANDMAYBE)\s+)+|(?:\s+(?:AND|OR|NOT|ANDNOT|ANDMAYBE))+\s*$|^\s*NOT\s*$")
FACETS_FILE = "facets.json"


def _patch_whoosh_length_reader() -> None:
    """Whoosh 2.7 looks up a field's length column with a `stat` per posting whenever the field
    has none (ID, NUMERIC, spelling fields), because it caches only found readers; a full build
    spent a fifth of its time there. Cache the misses too."""
    from whoosh.codec import whoosh3

    def cached_reader(self, fieldname, column):
        if fieldname not in self._readers:
            self._readers[fieldname] = (self.column_reader(fieldname, column)
                                        if self.has_column(fieldname) else None)
        return self._readers[fieldname]

    whoosh3.W3PerDocReader._cached_reader = cached_reader


_patch_whoosh_length_reader()


def _analyzer():
    return StemmingAnalyzer() | CharsetFilter(accent_map)


def schema() -> wf.Schema:
    text = _analyzer()
    keyword = dict(commas=True, lowercase=True, scorable=True)
    return wf.Schema(
        id=wf.ID(stored=True, unique=True, sortable=True),
        title=wf.TEXT(analyzer=text, stored=True, field_boost=3.0, spelling=True),
        summary=wf.TEXT(analyzer=text, stored=True, field_boost=1.5, spelling=True),
        body=wf.TEXT(analyzer=text, stored=True),
        claims=wf.TEXT(analyzer=text),
        locality=wf.TEXT(analyzer=text),
        tags=wf.KEYWORD(**keyword), themes=wf.KEYWORD(stored=True, **keyword),
        concepts=wf.KEYWORD(**keyword), market_levels=wf.KEYWORD(**keyword),
        outcome=wf.KEYWORD(**keyword), design=wf.KEYWORD(**keyword), indicators=wf.KEYWORD(**keyword),
        country=wf.KEYWORD(stored=True, **keyword), country_name=wf.TEXT(analyzer=text),
        years=wf.KEYWORD(commas=True), period=wf.STORED(),
        sources=wf.TEXT(analyzer=text),
        status=wf.ID(),
        period_start=wf.NUMERIC(sortable=True), updated=wf.ID(sortable=True),
    )


@dataclass
class IndexDoc:
    """What the index needs of one case; made by the build from a Case and its sources."""

    fields: dict[str, str]
    facets: dict[str, list[str]]


# ---------------------------------------------------------------- writing

def _write(ix, docs: Iterable[IndexDoc], removed: Iterable[str], procs: int, incremental: bool) -> None:
    kwargs = {"limitmb": 256}
    if procs > 1:
        kwargs.update(procs=procs, multisegment=True)
    writer = ix.writer(**kwargs)
    try:
        for doc_id in removed:
            writer.delete_by_term("id", doc_id)
        for doc in docs:
            (writer.update_document if incremental else writer.add_document)(**doc.fields)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def build_generation(index_root: Path, generation: str, docs: list[IndexDoc], *,
                     base: str | None = None, removed: Iterable[str] = (), procs: int = 1,
                     all_facets: dict[str, dict[str, list[str]]]) -> Path:
    """Write generation `generation`: from scratch, or from `base` plus changes. Returns its path."""
    target = index_root / generation
    if target.exists():
        shutil.rmtree(target)
    if base and (index_root / base / FACETS_FILE).exists():
        shutil.copytree(index_root / base, target, copy_function=os.link,
                        ignore=shutil.ignore_patterns("*.lock", "*_LOCK"))
        os.unlink(target / FACETS_FILE)
        _write(windex.open_dir(str(target)), docs, removed, procs=1, incremental=True)
    else:
        target.mkdir(parents=True)
        _write(windex.create_in(str(target), schema()), docs, (), procs=procs, incremental=False)
    tmp = target / (FACETS_FILE + ".tmp")
    tmp.write_text(json.dumps(all_facets, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, target / FACETS_FILE)
    return target


def remove_stale(index_root: Path, keep: set[str]) -> None:
    if index_root.is_dir():
        for child in index_root.iterdir():
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)


# ---------------------------------------------------------------- reading

@dataclass
class Hit:
    id: str
    title: str
    score: float
    snippet: str
    themes: list[str]
    country: list[str]
    period: str


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    fallback: bool = False

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total,
            "results": [hit.__dict__ for hit in self.hits],
            "facets": self.facets, "suggestion": self.suggestion,
        }


_OPERATOR = re.compile(r"^(AND|OR|NOT|ANDNOT|ANDMAYBE)$")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


@dataclass
class Index:
    path: Path
    _ix: object = None
    _searcher: object = None
    _facets_by_doc: list = field(default_factory=list)

    def __post_init__(self):
        self._ix = windex.open_dir(str(self.path))
        self._searcher = self._ix.searcher()
        facets = json.loads((self.path / FACETS_FILE).read_text(encoding="utf-8"))
        ids = self._searcher.reader().column_reader("id")
        self._facets_by_doc = [
            facets.get(_text(ids[n]), {}) if not self._searcher.reader().is_deleted(n) else None
            for n in range(self._searcher.reader().doc_count_all())
        ]

    def close(self) -> None:
        self._searcher.close()

    # -- query parsing
    def _parser(self) -> qparser.QueryParser:
        parser = qparser.MultifieldParser(list(SEARCH_FIELDS), self._ix.schema, group=qparser.AndGroup)
        parser.add_plugin(qparser.FieldAliasPlugin(ALIASES))
        return parser

    def parse(self, text: str) -> tuple[wq.Query, bool]:
        """(query, fell_back). Bad syntax never fails: unbalanced quotes and brackets are dropped,
        and if the query still does not parse it falls back to its plain words."""
        parser = self._parser()
        text = _DANGLING.sub(" ", text).strip()
        for attempt, candidate in enumerate((text, _unbalanced_removed(text))):
            if attempt and candidate == text:
                continue
            try:
                parsed = parser.parse(candidate)
            except Exception:  # Whoosh's parser raises assorted exceptions on odd input
                continue
            if not _has_error(parser, candidate) and _balanced(candidate):
                return parsed, attempt > 0
        words = " ".join(w for w in _WORD.findall(text) if not _OPERATOR.match(w))
        if not words:
            return wq.NullQuery, True
        parser.remove_plugin_class(qparser.FieldsPlugin)
        return parser.parse(words), True

    # -- searching
    def search(self, text: str, *, filters: dict[str, list[str]] | None = None, limit: int = 10,
               offset: int = 0, drafts: bool = False, sort: str = "relevance") -> SearchResult:
        searcher = self._searcher
        q, fallback = self.parse(text) if text.strip() else (wq.Every(), False)
        conditions = [wq.Or([wq.Term(name, value.lower()) for value in values])
                      for name, values in (filters or {}).items() if values]
        filter_q = wq.And(conditions) if conditions else None
        mask = None if drafts else wq.Term("status", "draft")
        matched = _matching(searcher, q, filter_q, mask)
        facets = self._count_facets(matched)
        sortedby, reverse = {"period": ("period_start", True), "updated": ("updated", True)}.get(sort, (None, False))
        results = searcher.search(q, filter=filter_q, mask=mask, limit=offset + limit,
                                  sortedby=sortedby, reverse=reverse)
        results.fragmenter = ContextFragmenter(maxchars=200, surround=60, charlimit=SNIPPET_CHARLIMIT)
        results.formatter = HtmlFormatter(tagname="mark", classname="match", termclass="")
        hits = [self._hit(hit) for hit in results[offset: offset + limit]]
        suggestion = self.suggest(text)
        return SearchResult(text, len(matched), hits, facets, suggestion, fallback)

    def _hit(self, hit) -> Hit:
        snippet = hit.highlights("body", top=2) or hit.highlights("summary") or _escape(hit.get("summary", "")[:240])
        return Hit(id=hit["id"], title=hit["title"], score=round(float(hit.score or 0.0), 4), snippet=snippet,
                   themes=_split(hit.get("themes", "")), country=_split(hit.get("country", "")).copy(),
                   period=hit.get("period", ""))

    def _count_facets(self, docnums: Iterable[int]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for n in docnums:
            values = self._facets_by_doc[n] if n < len(self._facets_by_doc) else None
            for name in FACETS:
                for value in (values or {}).get(name, ()):
                    counts[name][value] = counts[name].get(value, 0) + 1
        return {name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for name, c in counts.items()}

    def suggest(self, text: str) -> str | None:
        """A corrected query when some plain words are in no indexed text and a close word is.

        Candidates come from the unstemmed words of titles and summaries; a word counts as known
        when its stem is in any text field, so a rare but correct word is never "corrected"."""
        reader = self._searcher.reader()
        analyzer = self._ix.schema["body"].analyzer
        changed = False

        def known(word: str) -> bool:
            stems = [token.text for token in analyzer(word)]
            return not stems or any(reader.frequency(field, stem) for stem in stems
                                    for field in ("title", "summary", "body", "claims", "sources"))

        def fix(match: re.Match) -> str:
            nonlocal changed
            word = match.group(0)
            if _OPERATOR.match(word) or len(word) < 3 or known(word):
                return word
            found = self._searcher.corrector("summary").suggest(word.lower(), limit=1, maxdist=2) or \
                self._searcher.corrector("title").suggest(word.lower(), limit=1, maxdist=2)
            if found and found[0] != word.lower():
                changed = True
                return found[0]
            return word

        corrected = re.sub(r"(?<![\w:])[^\W\d_]+(?![\w:*])", fix, text)
        return corrected if changed else None

    def more_like_this(self, case_id: str, limit: int = 5, drafts: bool = False) -> list[Hit]:
        docnum = self._searcher.document_number(id=case_id)
        if docnum is None:
            return []
        published = None if drafts else wq.Not(wq.Term("status", "draft"))
        results = self._searcher.more_like(docnum, "body", top=limit, numterms=15, filter=published)
        return [Hit(hit["id"], hit["title"], round(float(hit.score or 0.0), 4), "", _split(hit.get("themes", "")),
                    _split(hit.get("country", "")), hit.get("period", "")) for hit in results]

    def doc_count(self) -> int:
        return self._searcher.doc_count()


def _matching(searcher, q, filter_q, mask) -> list[int]:
    if filter_q is None:
        combined = q
    elif isinstance(q, wq.Every):  # Whoosh normalises And([Every(), x]) to Every(): drop it ourselves
        combined = filter_q
    else:
        combined = wq.And([q, filter_q])
    if mask is not None:
        combined = wq.AndNot(combined, mask)
    return list(combined.normalize().docs(searcher))


def _has_error(parser: qparser.QueryParser, text: str) -> bool:
    """True when Whoosh's parser had to patch over a syntax error somewhere in `text`."""
    def walk(node) -> bool:
        if isinstance(node, syntax.ErrorNode):
            return True
        children = list(getattr(node, "nodes", None) or [])
        if getattr(node, "node", None) is not None:
            children.append(node.node)
        return any(walk(child) for child in children)
    return walk(parser.process(text))


def _balanced(text: str) -> bool:
    return text.count('"') % 2 == 0 and text.count("(") == text.count(")")


def _unbalanced_removed(text: str) -> str:
    if text.count('"') % 2:
        text = text.replace('"', "")
    if text.count("(") != text.count(")"):
        text = text.replace("(", "").replace(")", "")
    return text


def _split(value: str) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _escape(text: str) -> str:
    from html import escape
    return escape(text)
