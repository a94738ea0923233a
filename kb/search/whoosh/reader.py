"""Reading an index generation: ranked search with snippets, facet counts over the whole result
set, spelling suggestions and more-like-this."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Iterable

import orjson
from whoosh import index as windex
from whoosh import query as wq
from whoosh.collectors import FilterCollector, TimeLimit
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight

from ...facets import INDEX_FACETS as FACETS
from ..results import Hit, SearchResult
from .queries import DocSets, bound_expansions, first_words, make_parser, parse, text_of, with_regions
from .suggestions import WhooshSpeller
from .writer import FACETS_FILE

SNIPPET_CHARLIMIT = 6000  # highlight within the body's first characters: re-analysing text is the cost
RELATED_TERMS = 20       # key terms of a case compared with the others
RELATED_CHARS = 2500     # ... taken from its title, summary and the start of its body
RELATED_MAX_SHARE = 0.2  # ... skipping those found in more than this share of all cases
RANK_SECONDS = 0.6       # the most ranking may take; a request stays well under 2 s
# sort name (kb.facets.SORTS) -> (stored field, reversed)
SORT_FIELDS = {"relevance": (None, False), "period": ("period_start", True), "updated": ("updated", True)}


@dataclass
class Index:
    path: Path
    _facets_by_doc: list = field(default_factory=list)

    def __post_init__(self):
        self._ix = windex.open_dir(str(self.path))
        self._searcher = self._ix.searcher()
        self._parser = make_parser(self._ix.schema)
        self._analyzer = self._ix.schema["text"].analyzer
        self._docsets = DocSets(self._searcher)
        facets = orjson.loads((self.path / FACETS_FILE).read_bytes())
        reader = self._searcher.reader()
        ids = reader.column_reader("id")
        self._ids = [None if reader.is_deleted(n) else text_of(ids[n]) for n in range(reader.doc_count_all())]
        self._docnum = {case_id: n for n, case_id in enumerate(self._ids) if case_id is not None}
        self._facets_by_doc = [None if case_id is None else facets.get(case_id, {}) for case_id in self._ids]
        self._drafts = self._docsets.term("status", "draft")
        self._lock = threading.Lock()
        self._cases_with: dict[tuple[str, str, bool], frozenset[str]] = {}

    def close(self) -> None:
        self._searcher.close()

    def parse(self, text: str) -> tuple[wq.Query, bool]:
        return parse(self._parser, text)

    def search(self, text: str, **options) -> SearchResult:
        """Ranked search; one at a time per index (a threaded server shares it: Whoosh's searcher
        and our posting-list cache are not safe to use from two threads at once)."""
        with self._lock:
            return self._search(text, **options)

    def _search(self, text: str, *, filters: dict[str, list[str]] | None = None, limit: int = 10,
                offset: int = 0, drafts: bool = False, sort: str = "relevance",
                only_ids: set[str] | None = None, counts: bool = True) -> SearchResult:
        visible = self._docsets.all if drafts else self._docsets.all - self._drafts
        searched, cut_words = first_words(text)
        q, fallback = self.parse(with_regions(searched)) if searched.strip() else (wq.Every(), False)
        q, simplified = bound_expansions(q, self._searcher.reader(), visible)
        fallback = fallback or simplified or cut_words
        base = visible
        if only_ids is not None:       # a restriction from outside the index, e.g. review status
            base = base & frozenset(self._docnum[i] for i in only_ids if i in self._docnum)
        # several values of one facet are OR-ed, different facets AND-ed
        chosen = {name: frozenset().union(*(self._docsets.term(name, v.lower()) for v in values))
                  for name, values in (filters or {}).items() if values}
        allowed = frozenset.intersection(base, *chosen.values())
        sortedby, reverse = SORT_FIELDS.get(sort, SORT_FIELDS["relevance"])
        ranked = None
        if _has_phrase(q):
            # Whoosh's position matching is the whole cost of a phrase: run it once, unlimited,
            # and take both the ranking and the matching set from that one pass.
            ranked, cut = self._rank(q, set(base), None, sortedby, reverse)
            of_query = frozenset(ranked.docs())
        else:
            of_query, cut = self._docsets.of(q) & base, False
        matched, relaxed = of_query & allowed, None
        subqueries = q.subqueries if isinstance(q, wq.And) else []
        parts = [part for part in subqueries if not isinstance(part, wq.Not)]   # NOT stays required
        if not matched and len(parts) > 1:
            # no case has every word: the cases with most of them, those with the most first
            kept = frozenset.intersection(base, *(self._docsets.of(part) for part in subqueries if part not in parts))
            sets = [self._docsets.of(part) & kept for part in parts]
            of_query = frozenset().union(*sets)
            matched = of_query & allowed
            have = {n: sum(n in found for found in sets) for n in matched}
            if matched:
                relaxed = (max(have.values()), len(parts))
        hits: list[Hit] = []
        if matched and offset < len(matched) and limit > 0:   # limit 0: counts and ids only
            terms = self._snippet_terms(q)
            if relaxed:
                page, cut = self._rank_relaxed(wq.Or(parts), have, offset, limit, sortedby, reverse)
            elif ranked is not None:
                page = [hit for hit in ranked if hit.docnum in matched][offset: offset + limit]
            else:
                results, cut = self._rank(q, set(matched), offset + limit, sortedby, reverse)
                page = list(results[offset: offset + limit])
            hits = [self._hit(hit, terms, scored=sortedby is None) for hit in page]
        facets = self._count_facets(matched) if counts else {}
        for name, values in chosen.items() if counts else ():   # a chosen facet keeps counting its other values
            others = frozenset.intersection(of_query, base, *(found for other, found in chosen.items() if other != name))
            facets[name] = self._count_facets(others, (name,))[name]
        return SearchResult(text, len(matched), hits, facets, self.suggest(text, visible),
                            fallback or cut, [self._ids[n] for n in matched], relaxed=relaxed)

    def _rank_relaxed(self, q: wq.Query, have: dict[int, int], offset: int, limit: int, sortedby, reverse: bool):
        """(hits of the page, cut): the cases having most words first, each group in Whoosh's order."""
        groups: dict[int, set[int]] = {}
        for n, count in have.items():
            groups.setdefault(count, set()).add(n)
        page, seen, cut = [], 0, False
        for count in sorted(groups, reverse=True):
            group = groups[count]
            if seen + len(group) > offset:
                start = max(0, offset - seen)
                results, group_cut = self._rank(q, group, start + limit - len(page), sortedby, reverse)
                page += list(results[start: start + limit - len(page)])
                cut = cut or group_cut
            seen += len(group)
            if len(page) >= limit or seen >= offset + limit:
                break
        return page, cut

    def _rank(self, q: wq.Query, allowed: set[int], limit: int | None, sortedby, reverse: bool):
        """(results, cut): Whoosh's ranking, stopped after RANK_SECONDS with the best found so far.
        Scoring is Whoosh's pure-Python loop over every posting of every word: at 10,000 cases an
        AND of 20 common words took 3.4 s and an OR of 40 took 3.5 s; counts and facets come from
        posting sets and stay complete (for phrases, from the documents matched in time)."""
        collector = BoundedCollector(self._searcher.collector(limit=limit, sortedby=sortedby, reverse=reverse),
                                     allowed, RANK_SECONDS)
        try:
            self._searcher.search_with_collector(q, collector)
        except TimeLimit:
            return collector.results(), True
        return collector.results(), False

    @staticmethod
    def _snippet_terms(q: wq.Query) -> frozenset[str]:
        """Analysed words of the query to mark in a snippet (prefixes and wildcards arrive here
        already expanded to indexed words, by bound_expansions)."""
        return frozenset(text_of(t) for fieldname, t in q.all_terms(phrases=True)
                         if fieldname in ("text", "title", "summary"))

    def _hit(self, hit, terms: frozenset[str], scored: bool = True) -> Hit:
        """One result; in a sorted search Whoosh's `score` is the sort key, so there is none."""
        stored = hit.fields()
        snippet = ""
        for source in (stored.get("body", ""), stored.get("summary", "")):
            if source and terms:
                snippet = highlight(source, terms, self._analyzer, ContextFragmenter(200, 60, SNIPPET_CHARLIMIT),
                                    HtmlFormatter(tagname="mark", classname="match", termclass="t"), top=2)
            if snippet:
                break
        return Hit(id=stored["id"], title=stored["title"], score=round(float(hit.score or 0.0), 4) if scored else 0.0,
                   snippet=" ".join((snippet or escape(stored.get("summary", "")[:240])).split()), themes=_split(stored.get("themes")),
                   country=_split(stored.get("country")), period=stored.get("period", ""),
                   emmie=list((self._facets_by_doc[hit.docnum] or {}).get("emmie", ())))

    def _count_facets(self, docnums: Iterable[int], names: tuple[str, ...] = FACETS) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {name: {} for name in names}
        for n in docnums:
            values = self._facets_by_doc[n]
            for name in names:
                bucket = counts[name]
                for value in (values or {}).get(name, ()):
                    bucket[value] = bucket.get(value, 0) + 1
        return {name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for name, c in counts.items()}

    def suggest(self, text: str, visible: frozenset[int] | None = None) -> str | None:
        """A corrected query when some plain words are unknown or misspelt, or rare while the
        query finds few cases (kb/search/whoosh/suggestions.py). Everything comes from `visible`
        (published cases, or also drafts for reviewers): a candidate is a word as written in
        the cases, counted and ranked by the visible cases that have its stem, so words of
        drafts are never offered to readers, not even as a ranking weight."""
        visible = self._docsets.all - self._drafts if visible is None else visible
        schema = self._ix.schema
        fields = ("text",) if schema["text"].separate_spelling() else ("title", "summary")
        return WhooshSpeller(self._searcher.reader(), self._analyzer, self._docsets, fields).suggest(text, visible)

    def more_like_this(self, case_id: str, limit: int = 5, drafts: bool = False) -> list[Hit]:
        """Cases sharing the most distinctive words of this one.

        The case's key terms (Whoosh's key-term extraction over its text) are weighted and
        summed over the cached posting sets of the documents containing them; terms found in more
        than a fifth of the collection say little about similarity and are skipped. Whoosh's own
        `more_like` scored a 15-term union over the whole index: 45 ms a case at 10,000 cases."""
        with self._lock:
            docnum = self._searcher.document_number(id=case_id)
            if docnum is None:
                return []
            stored = self._searcher.stored_fields(docnum)
            # the title, summary and the first part of the body: enough to find the case's
            # distinctive words, and looking up every word of a long body cost more than the rest
            text = "\n".join((stored.get("title", ""), stored.get("summary", ""), stored.get("body", "")[:RELATED_CHARS]))
            allowed = self._docsets.all if drafts else self._docsets.all - self._drafts
            scores: dict[int, float] = {}
            common = len(allowed) * RELATED_MAX_SHARE
            for term, weight in self._searcher.key_terms_from_text("text", text, numterms=RELATED_TERMS):
                postings = self._docsets.term("text", term)
                if len(postings) <= max(common, 2):
                    for other in postings & allowed:
                        scores[other] = scores.get(other, 0.0) + weight
            scores.pop(docnum, None)
            best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            return [self._stored_hit(other, score) for other, score in best]

    def _stored_hit(self, docnum: int, score: float) -> Hit:
        stored = self._searcher.stored_fields(docnum)
        return Hit(id=stored["id"], title=stored["title"], score=round(score, 4), snippet="",
                   themes=_split(stored.get("themes")), country=_split(stored.get("country")),
                   period=stored.get("period", ""), emmie=list((self._facets_by_doc[docnum] or {}).get("emmie", ())))

    def facet_values(self, case_id: str) -> dict[str, list[str]]:
        """The case's values of every indexed facet, as the build gave them ({} for no such case)."""
        docnum = self._docnum.get(case_id)
        return dict(self._facets_by_doc[docnum] or {}) if docnum is not None else {}

    def cases_with(self, facet: str, value: str, drafts: bool = False) -> frozenset[str]:
        """The ids of the cases having `value` of `facet`: published ones, or drafts too. Kept per
        value (a few hundred values), since related cases ask for the same ones again and again."""
        key = (facet, value, drafts)
        found = self._cases_with.get(key)
        if found is None:
            with self._lock:
                docs = self._docsets.term(facet, value.lower())
            found = self._cases_with[key] = frozenset(self._ids[n] for n in (docs if drafts else docs - self._drafts))
        return found

    def hits(self, case_ids: Iterable[str]) -> list[Hit]:
        """Result-list entries (no score, no snippet) of these cases, unknown ids left out."""
        with self._lock:
            return [self._stored_hit(self._docnum[i], 0.0) for i in case_ids if i in self._docnum]

    def doc_count(self) -> int:
        return self._searcher.doc_count()


class BoundedCollector(FilterCollector):
    """Whoosh's FilterCollector (only `allow`ed documents) that also stops with TimeLimit once
    `seconds` have passed, keeping what it collected. Whoosh's own TimeLimitCollector cannot be
    combined with a filter: each collects its child's matches itself, so the outer one bypasses
    the inner one's check."""

    CHECK_EVERY = 256   # documents between looks at the clock

    def __init__(self, child, allow: set[int], seconds: float):
        super().__init__(child, allow=allow)
        self.allowed = frozenset(allow)   # an empty set allows nothing (Whoosh would read it as no filter)
        self.seconds = seconds
        self.deadline = 0.0

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.deadline = time.monotonic() + self.seconds

    def collect_matches(self):
        child, allowed, offset = self.child, self.allowed, self.offset
        for seen, sub_docnum in enumerate(child.matches()):
            if seen % self.CHECK_EVERY == 0 and time.monotonic() > self.deadline:
                raise TimeLimit
            if offset + sub_docnum in allowed:
                child.collect(sub_docnum)


def _has_phrase(q: wq.Query) -> bool:
    return any(isinstance(leaf, wq.Phrase) for leaf in ([q] if q.is_leaf() else q.leaves()))


def _split(value) -> list[str]:
    return [v for v in (value or "").split(",") if v]

