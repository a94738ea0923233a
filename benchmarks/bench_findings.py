"""Evidence-model benchmark: verdicts per case and outcome, a theme's verdicts and summary of
findings, the output-versus-harm ledger, the evidence map on other axes or coloured by verdict, and
the EPPI-Mapper export, in process on a synthetic collection, each beside a floor.

    .venv/bin/python benchmarks/bench_findings.py [--cases 10000] [--keep DIR]

Generates (or reuses, with --keep) bench_core.py's collection, with directions, strengths and the
`change` of output items varied so that every verdict and ledger cell occurs, and builds it. The
floor, in the same run: one pass in Python over every evidence row counting (case, outcome,
direction), the least any summary per case and outcome must do. Figures go in docs/performance.md.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

DIRECTIONS = ("improved", "improved", "worsened", "no-change", "mixed", "unclear")
OUTPUTS = ("arrests", "seizures", "eradication", "cultivation", "convictions")


def vary(root: Path, seed: int = 11) -> None:
    """Directions, strengths and output changes drawn at random (the generated items are all
    'improved, SMS 3')."""
    rng = random.Random(seed)
    for path in sorted((root / "case_studies").rglob("*.md")):
        text = path.read_text(encoding="utf-8")

        def item(match: re.Match) -> str:
            block = match.group(0).replace("direction: improved", f"direction: {rng.choice(DIRECTIONS)}")
            block = block.replace("strength: 3", f"strength: {rng.choice((1, 2, 3, 3, 4, 5))}")
            if re.search(r"outcome: (%s)\b" % "|".join(OUTPUTS), block):
                block += f"    change: {rng.choice(('up', 'down', 'mixed'))}\n"
            return block
        path.write_text(re.sub(r"  - id: .*?strength: 3\n", item, text, flags=re.S), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    from bench_core import generate
    from bench_research import timed

    from kb.knowledgebase import KnowledgeBase, session
    from kb.storage.build import build
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-findings-"))
    root = work / "root"
    if not root.exists():
        generate(root, args.cases)
        vary(root)
    os.environ.pop("KB_DATABASE_URL", None)
    os.environ.setdefault("KB_RENDER_PAGES", "first-view")
    report = build(root)
    print(f"build: {report.seconds:.0f} s ({report.reindexed} re-indexed)", file=sys.stderr)
    kb = KnowledgeBase(root)
    themes = list(kb.vocabulary.kinds["themes"])
    with session():
        started = time.perf_counter()
        rows = kb._evidence_items(False).rows             # read once per generation (the evidence list's cost)
        read = time.perf_counter() - started

        def cold(fn):
            """A first request after a build: nothing derived is kept yet."""
            def run(arg):
                kb._derived.clear()
                return fn(arg)
            return run

        def floor(_):
            return Counter((row.case_id, row.outcome, row.direction) for row in rows)

        verdict_map = lambda _: kb.evidence_grid(verdicts=True)                          # noqa: E731
        design_map = lambda _: kb.evidence_grid(rows="region", cols="design", segment="design")  # noqa: E731
        results = {
            "verdicts of every case and harm outcome (first request after a build or a reconciliation)":
                (timed(cold(lambda _: kb.verdicts()), [0], 3), timed(floor, [0], 3)),
            "a theme's verdicts per outcome (the table kept)": (timed(lambda t: kb.group_verdicts({"theme": [t]}), themes), None),
            "a theme's summary of findings (the table kept)": (timed(lambda t: kb.findings({"theme": [t]}), themes), None),
            "the ledger, every case, first request": (timed(cold(lambda _: kb.ledger()), [0], 3), None),
            "the ledger, every case, later requests": (timed(lambda _: kb.ledger(), [0]), None),
            "the ledger of a theme, later requests": (timed(lambda t: kb.ledger({"theme": [t]}), themes), None),
            "the map, theme x outcome, coloured by verdict, first request": (timed(cold(verdict_map), [0], 3), None),
            "the map, region x design, split by design, first request": (timed(cold(design_map), [0], 3), None),
            "a map, later requests (kept)": (timed(verdict_map, [0]), None),
            "EPPI-Mapper export, every item": (timed(lambda _: kb.eppi_mapper(), [0], 2), None),
        }
        verdicts = Counter(v.verdict for found in kb.verdicts().values() for v in found.values())
        ledger = kb.ledger()
    floor_p95 = results["verdicts of every case and harm outcome (first request after a build or a reconciliation)"][1][1]
    print(f"\n{kb.stats()['cases']} cases, {len(rows)} evidence items (read in {read:.2f} s); verdicts: "
          f"{dict(verdicts)}; ledger: {ledger.opposite} of {ledger.both} cases measuring both in opposite directions\n")
    print(f"floor: one pass over the rows counting (case, outcome, direction): p95 {floor_p95:.1f} ms\n")
    print("| measure | median | p95 | p95 / floor |\n|---|---|---|---|")
    for name, ((median, p95), _) in results.items():
        print(f"| {name} | {median:.1f} ms | {p95:.1f} ms | {p95 / floor_p95:.1f}x |")
    kb.close()


if __name__ == "__main__":
    main()
