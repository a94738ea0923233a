"""How many references `kb` formats exactly as a plain pandoc run does, per style.

The reference is pandoc's citeproc run the ordinary way (`pandoc --citeproc --bibliography
bibliography.bib` with every entry cited), by the pandoc that `kb` uses (3.9, from pypandoc-binary)
and, when installed, by another one (Debian's 2.17). Ours differs where we correct pandoc on
purpose (docs/citations.md lists why), and nowhere else. Entries are compared after normalising
quotes, dashes and spaces, as the second edition's issue measured them.

    python benchmarks/agreement.py [--pandoc PATH] [--bib bibliography.bib]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.citations.bibliography import parse_bibliography  # noqa: E402
from kb.citations.styles import STYLES, format_document, pandoc_path, style_file  # noqa: E402


@dataclass
class Agreement:
    style: str
    total: int
    identical: int
    different: list[tuple[str, str, str]] = field(default_factory=list)   # (key, ours, reference)

    @property
    def share(self) -> float:
        return self.identical / self.total if self.total else 1.0


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                         "\u00a0": " ", "\u2009": " ", "\u202f": " "})


def normalised(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split())


def reference_run(pandoc: str, bib: Path, style: str) -> dict[str, str]:
    """key -> plain text of each entry, from one ordinary pandoc run citing every entry."""
    from lxml import html
    command = [pandoc, "--citeproc", f"--csl={style_file(style)}", f"--bibliography={bib}",
               "-f", "markdown", "-t", "html", "--wrap=none"]
    if style in STYLES:
        command += ["-M", f"lang={STYLES[style].locale}"]
    with tempfile.TemporaryDirectory() as folder:
        document = Path(folder, "empty.md")
        document.write_text("---\nnocite: '@*'\n---\n", encoding="utf-8")
        out = subprocess.run([*command, str(document)], capture_output=True, text=True, check=True).stdout
    tree = html.fragment_fromstring(out, create_parent="div")
    return {entry.get("id")[len("ref-"):]: entry.text_content()
            for entry in tree.xpath("//div[contains(concat(' ', @class, ' '), ' csl-entry ')]")}


def measure(bib: Path, styles=tuple(STYLES), pandoc: str | None = None) -> list[Agreement]:
    sources, _ = parse_bibliography(bib.read_text(encoding="utf-8"), str(bib))
    results = []
    for style in styles:
        reference = reference_run(pandoc or pandoc_path(), bib, style)
        ours = dict(format_document(list(sources.values()), [], style, "text").references)
        agreement = Agreement(style, len(reference), 0)
        for key, theirs in reference.items():
            if normalised(ours.get(key, "")) == normalised(theirs):
                agreement.identical += 1
            else:
                agreement.different.append((key, ours.get(key, ""), theirs))
        results.append(agreement)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pandoc", help="the reference pandoc (default: the one kb uses)")
    parser.add_argument("--bib", type=Path, default=ROOT / "bibliography.bib")
    parser.add_argument("--show", action="store_true", help="print every difference")
    args = parser.parse_args()
    version = subprocess.run([args.pandoc or pandoc_path(), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    started = time.perf_counter()
    print(f"reference: {version}; bibliography: {args.bib}")
    print("| style | identical | of | share |\n| --- | ---: | ---: | ---: |")
    for found in measure(args.bib, pandoc=args.pandoc):
        print(f"| {found.style} | {found.identical} | {found.total} | {found.share:.1%} |")
        if args.show:
            for key, ours, theirs in found.different:
                print(f"  {key}\n    ours:   {normalised(ours)}\n    pandoc: {normalised(theirs)}")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
