"""Core benchmark: build, rebuild and search on a synthetic collection, each beside a floor.

    .venv/bin/python benchmarks/bench_core.py [--cases 10000] [--keep DIR]

Generates N cases (about 8.5 KB of Markdown each, Zipf-distributed vocabulary) and 2N BibTeX
entries, then measures in this order, each in a fresh subprocess so peak RSS is per step:
full build, no-op rebuild, rebuild after editing one case, and warm in-process search latency
(median, p95) with facets and snippets over a fixed query set. The floor, measured in the same
run on the same files: read them, parse the front matter with libyaml, load into an SQLite FTS5
table; and the same queries against FTS5 (bm25 + snippet). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

THEMES = ["police-harm-reduction", "targeted-deterrence", "local-market-harm-reduction",
          "tolerated-cannabis-markets", "corruption-financial-crime", "security-foreign-aid"]
COUNTRIES = ["GB", "US", "NL", "NO", "CO", "MX", "AU", "CA", "PT", "CH", "DE", "BR", "UY", "ES", "IE"]
OUTCOMES = ["violence", "corruption", "public-health", "drug-use", "public-nuisance", "arrests", "seizures"]
DESIGNS = ["rct", "quasi-experimental", "time-series", "before-after", "qualitative"]
REAL = ("police drug market heroin cannabis cocaine violence overdose harm reduction enforcement "
        "deterrence corruption laundering naloxone supervised injection dealer gang community trust "
        "treatment diversion arrest seizure crop eradication coffeeshop tolerance prosecution court").split()
QUERIES = ["police", "heroin market", '"harm reduction"', "cannabis AND coffeeshop", "violence OR corruption",
           "overdose NOT cocaine", "themes:targeted-deterrence", "country:NO", "naloxone", "laundering bank",
           "dealer*", "supervised injection", "community trust police", "eradication crop", "gang violence",
           "treatment diversion", "canabis", "trust", "arrest seizure", "deterrence"]


def words(rng: random.Random, vocab: list[str], weights: list[float], n: int) -> str:
    return " ".join(rng.choices(vocab, weights, k=n))


def generate(root: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ren", "sto", "vel", "dra", "qui", "ban", "tor", "pe", "sul", "gra", "nix"]
    vocab = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(30000)})
    # The real words sit at Zipf ranks from 8 to about 2,000, so that, as in a real collection, a
    # few of them appear in nearly every case and most in a minority of cases.
    for position, word in enumerate(REAL):
        vocab.insert(int(8 * 1.22 ** position), word)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    (root / "case_studies").mkdir(parents=True)
    keys = [f"author{i}2000title" for i in range(2 * n)]
    with open(root / "bibliography.bib", "w", encoding="utf-8") as bib:
        for i, key in enumerate(keys):
            bib.write(f"@article{{{key},\n  author = {{Author{i}, Ann and van der Beek, Piet}},\n"
                      f"  title = {{{words(rng, vocab, weights, 8).title()}}},\n  journal = {{Journal {i % 50}}},\n"
                      f"  year = {{{1990 + i % 35}}},\n  volume = {{{i % 40}}},\n  pages = {{1--20}}\n}}\n\n")
    for i in range(n):
        cites = rng.sample(keys, 5)
        folder = root / "case_studies" / THEMES[i % 6]
        folder.mkdir(exist_ok=True)
        evidence = "".join(
            f"  - id: e{j}\n    claim: {words(rng, vocab, weights, 20)}\n    cite: \"[@{cites[j]}, p. {j + 3}]\"\n"
            f"    outcome: {rng.choice(OUTCOMES)}\n    direction: improved\n    design: {rng.choice(DESIGNS)}\n    strength: 3\n"
            for j in range(3))
        paragraphs = "\n\n".join(f"{words(rng, vocab, weights, 90)} [@{rng.choice(cites)}]." for _ in range(8))
        start = rng.randint(1970, 2020)
        text = (f"---\nid: case-{i:05d}\ntitle: \"{words(rng, vocab, weights, 6)}\"\nsummary: {words(rng, vocab, weights, 40)}\n"
                f"themes: [{THEMES[i % 6]}]\nconcepts: [harm-indicators]\ncountry: {rng.choice(COUNTRIES)}\n"
                f"period: \"{start}-{start + rng.randint(0, 5)}\"\nmarket_levels: [retail]\ntags: [{rng.choice(REAL)}]\n"
                f"status: published\nupdated: 2024-01-01\nevidence:\n{evidence}---\n\n## Context\n\n{paragraphs}\n")
        (folder / f"case-{i:05d}.md").write_text(text, encoding="utf-8")


def child(code: str) -> tuple[float, float, str]:
    """Run `code` in a fresh interpreter; (seconds, peak RSS MB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=HERE.parent)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, out.stdout


FLOOR_BUILD = """
import sqlite3, sys, yaml, os
from pathlib import Path
root = Path({root!r}); db = Path({db!r})
db.unlink(missing_ok=True)
con = sqlite3.connect(db)
con.execute("CREATE VIRTUAL TABLE cases USING fts5(id, title, summary, body)")
rows = []
for path in sorted(root.rglob("*.md")):
    text = path.read_text(encoding="utf-8")
    _, head, body = text.split("---\\n", 2)
    meta = yaml.load(head, Loader=yaml.CSafeLoader)
    rows.append((meta["id"], meta["title"], meta["summary"], body))
con.executemany("INSERT INTO cases VALUES (?, ?, ?, ?)", rows)
con.commit()
"""

KB_BUILD = "from pathlib import Path; from kb.storage.build import build; r = build(Path({root!r})); print(r.parsed, r.reindexed, {{k: round(v, 2) for k, v in r.timings.items()}})"

# What both search benchmarks run in their child: `timed(fn)` (median and p95 in ms of fn over
# the queries, five warm rounds) and `fts(q)`, the floor's query against the FTS5 table.
SEARCH_TOOLS = """
import json, statistics, time, sqlite3
from pathlib import Path
queries = {queries!r}
def timed(fn):
    for q in queries: fn(q)                       # warm
    samples = []
    for _ in range(5):
        for q in queries:
            t = time.perf_counter(); fn(q); samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
con = sqlite3.connect({db!r})
def fts(q):
    words = " ".join(w for w in q.replace('"', " ").replace("*", " ").split() if w.isalpha() and w.isupper() is False)
    rows = con.execute("SELECT id, snippet(cases, 3, '<b>', '</b>', '...', 20) FROM cases WHERE cases MATCH ? ORDER BY rank LIMIT 10",
                       (" OR ".join(words.split()) or "police",)).fetchall()
"""

SEARCH = SEARCH_TOOLS + """
from kb.knowledgebase import KnowledgeBase
kb = KnowledgeBase(Path({root!r}))
ours = timed(lambda q: kb.search(q, limit=10))
floor = timed(fts)
print(json.dumps({{"ours": ours, "floor": floor}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    root = work / "root"
    if not root.exists():
        t = time.perf_counter()
        generate(root, args.cases)
        print(f"generated {args.cases} cases in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    shutil.rmtree(root / ".kb", ignore_errors=True)
    size = sum(p.stat().st_size for p in (root / "case_studies").rglob("*.md")) / 1e6
    db = str(work / "floor.sqlite3")
    results = {}
    results["floor_build"] = child(FLOOR_BUILD.format(root=str(root / "case_studies"), db=db))
    results["full_build"] = child(KB_BUILD.format(root=str(root)))
    results["noop_build"] = child(KB_BUILD.format(root=str(root)))
    edited = root / "case_studies" / THEMES[0] / "case-00000.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("## Context", "## Context\n\nEdited paragraph."), encoding="utf-8")
    results["edit_build"] = child(KB_BUILD.format(root=str(root)))
    _, _, out = child(SEARCH.format(queries=QUERIES, root=str(root), db=db))
    latency = json.loads(out)
    floor_s = results["floor_build"][0]
    rows = [
        ("full build", f"{results['full_build'][0]:.1f} s", f"{floor_s:.1f} s", f"{results['full_build'][0] / floor_s:.1f}x", "<= 60 s"),
        ("no-op rebuild", f"{results['noop_build'][0]:.2f} s", f"{floor_s:.1f} s", f"{results['noop_build'][0] / floor_s:.2f}x", "<= 3 s"),
        ("one-edit rebuild", f"{results['edit_build'][0]:.2f} s", f"{floor_s:.1f} s", f"{results['edit_build'][0] / floor_s:.2f}x", "<= 2 s"),
        ("peak RSS (full build)", f"{results['full_build'][1]:.0f} MB", f"{results['floor_build'][1]:.0f} MB", f"{results['full_build'][1] / results['floor_build'][1]:.1f}x", "<= 1536 MB"),
        ("search median", f"{latency['ours'][0]:.1f} ms", f"{latency['floor'][0]:.1f} ms", f"{latency['ours'][0] / latency['floor'][0]:.1f}x", "<= 50 ms"),
        ("search p95", f"{latency['ours'][1]:.1f} ms", f"{latency['floor'][1]:.1f} ms", f"{latency['ours'][1] / latency['floor'][1]:.1f}x", "<= 150 ms"),
    ]
    print(f"\n{args.cases} cases, {size:.0f} MB of Markdown, {2 * args.cases} bibliography entries; "
          f"build subprocess stdout (parsed, reindexed, seconds per phase): full {results['full_build'][2].strip()}; "
          f"one edit {results['edit_build'][2].strip()}\n")
    print("| measure | kb | floor (libyaml + SQLite FTS5) | ratio | target |\n|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
