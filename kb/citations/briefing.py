"""A briefing from a basket: the case studies, each picked claim with its in-text citation, then the
reference list, in one style; as DOCX, ODT, HTML, Markdown or plain text, made by pandoc.

The briefing is written as pandoc Markdown citing `[@key, p. 5]` and `[@case:<id>]`, and pandoc
formats it against the basket's own bibliography (the sources' BibTeX, the cases as CSL-JSON), so
what a report author pastes into Word or LibreOffice has citations and references in the style,
with italics, and no list numbers. `markdown_draft` is the same document before pandoc formats it:
a draft an author can build on with `pandoc --citeproc --bibliography basket.bib`.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from pathlib import Path

from ..errors import KbError, UnknownIdError
from ..model import CiteRef, Source
from .bibliography import bibtex_entry
from .exports import KB_NAME, case_key, case_to_csl
from .selection import (Basket, CiteRequest, Library, basket_citations, build_basket, resolve, theme_cases,
                        unique_sources)
from .styles import STYLES, citation_markdown, markdown_text, pandoc_path, style_file, style_name, style_title

BRIEFING_FORMATS = {"docx": "docx", "odt": "odt", "html": "html", "md": "markdown", "txt": "plain"}
BRIEFING_MIMETYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "odt": "application/vnd.oasis.opendocument.text", "html": "text/html; charset=utf-8",
             "md": "text/markdown; charset=utf-8", "txt": "text/plain; charset=utf-8"}
def markdown_draft(basket: Basket, sources: dict[str, Source], style: str, title: str = "Evidence briefing") -> str:
    """The briefing as pandoc Markdown with citation keys, before formatting."""
    style = style_name(style)
    listed = "; ".join("@{" + source.key + "}" for source in _listed(basket, sources))
    lines = ["---", f"title: {json.dumps(title)}", f"date: {dt.date.today().isoformat()}",
             f"nocite: {json.dumps(listed)}", "---", "",
             f"Drawn from the {markdown_text(KB_NAME)}; references in {markdown_text(style_title(style))} style.", ""]
    cases = basket.cases_cited()
    if cases:
        lines += ["# Case studies", ""]
        for case in cases:
            lines += [f"**{markdown_text(case.title)}** [-@{{{case_key(case)}}}]", ""]
            if case.summary:
                lines += [markdown_text(case.summary), ""]
    picked = basket.evidence_items()
    if picked:
        lines += ["# Claims", ""]
        for case, item in picked:
            refs = resolve(item.citations, sources, f"evidence {case.id}/{item.id}")
            claim = markdown_text(item.claim).rstrip("\\.")
            cites = [CiteRef(ref.source.key, ref.locator, ref.prefix, ref.suppress_author) for ref in refs]
            lines += [f"- {claim} {citation_markdown(cites)}." if refs else f"- {claim}.", ""]
    lines += ["# References", "", "::: {#refs}", ":::", ""]
    return "\n".join(lines)


def _listed(basket: Basket, sources: dict[str, Source]) -> list[Source]:
    """Every work the basket cites (its cases' texts and claims, and the works picked alone): the
    briefing's reference list, as on the basket page."""
    return unique_sources(basket_citations(basket, sources))


def bibliography_files(folder: Path, basket: Basket, sources: dict[str, Source], url_base: str | None) -> list[Path]:
    bib = folder / "sources.bib"
    bib.write_text("\n\n".join(bibtex_entry(source) for source in _listed(basket, sources)), encoding="utf-8")
    items = folder / "cases.json"
    items.write_text(json.dumps([case_to_csl(case, url_base) for case in basket.cases_cited()]), encoding="utf-8")
    return [bib, items]


def make_briefing(basket: Basket, sources: dict[str, Source], style: str, fmt: str, url_base: str | None = None,
             title: str = "Evidence briefing") -> bytes:
    """The formatted briefing as the bytes of a `fmt` file (a key of BRIEFING_FORMATS)."""
    if fmt not in BRIEFING_FORMATS:
        raise KbError(f"unknown briefing format {fmt!r}; use one of: {', '.join(BRIEFING_FORMATS)}")
    style = style_name(style)
    text = markdown_draft(basket, sources, style, title)
    with tempfile.TemporaryDirectory(prefix="kb-briefing-") as folder:
        out = Path(folder) / f"briefing.{fmt}"
        command = [pandoc_path(), "--from=markdown", f"--to={BRIEFING_FORMATS[fmt]}", "--citeproc", f"--csl={style_file(style)}",
                   *(f"--bibliography={path}" for path in bibliography_files(Path(folder), basket, sources, url_base)),
                   "--wrap=none", f"--output={out}"]
        if fmt == "html":
            command.append("--standalone")
        if style in STYLES:
            command.append(f"--metadata=lang:{STYLES[style].locale}")
        try:
            run = subprocess.run(command, input=text, capture_output=True, text=True, encoding="utf-8", timeout=120,
                                 check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KbError(f"pandoc could not make the briefing: {exc}") from None
        if run.returncode != 0:
            raise KbError(f"pandoc could not make the briefing: {(run.stderr.strip().splitlines() or ['?'])[0]}")
        return out.read_bytes()


def briefing_output(library: Library, request: CiteRequest, fmt: str, url_base: str | None = None) -> bytes:
    """`kb cite ... --format docx|odt --output FILE`: the briefing of what the request names."""
    members = theme_cases(library.cases, request.theme, library.themes) if request.theme else []
    basket = build_basket(library.cases, request.ids, request.evidence, members, request.hit_ids)
    if not basket:
        raise UnknownIdError("nothing to cite: give case ids, --evidence CASE/EVIDENCE, --theme THEME or --query TEXT")
    return make_briefing(basket, library.sources, request.style, fmt, url_base)
