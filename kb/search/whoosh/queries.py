"""Query parsing that never fails, and fast unscored evaluation of a query to a set of documents.

Whoosh's matchers walk documents one by one in Python, which made counting every match (for
totals and facets) cost more than ranking the top ten. `docset` evaluates the query tree with set
operations over cached posting lists instead.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from itertools import islice

from whoosh import qparser
from whoosh import query as wq
from whoosh.qparser import syntax

from ...regions import named_regions
from .schema import ALIASES, DEFAULT_FIELDS

_OPERATOR = re.compile(r"^(AND|OR|NOT|ANDNOT|ANDMAYBE)$")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_DANGLING = re.compile(r"^\s*(?:(?:AND|OR|ANDNOT|ANDMAYBE)\s+)+|(?:\s+(?:AND|OR|NOT|ANDNOT|ANDMAYBE))+\s*$|^\s*NOT\s*$")
_BOOST = re.compile(r"\^(?![\d.])")


def make_parser(schema) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(DEFAULT_FIELDS), schema, group=qparser.AndGroup)
    parser.add_plugin(qparser.FieldAliasPlugin(ALIASES))
    return parser


def parse(parser: qparser.QueryParser, text: str) -> tuple[wq.Query, bool]:
    """(query, fell_back). Dangling operators, stray `^`, and unbalanced quotes and brackets are
    dropped; if the query still has a syntax error it falls back to its plain words."""
    text = _BOOST.sub(" ", _DANGLING.sub(" ", text)).strip()
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
    plain = make_parser(parser.schema)
    plain.remove_plugin_class(qparser.FieldsPlugin)
    return plain.parse(words), True


MAX_WORDS = 20          # words of a query that are searched; the rest are left out (and said so)
MAX_EXPANSIONS = 10     # words one wildcard, prefix or range stands for: the most frequent ones
MAX_SCANNED = 2000      # candidate words looked at to choose them
MIN_LITERAL = 2         # letters a wildcard must start with: `*e*` scanned the whole lexicon (26 s)
WHOLE_RANGES = {"years", "decade"}   # small fields: a range over them keeps every value it spans


def first_words(text: str) -> tuple[str, bool]:
    """(text, cut): the query up to its MAX_WORDS-th word (operators do not count). Reading the
    posting lists of 40 common words cost 2 s at 10,000 cases before any ranking began."""
    words = [m for m in _WORD.finditer(text) if not _OPERATOR.match(m.group(0))]
    if len(words) <= MAX_WORDS:
        return text, False
    return text[:words[MAX_WORDS].start()], True


def with_regions(text: str) -> str:
    """Words naming a region also match the cases in it: "violence Latin America" ->
    `violence (regions:latin-america-and-the-caribbean OR "Latin America")` (kb.regions)."""
    for start, end, region in reversed(named_regions(text)):
        words = text[start:end]
        said = f'"{words}"' if " " in words or "-" in words else words
        text = f"{text[:start]}(regions:{region} OR {said}){text[end:]}"
    return text


def bound_expansions(q: wq.Query, reader, visible: frozenset[int]) -> tuple[wq.Query, bool]:
    """(query, simplified): every wildcard, prefix and range replaced by the first MAX_EXPANSIONS
    indexed words it matches, in alphabetical order, that a `visible` case has (at most
    MAX_SCANNED looked at); a wildcard that does not start with MIN_LITERAL letters becomes its
    letters as a plain word. At 10,000 cases `*e* *o* *i*` took 49 s and `a* b* c* d* e* f*` 6.9 s,
    mostly in scoring thousands of expansions. Words only drafts have are skipped, so neither the
    expansions nor the "simplified" flag can tell a reader that a draft has a word (choosing the
    most frequent words index-wide did, one range at a time)."""
    simplified = False

    def bound(node: wq.Query) -> wq.Query:
        nonlocal simplified
        if isinstance(node, wq.MultiTerm):
            if isinstance(node, wq.Wildcard):
                literal = re.split(r"[*?]", node.text, maxsplit=1)[0]
                if len(literal) < MIN_LITERAL:
                    simplified = True
                    letters = re.sub(r"[*?]", "", node.text)
                    return wq.Term(node.fieldname, letters) if len(letters) >= MIN_LITERAL else wq.NullQuery
            most = MAX_SCANNED if node.fieldname in WHOLE_RANGES else MAX_EXPANSIONS
            kept = []
            for term in islice(node._btexts(reader), MAX_SCANNED):
                if _seen(reader, node.fieldname, term, visible):
                    if len(kept) == most:
                        simplified = True
                        break
                    kept.append(wq.Term(node.fieldname, text_of(term)))
            if not kept:
                return wq.NullQuery
            return kept[0] if len(kept) == 1 else wq.Or(kept)
        if node.is_leaf():
            return node
        return node.apply(bound)

    return bound(q), simplified


def _seen(reader, fieldname: str, term, visible: frozenset[int]) -> bool:
    """Whether a visible case has `term`: the postings are read only up to the first such case."""
    try:
        postings = reader.postings(fieldname, term)
    except Exception:  # the term is gone from this reader (Whoosh raises TermNotFound)
        return False
    while postings.is_active():
        if postings.id() in visible:
            return True
        postings.next()
    return False


def text_of(value) -> str:
    """A term as text: Whoosh hands them out as bytes."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


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


class DocSets:
    """Evaluates queries to frozensets of live document numbers, caching term posting lists."""

    def __init__(self, searcher, cache_size: int = 4096):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.all = frozenset(self.reader.all_doc_ids())
        self._cache: OrderedDict[tuple[str, str], frozenset[int]] = OrderedDict()
        self._cache_size = cache_size

    def term(self, fieldname: str, text: str) -> frozenset[int]:
        key = (fieldname, text)
        found = self._cache.get(key)
        if found is None:
            try:
                found = frozenset(self.reader.postings(fieldname, text).all_ids())
            except Exception:  # term or field absent from the index (Whoosh raises TermNotFound)
                found = frozenset()
            self._cache[key] = found
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return found

    def of(self, q: wq.Query) -> frozenset[int]:
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, wq.Every):
            return self.all
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return frozenset()
        if isinstance(q, wq.AndNot):
            return self.of(q.a) - self.of(q.b)
        if isinstance(q, wq.AndMaybe):
            return self.of(q.a)
        if isinstance(q, wq.Require):
            return self.of(q.a) & self.of(q.b)
        if isinstance(q, wq.Not):
            return self.all - self.of(q.query)
        if isinstance(q, wq.And):
            sets = sorted((self.of(child) for child in q.subqueries), key=len)
            return frozenset.intersection(*sets) if sets else frozenset()
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            return frozenset().union(*(self.of(child) for child in q.subqueries))
        if isinstance(q, wq.MultiTerm):  # prefix, wildcard, fuzzy: every expanded term
            return frozenset().union(*(self.term(q.fieldname, t) for t in q._btexts(self.reader)))
        return frozenset(q.docs(self.searcher))  # phrases and the rest: Whoosh's own matcher
