"""Reading the PostgreSQL index: ranked search with facet counts from SQL over the matched set,
snippets for the page of hits only, "did you mean" from the written words (trigram candidates),
more-like-this from the stems' document counts.

One search is at most three statements on the caller's connection (a request's, a command's): the
stems of the query's words (kept per worker afterwards), then one statement for the total, the ids,
every facet's counts and the page's order, then the page's hits with their snippets.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from html import escape
from typing import Iterable, Iterator

from sqlalchemy import text
from psycopg.errors import QueryCanceled
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from whoosh import query as wq
from whoosh.support.levenshtein import damerau_levenshtein

from ...facets import INDEX_FACETS
from ..results import Hit, SearchResult
from .. import spelling
from ..spelling import CANDIDATES, Speller
from ..whoosh.queries import first_words, parse, with_regions
from .query import Compiler, american_forms, fold, parser, quoted, words_of
from .schema import FACET_SEPARATOR, START, STOP, TEXT_CONFIG, WORDS_CONFIG

# Cover density over the weighted ranking vector (D the body's start 0.1, C claims and names 0.2,
# B summary 0.4, A title 1.0), divided by 1 + log(length) (normalisation 1): see docs/performance.md
RANK = "ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', d.tsv_rank, CAST(:rank AS tsquery), 1)"
SNIPPET_CHARS = 6000     # snippets come from the body's first characters (as the Whoosh backend's)
HEADLINE = (f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=12, ShortWord=2, "
            "FragmentDelimiter=\" … \"")
RELATED_TERMS = 20       # key stems of a case compared with the others (as the Whoosh backend)
RELATED_CHARS = 2500     # ... taken from its title, summary and the start of its body
RELATED_MAX_SHARE = 0.2  # ... skipping those found in more than this share of all cases
WALL_FACTOR = 5          # "did you mean" waits on the database: wall time bounds it, 5 times the CPU time allowed
CACHE = 4096             # stems and case sets kept per worker
RANK_MS = 600            # the most a search's statement may take with ranking (as Whoosh's RANK_SECONDS);
                         # past it the same search runs unranked, and says it was cut short
UNRANKED_MS = 1200       # ... and unranked, past this, it answers nothing and says so
SORTS = {"period": "a.period_start DESC, a.case_id", "updated": "a.updated DESC, a.case_id"}


@contextmanager
def connection(bind) -> Iterator[Connection]:
    """The connection `bind()` gives (a request's), or one of the engine's for this block."""
    current = bind()
    if isinstance(current, Engine):
        with current.connect() as conn:
            yield conn
    else:
        yield current


class Index:
    """The index as of `generation`; the rows are read live, so a worker asks for a new Index when
    the database names a new generation (kb.knowledgebase does)."""

    def __init__(self, bind, generation: str):
        self._bind = bind
        self.generation = generation
        self._lock = threading.Lock()
        self._stems: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._cases: OrderedDict[tuple, frozenset[str]] = OrderedDict()
        self._facets: dict[str, dict[str, list[str]]] | None = None
        self._visible: dict[bool, frozenset[str]] = {}

    def close(self) -> None:
        """Nothing is held open: every statement runs on the caller's connection."""

    # --- helpers ---------------------------------------------------------------------------------

    def _rows(self, sql: str, params: dict | None = None) -> list:
        with connection(self._bind) as conn:
            return conn.execute(text(sql), params or {}).all()

    def _bounded(self, sql: str, params: dict, ms: int = RANK_MS, index_only: bool = False) -> list | None:
        """The rows, or None when the statement ran past `ms` (cancelled by PostgreSQL, inside a
        savepoint, so the caller's transaction goes on). `index_only`: the planner may not scan the
        table to test a vector row by row. For a word in nearly every case it would, decompressing
        every case's whole vector (7 KB on average) where the GIN index answers from a few pages:
        "police" over 10,000 cases took 355 ms so, 150 ms through the index, and a no-dead-end
        query of 20 common words 3.4 s, once per part."""
        with connection(self._bind) as conn:
            savepoint = conn.begin_nested()
            try:
                conn.execute(text("SELECT set_config('statement_timeout', :ms, true), "
                                  "set_config('enable_seqscan', :seq, true)"),
                             {"ms": str(ms), "seq": "off" if index_only else "on"})
                rows = conn.execute(text(sql), params).all()
                savepoint.commit()
            except OperationalError as exc:
                if not isinstance(exc.orig, QueryCanceled):
                    raise
                savepoint.rollback()
                rows = None
            # the rest of the request runs under the database's own settings again
            conn.execute(text("SELECT set_config('statement_timeout', (SELECT reset_val FROM pg_settings "
                              "WHERE name = 'statement_timeout'), true), set_config('enable_seqscan', 'on', true)"))
            return rows

    def _kept(self, cache: OrderedDict, key, compute):
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = compute()
        with self._lock:
            cache[key] = value
            if len(cache) > CACHE:
                cache.popitem(last=False)
        return value

    def stems(self, words: Iterable[str]) -> dict[str, frozenset[str]]:
        """word -> its stems: of the word as typed and of its American spelling, each with the
        stems of the other spelling the build found (search_variants); empty for a stop word."""
        words = set(words)
        with self._lock:
            known = {word: self._stems[word] for word in words if word in self._stems}
        missing = sorted(words - set(known))
        if missing:
            forms = american_forms(set(missing))
            rows = self._rows(f"""
                WITH w AS (SELECT w, a, tsvector_to_array(to_tsvector('{TEXT_CONFIG}', w))
                                        || tsvector_to_array(to_tsvector('{TEXT_CONFIG}', a)) AS stems
                           FROM unnest(CAST(:w AS text[]), CAST(:a AS text[])) AS t(w, a))
                SELECT w.w, w.stems, coalesce((SELECT array_agg(v.variant) FROM search_variants v
                                               WHERE v.lexeme = ANY(w.stems)), '{{}}')
                FROM w""", {"w": missing, "a": [forms[word] for word in missing]})
            found = {word: frozenset(stems) | frozenset(variants) for word, stems, variants in rows}
            with self._lock:
                for word in missing:
                    self._stems[word] = known[word] = found.get(word, frozenset())
                while len(self._stems) > CACHE:
                    self._stems.popitem(last=False)
        return known

    # --- search ----------------------------------------------------------------------------------

    def search(self, text_: str, *, filters: dict[str, list[str]] | None = None, limit: int = 10, offset: int = 0,
               drafts: bool = False, sort: str = "relevance", only_ids: set[str] | None = None,
               counts: bool = True) -> SearchResult:
        text_ = text_.replace("\x00", " ")   # PostgreSQL's text cannot hold NUL: a query never sends one
        searched, cut_words = first_words(text_)
        q, fallback = parse(parser(), with_regions(searched)) if searched.strip() else (wq.Every(), False)
        stems = self.stems(words_of(q))
        compiler = Compiler(stems)
        base = "TRUE" if drafts else "NOT d.draft"
        if only_ids is not None:   # a restriction from outside the index, e.g. review status
            base += f" AND d.case_id = ANY(CAST({compiler.param(sorted(only_ids))} AS text[]))"
        chosen = {name: sorted({f"{name}:{value.lower()}".replace("\x00", "") for value in values})
                  for name, values in (filters or {}).items() if values}
        where = compiler.where(q)
        found = self._run(compiler, base, where, "1", chosen, sort, limit, offset, counts)
        relaxed = None
        subqueries = q.subqueries if isinstance(q, wq.And) else []
        parts = [part for part in subqueries if not isinstance(part, wq.Not)]   # NOT stays required
        if not found["total"] and len(parts) > 1:
            # no case has every word: the cases with most of them, those with the most first
            relaxer = Compiler(stems, params=dict(compiler.params))   # `base` names the first one's parameters
            kept = " AND ".join(f"({relaxer.where(part)})" for part in subqueries if part not in parts) or "TRUE"
            # each part's cases found once through the index (evaluating a part per row would
            # decompress every matched vector), then counted per case
            sets = [f"p{n} AS MATERIALIZED (SELECT d.case_id FROM search_documents d WHERE ({base}) AND ({relaxer.where(part)}))"
                    for n, part in enumerate(parts)]
            have = " + ".join(f"(CASE WHEN d.case_id IN (SELECT case_id FROM p{n}) THEN 1 ELSE 0 END)"
                              for n in range(len(parts)))
            any_part = "d.case_id IN (" + " UNION ".join(f"SELECT case_id FROM p{n}" for n in range(len(parts))) + ")"
            found = self._run(relaxer, base, f"({kept}) AND ({any_part})", have, chosen, sort, limit, offset, counts,
                              sets)
            if found["total"]:
                relaxed = (int(found["most"]), len(parts))
            compiler = relaxer
        hits = self._hits(found["page"], compiler.rank_query(), scored=sort not in SORTS) if found["page"] else []
        visible = self.visible(drafts)
        suggestion = PgSpeller(self, drafts).suggest(text_, visible)
        return SearchResult(text_, found["total"], hits, found["facets"], suggestion,
                            fallback or cut_words or compiler.simplified or found["cut"], found["ids"], relaxed=relaxed)

    def _run(self, compiler: Compiler, base: str, where: str, have: str, chosen: dict[str, list[str]], sort: str,
             limit: int, offset: int, counts: bool, sets: list[str] = ()) -> dict:
        """One statement: the matched set (m), narrowed by the chosen facets (a); its size, ids and
        the most query parts a case has; the counts of every facet over `a` and of each chosen
        facet over `m` narrowed by the other chosen facets; the page in order."""
        param = compiler.param
        filter_of = {name: f"m.keys && CAST({param(keys)} AS text[])" for name, keys in chosen.items()}
        narrowed = " AND ".join(filter_of.values()) or "TRUE"
        rank_query = compiler.rank_query()
        if sort in SORTS:
            order, score = SORTS[sort], "0.0"
        elif sort == "unranked":
            order, score = "a.case_id", "0.0"
        elif rank_query:
            compiler.params["rank"] = rank_query
            order, score = "a.score DESC, a.case_id", RANK
        else:
            order, score = "a.case_id", "0.0"
        branches = ["SELECT 'n' AS kind, NULL::text AS key, count(*)::float8 AS num, array_agg(a.case_id) AS ids, "
                    "max(a.have)::bigint AS pos FROM a"]
        if counts:
            branches.append("SELECT 'f', t, count(*), NULL, NULL FROM a, unnest(a.facet_terms) t GROUP BY t")
            for name in chosen:   # a chosen facet keeps counting its other values
                others = " AND ".join(f for other, f in filter_of.items() if other != name) or "TRUE"
                prefix = param(f"{name}{FACET_SEPARATOR}%")
                branches.append(f"SELECT 'o', t, count(*), NULL, NULL FROM m, unnest(m.facet_terms) t "
                                f"WHERE {others} AND t LIKE {prefix} GROUP BY t")
        if limit > 0:
            branches.append(f"""SELECT 'p', page.case_id, page.score, NULL, page.pos FROM (
                SELECT a.case_id, a.score, row_number() OVER (ORDER BY a.have DESC, {order}) AS pos
                FROM a ORDER BY pos LIMIT {param(limit)} OFFSET {param(offset)}) page""")
        # the score and sort keys come with the matched rows (a second look-up per row cost more)
        sql = (f"WITH {''.join(f'{cte}, ' for cte in sets)}"
               f"m AS MATERIALIZED (SELECT d.case_id, d.keys, d.facet_terms, {have} AS have, "
               f"{score if limit > 0 else '0.0'} AS score, d.period_start, d.updated "
               f"FROM search_documents d WHERE ({base}) AND ({where})), "
               f"a AS MATERIALIZED (SELECT * FROM m WHERE {narrowed}) "
               + " UNION ALL ".join(f"({branch})" for branch in branches))
        total, ids, most, page = 0, [], 0, []
        facets: dict[str, dict[str, int]] = {name: {} for name in INDEX_FACETS} if counts else {}
        chosen_counts: dict[str, dict[str, int]] = {name: {} for name in chosen} if counts else {}
        ranked = score != "0.0"
        rows = self._bounded(sql, compiler.params, RANK_MS if ranked else UNRANKED_MS,
                             index_only=bool(sets or compiler.marked))   # words to look up in the index
        if rows is None and ranked:   # ranking took too long: the same search in the order of ids
            found = self._run(compiler, base, where, have, chosen, "unranked", limit, offset, counts, sets)
            return {**found, "cut": True}
        if rows is None:              # even unranked: an empty answer that says it was cut short
            return {"total": 0, "ids": [], "most": 0, "page": [], "cut": True,
                    "facets": {name: {} for name in INDEX_FACETS} if counts else {}}
        for kind, key, num, found_ids, pos in rows:
            if kind == "n":
                total, ids, most = int(num), list(found_ids or []), pos or 0
            elif kind in ("f", "o"):
                name, _, value = key.partition(FACET_SEPARATOR)
                target = facets if kind == "f" else chosen_counts
                if name in target:
                    target[name][value] = int(num)
            else:
                page.append((pos, key, num))
        facets.update(chosen_counts)
        facets = {name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for name, c in facets.items()}
        page = [(case_id, score) for _, case_id, score in sorted(page)]
        return {"total": total, "ids": ids, "most": most, "facets": facets, "page": page, "cut": False}

    def _hits(self, page: list[tuple[str, float]], marked: str, scored: bool) -> list[Hit]:
        """The page's hits, each with a snippet of the body (else of the summary) marking the words."""
        params: dict = {"ids": [case_id for case_id, _ in page], "chars": SNIPPET_CHARS, "opts": HEADLINE}
        if marked:
            params["marked"] = marked
            headline = (f"ts_headline('{TEXT_CONFIG}', left(d.body, :chars), CAST(:marked AS tsquery), :opts), "
                        f"ts_headline('{TEXT_CONFIG}', d.summary, CAST(:marked AS tsquery), :opts)")
        else:
            headline = "NULL, NULL"
        rows = {row[0]: row for row in self._rows(
            f"SELECT d.case_id, d.title, d.summary, d.shown, d.facets, {headline} FROM search_documents d "
            "WHERE d.case_id = ANY(CAST(:ids AS text[]))", params)}
        hits = []
        for case_id, score in page:
            if case_id not in rows:
                continue
            _, title, summary, shown, facets, body_snippet, summary_snippet = rows[case_id]
            snippet = next((s for s in (body_snippet, summary_snippet) if s and START in s), None)
            hits.append(Hit(id=case_id, title=title, score=round(float(score or 0.0), 4) if scored else 0.0,
                            snippet=" ".join((_marked(snippet) if snippet else escape(summary[:240])).split()),
                            themes=list(shown.get("themes", [])), country=list(shown.get("country", [])),
                            period=shown.get("period", ""), emmie=list((facets or {}).get("emmie", ()))))
        return hits

    # --- what the rest of kb asks -----------------------------------------------------------------

    def visible(self, drafts: bool) -> frozenset[str]:
        if drafts not in self._visible:
            where = "TRUE" if drafts else "NOT d.draft"
            self._visible[drafts] = frozenset(r[0] for r in self._rows(f"SELECT d.case_id FROM search_documents d WHERE {where}"))
        return self._visible[drafts]

    def cases_having(self, stems: Iterable[str], drafts: bool) -> frozenset[str]:
        """The visible cases having any of these stems."""
        stems = tuple(sorted(stems))
        if not stems:
            return frozenset()

        def compute():
            where = "TRUE" if drafts else "NOT d.draft"
            query = " | ".join(quoted(stem) for stem in stems)
            return frozenset(r[0] for r in self._rows(
                f"SELECT d.case_id FROM search_documents d WHERE {where} AND d.tsv @@ CAST(:q AS tsquery)", {"q": query}))
        return self._kept(self._cases, ("stems", stems, drafts), compute)

    def more_like_this(self, case_id: str, limit: int = 5, drafts: bool = False) -> list[Hit]:
        """Cases sharing the most distinctive stems of this one: its title, summary and the start of
        its body give its stems, each weighted by its count there times its inverse document
        frequency (stems in more than a fifth of the cases are skipped); a case scores the sum of the
        weights of the stems it has."""
        where, count = ("TRUE", "total") if drafts else ("NOT d.draft", "published")
        rows = self._rows(f"""
            WITH me AS (SELECT d.title || ' ' || d.summary || ' ' || left(d.body, {RELATED_CHARS}) AS t
                        FROM search_documents d WHERE d.case_id = :id),
                 n AS (SELECT count(*)::float8 AS n FROM search_documents d WHERE {where}),
                 k AS (SELECT v.lexeme, coalesce(array_length(v.positions, 1), 1) * ln(n.n / l.{count}) AS w
                       FROM me CROSS JOIN n CROSS JOIN LATERAL unnest(to_tsvector('{TEXT_CONFIG}', me.t)) AS v
                       JOIN search_lexemes l ON l.lexeme = v.lexeme
                       WHERE l.{count} > 0 AND l.{count} <= greatest(n.n * {RELATED_MAX_SHARE}, 2)
                       ORDER BY w DESC, v.lexeme LIMIT {RELATED_TERMS})
            SELECT o.case_id, sum(k.w) AS score FROM k CROSS JOIN LATERAL (
                SELECT d.case_id FROM search_documents d
                WHERE d.tsv @@ CAST(quote_literal(k.lexeme) AS tsquery) AND {where} AND d.case_id <> :id) o
            GROUP BY o.case_id ORDER BY score DESC, o.case_id LIMIT :limit""", {"id": case_id, "limit": limit})
        found = {hit.id: hit for hit in self.hits([r[0] for r in rows])}
        return [Hit(**{**vars(found[other]), "score": round(float(score), 4)}) for other, score in rows if other in found]

    def facet_values(self, case_id: str) -> dict[str, list[str]]:
        """The case's values of every indexed facet, as the build gave them ({} for no such case)."""
        if self._facets is None:
            self._facets = {r[0]: r[1] for r in self._rows("SELECT case_id, facets FROM search_documents")}
        return dict(self._facets.get(case_id) or {})

    def cases_with(self, facet: str, value: str, drafts: bool = False) -> frozenset[str]:
        def compute():
            where = "TRUE" if drafts else "NOT d.draft"
            return frozenset(r[0] for r in self._rows(
                f"SELECT d.case_id FROM search_documents d WHERE {where} AND d.keys @> ARRAY[CAST(:k AS text)]",
                {"k": f"{facet}:{value}".lower()}))
        return self._kept(self._cases, ("facet", facet, value, drafts), compute)

    def hits(self, case_ids: Iterable[str]) -> list[Hit]:
        """Result-list entries (no score, no snippet) of these cases, unknown ids left out."""
        ids = list(case_ids)
        if not ids:
            return []
        rows = {r[0]: r for r in self._rows("SELECT case_id, title, shown, facets FROM search_documents "
                                            "WHERE case_id = ANY(CAST(:ids AS text[]))", {"ids": ids})}
        return [Hit(id=i, title=rows[i][1], score=0.0, snippet="", themes=list(rows[i][2].get("themes", [])),
                    country=list(rows[i][2].get("country", [])), period=rows[i][2].get("period", ""),
                    emmie=list((rows[i][3] or {}).get("emmie", ()))) for i in ids if i in rows]

    def doc_count(self) -> int:
        return int(self._rows("SELECT count(*) FROM search_documents")[0][0])


class PgSpeller(Speller):
    """"Did you mean" (the rules of kb/search/spelling.py) over the index's tables: written words
    from search_words, near ones by trigram similarity (pg_trgm) then by edit distance."""

    def __init__(self, index: Index, drafts: bool):
        self.index, self.drafts = index, drafts
        self._close: dict[str, list[tuple[str, int]]] = {}

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    @staticmethod
    def seconds() -> float:
        return spelling.SUGGEST_SECONDS * WALL_FACTOR

    def stems(self, word: str) -> list[str]:
        return sorted(self.index.stems([word])[word])

    def cases(self, stems: list[str], visible) -> frozenset[str]:
        return self.index.cases_having(stems, self.drafts) & visible

    def spelled(self, word: str, visible) -> bool:
        count = "total" if self.drafts else "published"
        return bool(self.index._rows(
            f"SELECT 1 FROM search_words WHERE {count} > 0 AND word = ANY(tsvector_to_array(to_tsvector('{WORDS_CONFIG}', :w))) "
            "LIMIT 1", {"w": word}))

    def close_words(self, word: str, distance: int) -> list[str]:
        word = fold(word)
        if word not in self._close:
            rows = self.index._rows("SELECT word FROM search_words WHERE total > 0 AND word % :w "
                                    "AND left(word, 1) = left(:w, 1) ORDER BY similarity(word, :w) DESC, word LIMIT 200",
                                    {"w": word})
            self._close[word] = [(r[0], damerau_levenshtein(word, r[0])) for r in rows]
        return sorted(other for other, edits in self._close[word] if other != word and edits <= distance)[:CANDIDATES * 2]


def _marked(snippet: str) -> str:
    """ts_headline's text with its marks as <mark> elements, everything else escaped."""
    return (escape(snippet).replace(START, '<mark class="match">').replace(STOP, "</mark>"))
