"""Benchmark: citation formatting and BibTeX export on a synthetic 20,000-entry bibliography.

Not a test: run it by hand (`.venv/bin/python benchmarks/bench_citations.py`) and copy the table
into docs/performance.md. Each target sits next to a floor measured in the same run:
(a) the reference list of a theme with 300 sources, per style, target <= 1 s; floor: one plain
    `pandoc --citeproc` run over the same 300 entries (the engine we use, run the ordinary way);
(b) exporting all 20,000 entries as BibTeX (parse, collect, write), target <= 5 s; floor: plain
    `bibtexparser.parse_string` of the same text plus writing the raw strings to a file.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bibtexparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.citations.bibliography import parse_bibliography  # noqa: E402
from kb.citations.exports import to_bibtex  # noqa: E402
from kb.citations.styles import STYLES, format_references, pandoc_path, style_file  # noqa: E402

FAMILIES = ["Doe", "Roe", "M{\\\"u}ller", "Garc{\\'i}a", "van der Meer", "de la Fontaine", "O'Brien", "Nguyen",
            "Kowalski", "Silva", "{\\O}stergaard", "Caulkins", "Reuter", "Kleiman", "Werb", "Ferreira"]
GIVEN = ["Jane", "Richard", "In{\\^e}s", "Piet", "Jean-Paul", "Ana Maria", "J. R.", "Mark", "Beau", "S{\\o}ren"]
CORPORATE = ["{World Bank}", "{United Nations Office on Drugs and Crime}", "{European Monitoring Centre for Drugs and Drug Addiction}"]
WORDS = ["policing", "drug", "markets", "harm", "reduction", "cannabis", "{HIV}", "enforcement", "violence", "deterrence",
         "evidence", "Z{\\\"u}rich", "cocaine", "heroin", "tolerance", "coffeeshops", "{UK}", "crackdowns", "displacement"]


def synthetic_entry(n: int, rng: random.Random) -> str:
    kind = rng.choice(["article", "article", "book", "techreport", "incollection", "misc"])
    if rng.random() < 0.1:
        authors = rng.choice(CORPORATE)
    else:
        authors = " and ".join(f"{rng.choice(FAMILIES)}, {rng.choice(GIVEN)}" for _ in range(rng.randint(1, 4)))
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))).capitalize()
    fields = {"author": authors, "title": title}
    if rng.random() < 0.95:
        fields["year"] = str(rng.randint(1970, 2024))
    if kind == "article":
        fields |= {"journal": "International Journal of Drug Policy", "volume": str(rng.randint(1, 90)),
                   "number": str(rng.randint(1, 12)), "pages": f"{n % 300 + 1}--{n % 300 + 20}", "doi": f"10.1000/bench.{n}"}
    elif kind == "book":
        fields |= {"publisher": "Example Press", "address": "London"}
    elif kind == "techreport":
        fields |= {"institution": "RAND Corporation", "number": f"RR-{n}", "url": f"https://example.org/reports/{n}"}
    elif kind == "incollection":
        fields |= {"booktitle": "Handbook of Drug Policy", "editor": "Kleiman, Mark", "publisher": "Example Press",
                   "pages": "33--44"}
    else:
        fields |= {"howpublished": "Press release", "url": f"https://example.org/news/{n}"}
    body = ",\n".join(f"  {key:<12} = {{{value}}}" for key, value in fields.items())
    return f"@{kind}{{bench{n},\n{body}\n}}"


def synthetic_bibliography(count: int, seed: int = 4) -> str:
    rng = random.Random(seed)
    return "\n\n".join(synthetic_entry(n, rng) for n in range(count)) + "\n"


def timed(function, repeat: int = 3) -> float:
    """Best of `repeat` runs, in seconds: the least disturbed by the rest of the machine."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--theme-sources", type=int, default=300)
    args = parser.parse_args()
    text = synthetic_bibliography(args.entries)
    sources, _ = parse_bibliography(text, "bench.bib")
    theme = list(sources.values())[: args.theme_sources]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        bib = Path(folder) / "theme.bib"
        bib.write_text("\n\n".join(source.raw for source in theme), encoding="utf-8")
        document = Path(folder) / "cite.md"
        document.write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
        for style in STYLES:
            def plain_pandoc():
                subprocess.run([pandoc_path(), "--citeproc", f"--csl={style_file(style)}", f"--bibliography={bib}",
                                "-t", "html", "-o", str(Path(folder) / "out.html"), str(document)], check=True)

            seconds = timed(lambda: format_references(theme, style, "html"))
            rows.append((f"reference list, theme of {len(theme)} sources, {style}", seconds, 1.0,
                         "plain pandoc --citeproc run", timed(plain_pandoc)))

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "export.bib"

        def export_all():
            parsed, _ = parse_bibliography(text, "bench.bib")
            out.write_text(to_bibtex(parsed.values()), encoding="utf-8")

        def floor_export():
            library = bibtexparser.parse_string(text)
            out.write_text("\n\n".join(entry.raw for entry in library.entries), encoding="utf-8")

        rows.append((f"BibTeX export, {len(sources):,} entries", timed(export_all), 5.0,
                     "bibtexparser.parse_string + write raw", timed(floor_export)))

    print("| measurement | seconds | target | floor | floor seconds |")
    print("| --- | ---: | ---: | --- | ---: |")
    for name, seconds, target, floor_name, floor_seconds in rows:
        mark = "" if seconds <= target else " (over)"
        print(f"| {name} | {seconds:.3f}{mark} | <= {target:g} | {floor_name} | {floor_seconds:.3f} |")


if __name__ == "__main__":
    main()
