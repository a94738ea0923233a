"""Researcher benchmark: searches with OR-ed facets and the no-dead-end fallback, and the evidence
list with three filters, in process on a synthetic collection, each beside a floor.

    .venv/bin/python benchmarks/bench_research.py [--cases 10000] [--keep DIR]

Generates (or reuses, with --keep) the collection of bench_core.py and builds it (incrementally
when kept). The floors, in the same run: SQLite FTS5 answering the same words with OR (what a
search engine does with no facets, no fallback and no snippets beyond FTS5's own), and one SQLite
query over a plain table of the evidence items with the same three filters (an indexed lookup,
without the case facets, the counts per value or the citations). Figures go in docs/performance.md.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

# (query, filters): OR-ed values of one facet, facets AND-ed, and queries no case fully matches
SEARCHES = [
    ("police", {"country": ["GB", "US"]}),
    ("heroin market", {"country": ["NL", "NO", "CH"], "outcome": ["violence"]}),
    ("violence zzqxv", {}),                                   # one unknown word: the fallback
    ("police treatment qqzzx", {"themes": ["targeted-deterrence", "police-harm-reduction"]}),
    ("gang violence", {"regions": ["latin-america-and-the-caribbean"]}),
    ("latin america police", {}),
    ("deterrence", {"regions": ["europe", "northern-america"], "design": ["rct", "time-series"]}),
    ("", {"country": ["BR", "MX", "CO"], "direction": ["improved"]}),
    ("harm reduction xyzzy", {"outcome": ["public-health", "drug-use"]}),
    ("community trust", {"market_levels": ["retail", "consumption"]}),
]
EVIDENCE = [
    {"region": ["latin-america-and-the-caribbean"], "outcome": ["violence"], "design": ["time-series"]},
    {"region": ["europe"], "outcome": ["public-health", "drug-use"], "direction": ["improved"]},
    {"theme": ["targeted-deterrence"], "country": ["US", "GB"], "design": ["rct", "quasi-experimental"]},
    {"region": ["northern-america"], "outcome": ["arrests"], "design": ["before-after"]},
    {"country": ["NL"], "outcome": ["public-nuisance"], "direction": ["improved", "mixed"]},
]


def timed(fn, cases, rounds: int = 5) -> tuple[float, float]:
    for case in cases:
        fn(case)                                   # warm
    samples = []
    for _ in range(rounds):
        for case in cases:
            started = time.perf_counter()
            fn(case)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    from bench_core import generate

    from kb.knowledgebase import KnowledgeBase, session
    from kb.storage.build import build
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-research-"))
    root = work / "root"
    if not root.exists():
        generate(root, args.cases)
    os.environ.pop("KB_DATABASE_URL", None)
    report = build(root)
    print(f"build: {report.seconds:.0f} s ({report.reindexed} re-indexed)", file=sys.stderr)
    kb = KnowledgeBase(root)
    floor = sqlite3.connect(":memory:")
    floor.execute("CREATE VIRTUAL TABLE cases USING fts5(id, title, summary, body)")
    floor.execute("CREATE TABLE items (case_id, id, outcome, direction, design, country, strength)")
    floor.execute("CREATE INDEX items_outcome ON items (outcome, design)")
    with session():
        for case in kb.full_cases():
            floor.execute("INSERT INTO cases VALUES (?, ?, ?, ?)", (case.id, case.title, case.summary, case.body))
            floor.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
                              [(case.id, e.id, e.outcome, e.direction, e.design, ",".join(case.country), e.strength)
                               for e in case.evidence])
        floor.commit()
        results = {
            "search, OR-ed facets and the fallback": timed(lambda s: kb.search(s[0], filters=s[1], limit=10), SEARCHES),
            "evidence list, three filters": timed(
                lambda f: kb.evidence_citations(kb.evidence(filters=f, limit=50)[0].rows, "apa"), EVIDENCE),
            "evidence list, three filters and a query": timed(lambda f: kb.evidence("police", filters=f, limit=50), EVIDENCE),
        }
        relaxed = sum(kb.search(q, filters=f).relaxed is not None for q, f in SEARCHES)

    def fts(s):
        words = " OR ".join(w for w in s[0].split() if w.isalpha()) or "police"
        return floor.execute("SELECT id, snippet(cases, 3, '<b>', '</b>', '...', 20) FROM cases WHERE cases MATCH ? "
                             "ORDER BY rank LIMIT 10", (words,)).fetchall()

    def items(f):
        outcomes, designs = f.get("outcome", ["violence"]), f.get("design", [])
        query = f"SELECT * FROM items WHERE outcome IN ({','.join('?' * len(outcomes))})"
        if designs:
            query += f" AND design IN ({','.join('?' * len(designs))})"
        return floor.execute(query + " LIMIT 50", (*outcomes, *designs)).fetchall()
    floors = {"search, OR-ed facets and the fallback": timed(fts, SEARCHES),
              "evidence list, three filters": timed(items, EVIDENCE),
              "evidence list, three filters and a query": timed(items, EVIDENCE)}
    print(f"\n{kb.stats()['cases']} cases, {kb.stats()['evidence_items']} evidence items; {relaxed} of {len(SEARCHES)} "
          "searches fell back to cases with most of the words\n")
    print("| measure | kb median | kb p95 | floor p95 | p95 / floor | target |\n|---|---|---|---|---|---|")
    for name, (median, p95) in results.items():
        print(f"| {name} | {median:.1f} ms | {p95:.1f} ms | {floors[name][1]:.2f} ms | {p95 / floors[name][1]:.0f}x | <= 150 ms |")
    kb.close()


if __name__ == "__main__":
    main()
