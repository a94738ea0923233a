"""Static edition benchmark (`kb publish`): full, unchanged and one-edit publishes, beside a floor.

    .venv/bin/python benchmarks/bench_publish.py [--cases 10000] [--keep DIR]
    .venv/bin/python benchmarks/bench_publish.py --shipped          # the shipped collection

Builds the collection (bench_core's generated cases, or the shipped one into a data folder of its
own), then publishes it three times into one folder: from nothing, again with nothing changed,
and after editing one case's body and building again. The floor, in the same run: copying the
finished edition's files into a new folder (the writing a publish cannot avoid) and Pagefind
indexing it alone. Prints a Markdown table with sizes, times, files written and peak RSS.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--keep", type=Path, help="reuse (or keep) the generated collection and its build here")
    parser.add_argument("--shipped", action="store_true", help="the shipped collection instead of generated cases")
    args = parser.parse_args()
    from kb.settings import Settings
    from kb.storage.build import build
    from webapp.publish import _pagefind, publish

    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-publish-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.shipped:
        root = HERE.parent
        data = work / "shipped-data"
        settings = Settings.load({"ROOT": str(root), "DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'kb.sqlite3'}",
                                  "BASE_URL": "https://example.org/kb"}, environ={})
    else:
        from bench_core import generate
        root = work / "root"
        if not root.exists():
            generate(root, args.cases)
        settings = Settings.load({"ROOT": str(root), "BASE_URL": "https://example.org/kb"}, environ={})
    started = time.perf_counter()
    build(settings)
    print(f"build (pages rendered in it): {time.perf_counter() - started:.1f} s", file=sys.stderr)
    out = work / "edition" / "site"
    shutil.rmtree(out.parent, ignore_errors=True)
    rows = []

    def run(label: str) -> None:
        report = publish(settings, out)
        rows.append((label, report, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        print(f"{label}: {report.seconds:.1f} s", file=sys.stderr)

    run("full publish")
    run("again, nothing changed")
    case = sorted((root / "case_studies").rglob("*.md"))[0]
    text = case.read_text(encoding="utf-8")
    try:
        case.write_text(text + "\nOne more sentence for the benchmark.\n", encoding="utf-8")
        build(settings)
        run("after one case's body changed")
    finally:
        case.write_text(text, encoding="utf-8")
        build(settings)
    copy = work / "edition" / "floor-copy"
    started = time.perf_counter()
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("pagefind"))
    copy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _pagefind(copy)
    pagefind_seconds = time.perf_counter() - started
    shutil.rmtree(copy)
    full = rows[0][1]
    cases = len(list((root / "case_studies").rglob("*.md")))
    print(f"\n{cases} case files; floor: copying the edition's {full.files} files {copy_seconds:.1f} s, "
          f"Pagefind alone {pagefind_seconds:.1f} s\n")
    print("| publish | seconds | of which Pagefind | / floor (copy + Pagefind) | pages | files | MB | written | unchanged | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, report, rss in rows:
        print(f"| {label} | {report.seconds:.1f} | {report.pagefind_seconds:.1f} | "
              f"{report.seconds / (copy_seconds + pagefind_seconds):.1f}x | {report.pages:,} | {report.files:,} | "
              f"{report.bytes / 1e6:.0f} | {report.written:,} | {report.unchanged:,} | {rss:.0f} MB |")
    pagefind_bytes = sum(p.stat().st_size for p in (out / "pagefind").rglob("*") if p.is_file())
    print(f"\nPagefind's index: {pagefind_bytes / 1e6:.1f} MB in {sum(1 for _ in (out / 'pagefind').rglob('*'))} files")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
