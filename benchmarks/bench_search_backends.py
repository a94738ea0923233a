"""Search backends side by side: Whoosh (SQLite) and PostgreSQL full-text search, each beside the
FTS5 floor, on the same generated collection, in the same run.

    .venv/bin/python benchmarks/bench_search_backends.py --postgres postgresql+psycopg://postgres@127.0.0.1:55440/postgres [--cases 10000] [--keep DIR]

For each backend: a full build (pages rendered on first view, so the figure is reading, checking,
indexing and the database; the page rendering both share is in bench_core), a one-edit rebuild,
and warm in-process search latency (median, p95) over bench_core's 20 queries with facets,
snippets and suggestions, five rounds; then how far PostgreSQL's ranking is from Whoosh's BM25F:
the share of each query's top 10 that both backends return (and Spearman's footrule is left out:
with ten results the overlap says what a reader sees). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_core import FLOOR_BUILD, QUERIES, SEARCH_TOOLS, THEMES, child, generate  # noqa: E402

BUILD = """
from kb.settings import Settings; from kb.storage.build import build
r = build(Settings.load({settings!r}))
print(r.parsed, r.reindexed, {{k: round(v, 2) for k, v in r.timings.items()}})
"""

SEARCH = SEARCH_TOOLS + """
from kb.knowledgebase import KnowledgeBase, session
from kb.settings import Settings
kb = KnowledgeBase(Settings.load({settings!r}))
def one(q):
    with session():
        return kb.search(q, limit=10)
ours = timed(one)
tops = {{q: [hit.id for hit in one(q).hits] for q in queries}}
by_query = {{}}
for q in queries:
    samples = []
    for _ in range(5):
        t = time.perf_counter(); one(q); samples.append((time.perf_counter() - t) * 1000)
    by_query[q] = statistics.median(samples)
floor = timed(fts)
print(json.dumps({{"ours": ours, "floor": floor, "tops": tops, "by_query": by_query}}))
"""


def overlap(one: list[str], other: list[str]) -> float:
    """The share of the top 10 both return (1.0 when both return nothing)."""
    if not one and not other:
        return 1.0
    return len(set(one) & set(other)) / max(len(one), len(other))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--postgres", required=True, help="an administrator's URL: a database is made and dropped")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    from sqlalchemy import create_engine, text
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    root = work / "root"
    if not root.exists():
        started = time.perf_counter()
        generate(root, args.cases)
        print(f"generated {args.cases} cases in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    name = f"kbbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.postgres.rsplit("/", 1)[0] + "/" + name
    db = str(work / "floor.sqlite3")
    common = {"ROOT": str(root), "RENDER_PAGES": "first-view"}
    backends = {
        "whoosh": {**common, "DATA_DIR": str(work / "whoosh"), "SEARCH": "whoosh",
                   "DATABASE_URL": f"sqlite:///{work / 'whoosh' / 'kb.sqlite3'}"},
        "postgres": {**common, "DATA_DIR": str(work / "postgres"), "SEARCH": "postgres", "DATABASE_URL": url},
    }
    try:
        floor = child(FLOOR_BUILD.format(root=str(root / "case_studies"), db=db))
        results = {}
        edited = root / "case_studies" / THEMES[0] / "case-00000.md"
        original = edited.read_text(encoding="utf-8")
        for backend, settings in backends.items():
            shutil.rmtree(settings["DATA_DIR"], ignore_errors=True)
            edited.write_text(original, encoding="utf-8")
            full = child(BUILD.format(settings=settings))
            edited.write_text(original.replace("## Context", "## Context\n\nEdited paragraph."), encoding="utf-8")
            edit = child(BUILD.format(settings=settings))
            _, _, out = child(SEARCH.format(queries=QUERIES, settings=settings, db=db))
            results[backend] = {"full": full, "edit": edit, "search": json.loads(out)}
        edited.write_text(original, encoding="utf-8")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    whoosh, pg = results["whoosh"], results["postgres"]
    fs, fl = floor[0], whoosh["search"]["floor"]
    print(f"\n{args.cases} cases; build stdout (parsed, reindexed, seconds per phase): "
          f"whoosh {whoosh['full'][2].strip()}; postgres {pg['full'][2].strip()}\n")
    print("| measure | Whoosh | PostgreSQL | floor (FTS5) | Whoosh / floor | PostgreSQL / floor | target |")
    print("|---|---|---|---|---|---|---|")
    rows = [("full build", whoosh["full"][0], pg["full"][0], fs, "s", "<= 60 s"),
            ("one-edit rebuild", whoosh["edit"][0], pg["edit"][0], fs, "s", ""),
            ("peak RSS (full build)", whoosh["full"][1], pg["full"][1], floor[1], "MB", ""),
            ("search median (facets + snippets)", whoosh["search"]["ours"][0], pg["search"]["ours"][0], fl[0], "ms",
             "<= 50 ms"),
            ("search p95 (facets + snippets)", whoosh["search"]["ours"][1], pg["search"]["ours"][1], fl[1], "ms",
             "<= 150 ms")]
    for label, a, b, f, unit, target in rows:
        print(f"| {label} | {a:.1f} {unit} | {b:.1f} {unit} | {f:.1f} {unit} | {a / f:.1f}x | {b / f:.1f}x | {target} |")
    overlaps = {q: overlap(whoosh["search"]["tops"][q], pg["search"]["tops"][q]) for q in QUERIES}
    print(f"\nTop-10 overlap with Whoosh, mean over {len(QUERIES)} queries: {sum(overlaps.values()) / len(overlaps):.2f}\n")
    print("| query | overlap | Whoosh median | PostgreSQL median |\n|---|---|---|---|")
    for q in QUERIES:
        print(f"| `{q}` | {overlaps[q]:.1f} | {whoosh['search']['by_query'][q]:.1f} ms | {pg['search']['by_query'][q]:.1f} ms |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
