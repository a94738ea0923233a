"""Writing the PostgreSQL index, in the build's own transaction: the rows of the cases a build
changed (all of them on a full build), the counts of written words and of stems, and the
British/American variants found among the new words.

The vectors are made by PostgreSQL (`to_tsvector` with the `kb_english` and `kb_words`
configurations of migration 0011), so nothing but the text crosses the connection.
"""
from __future__ import annotations

from typing import Iterable

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ...facets import INDEX_FACETS
from ..results import IndexDoc
from ..variants import american
from .schema import FACET_SEPARATOR, KEYWORD_FIELDS, MARKS, TEXT_CONFIG, WORDS_CONFIG

CHUNK = 500   # rows per INSERT statement
# The vector ranking reads (tsv_rank) holds the body's first characters only, so that it stays small
# enough to be stored uncompressed in the row: at 10,000 cases a query matching nearly all of them
# spent 180 of its 245 ms decompressing the whole vectors to rank them.
RANK_BODY_CHARS = 600

INSERT = text(f"""
INSERT INTO search_documents (case_id, draft, title, summary, body, shown, facets, facet_terms, keys,
                              period_start, updated, tsv, tsv_rank, tsv_sources, tsv_countries, words)
SELECT d.case_id, d.draft, d.a, d.b, d.body, d.shown, d.facets, d.facet_terms, d.keys, d.period_start, d.updated,
       setweight(to_tsvector('{TEXT_CONFIG}', d.a), 'A') || setweight(to_tsvector('{TEXT_CONFIG}', d.b), 'B')
       || setweight(to_tsvector('{TEXT_CONFIG}', d.c), 'C') || setweight(to_tsvector('{TEXT_CONFIG}', d.d), 'D'),
       setweight(to_tsvector('{TEXT_CONFIG}', d.a), 'A') || setweight(to_tsvector('{TEXT_CONFIG}', d.b), 'B')
       || setweight(to_tsvector('{TEXT_CONFIG}', d.c), 'C')
       || setweight(to_tsvector('{TEXT_CONFIG}', left(d.d, {RANK_BODY_CHARS})), 'D'),
       to_tsvector('{TEXT_CONFIG}', d.sources), to_tsvector('{TEXT_CONFIG}', d.countries),
       strip(to_tsvector('{WORDS_CONFIG}', concat_ws(' ', d.a, d.b, d.c, d.d)))
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS d(
    case_id text, draft boolean, a text, b text, c text, d text, body text, sources text, countries text,
    shown jsonb, facets jsonb, facet_terms text[], keys text[], period_start integer, updated text)
""")

# how many published cases and how many in all have each written word (each stem), added to or
# taken from the counts for the cases named (every case when :ids is NULL)
COUNT = """
INSERT INTO {table} ({key}, published, total)
SELECT v.lexeme, :sign * count(*) FILTER (WHERE NOT d.draft), :sign * count(*)
FROM search_documents d, unnest(d.{vector}) v
WHERE CAST(:ids AS text[]) IS NULL OR d.case_id = ANY(CAST(:ids AS text[]))
GROUP BY v.lexeme
ON CONFLICT ({key}) DO UPDATE SET published = {table}.published + EXCLUDED.published,
                                  total = {table}.total + EXCLUDED.total
"""
COUNTS = (("search_words", "word", "words"), ("search_lexemes", "lexeme", "tsv"))


def write(conn: Connection, generation: str, docs: list[IndexDoc], *, full: bool, removed: Iterable[str]) -> None:
    """Replace the rows of `docs` and `removed` (of every case when `full`) and name `generation`."""
    written = [str(doc.fields["id"]) for doc in docs]
    if full:
        for table in ("search_documents", "search_words", "search_lexemes", "search_variants"):
            conn.execute(text(f"DELETE FROM {table}"))
    else:
        gone = sorted(set(written) | set(removed))
        _count(conn, gone, -1)
        conn.execute(text("DELETE FROM search_documents WHERE case_id = ANY(CAST(:ids AS text[]))"), {"ids": gone})
        for table, _, _ in COUNTS:
            conn.execute(text(f"DELETE FROM {table} WHERE total <= 0"))
    for start in range(0, len(docs), CHUNK):
        rows = [_row(doc) for doc in docs[start:start + CHUNK]]
        conn.execute(INSERT, {"rows": orjson.dumps(rows).decode("utf-8")})
    _count(conn, None if full else written, 1)
    _variants(conn, None if full else written)
    conn.execute(text("DELETE FROM search_state"))
    conn.execute(text("INSERT INTO search_state (generation) VALUES (:g)"), {"g": generation})


def _count(conn: Connection, ids: list[str] | None, sign: int) -> None:
    if ids is not None and not ids:
        return
    for table, key, vector in COUNTS:
        conn.execute(text(COUNT.format(table=table, key=key, vector=vector)), {"ids": ids, "sign": sign})


def _variants(conn: Connection, ids: list[str] | None) -> None:
    """For each written word of these cases that is a British spelling (kb.search.variants), its
    stem and its American form's stem, both ways: the documents keep their own spelling, and a
    query for either form looks for both stems."""
    if ids is not None and not ids:
        return
    words = conn.execute(text("SELECT DISTINCT v.lexeme FROM search_documents d, unnest(d.words) v "
                              "WHERE CAST(:ids AS text[]) IS NULL OR d.case_id = ANY(CAST(:ids AS text[]))"),
                         {"ids": ids}).scalars().all()
    british = [(word, american(word)) for word in words if word.isalpha()]
    british = [(word, us) for word, us in british if us != word]
    if not british:
        return
    conn.execute(text(f"""
        INSERT INTO search_variants (lexeme, variant)
        SELECT x, y FROM (
            SELECT (tsvector_to_array(to_tsvector('{TEXT_CONFIG}', b)))[1] AS gb,
                   (tsvector_to_array(to_tsvector('{TEXT_CONFIG}', a)))[1] AS us
            FROM unnest(CAST(:b AS text[]), CAST(:a AS text[])) AS t(b, a)) pairs,
        LATERAL (VALUES (gb, us), (us, gb)) AS v(x, y)
        WHERE gb IS NOT NULL AND us IS NOT NULL AND gb <> us
        ON CONFLICT DO NOTHING"""), {"b": [b for b, _ in british], "a": [a for _, a in british]})


def _clean(value: str) -> str:
    """Text without the characters snippets mark matches with (and without NUL, which PostgreSQL's
    text cannot hold)."""
    return value.translate(MARKS)


def _row(doc: IndexDoc) -> dict:
    fields, weighted = doc.fields, doc.weighted
    keys = sorted({f"{name}:{value.strip().lower()}" for name in KEYWORD_FIELDS
                   for value in str(fields.get(name) or "").split(",") if value.strip()})
    facet_terms = sorted({f"{name}{FACET_SEPARATOR}{value}" for name in INDEX_FACETS
                          for value in doc.facets.get(name, ())})
    return {
        "case_id": fields["id"], "draft": fields.get("status") == "draft",
        "a": _clean(weighted.get("A", str(fields.get("title", "")))),
        "b": _clean(weighted.get("B", str(fields.get("summary", "")))),
        "c": _clean(weighted.get("C", "")), "d": _clean(weighted.get("D", str(fields.get("body", "")))),
        "body": _clean(str(fields.get("body", ""))), "sources": _clean(str(fields.get("sources", ""))),
        "countries": _clean(str(fields.get("country_name", ""))),
        "shown": {"themes": _split(fields.get("themes")), "country": _split(fields.get("country")),
                  "period": fields.get("period", "")},
        "facets": doc.facets, "facet_terms": facet_terms, "keys": keys,
        "period_start": int(fields.get("period_start") or 0), "updated": str(fields.get("updated") or ""),
    }


def _split(value) -> list[str]:
    return [v for v in str(value or "").split(",") if v]
