"""BibTeX codec: bibliography.bib -> Sources, with every parsing problem reported by line.

bibtexparser 2 never raises on bad input: failed blocks are collected and reported here. Values
are kept as written (LaTeX and braces included) for faithful export; `decoded()` turns a field
into display text with pylatexenc, once per value, only when something shows it.
"""
from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry, ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

from ..errors import ERROR, WARNING, Problem
from ..model import Source

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

# Fields an entry type needs to be cited properly (BibTeX's required fields; `|` means either).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "article": ("author", "title", "journal", "year"),
    "book": ("author|editor", "title", "publisher", "year"),
    "incollection": ("author", "title", "booktitle", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "techreport": ("author", "title", "institution", "year"),
    "phdthesis": ("author", "title", "school", "year"),
    "mastersthesis": ("author", "title", "school", "year"),
    "unpublished": ("author", "title", "note"),
    "misc": ("title",),
    "online": ("title", "url|doi"),
    "report": ("author", "title", "institution", "year"),
}


def _source(entry: Entry) -> Source:
    fields = {field.key.lower(): str(field.value) for field in entry.fields}
    return Source(key=entry.key, entry_type=entry.entry_type.lower(), fields=fields,
                  raw=entry.raw.strip(), line=entry.start_line + 1)


def missing_fields(source: Source) -> list[str]:
    needed = REQUIRED_FIELDS.get(source.entry_type, ("title",))
    return [need for need in needed if not any(source.fields.get(alt, "").strip() for alt in need.split("|"))]


def parse_bibliography(text: str, path: str) -> tuple[dict[str, Source], list[Problem]]:
    library = bibtexparser.parse_string(text)
    sources: dict[str, Source] = {}
    problems: list[Problem] = []
    for entry in library.entries:
        sources[entry.key] = _source(entry)
    for block in library.failed_blocks:
        line = block.start_line + 1
        if isinstance(block, DuplicateBlockKeyBlock):
            first = sources.get(block.key)
            where = f" (first at line {first.line})" if first else ""
            problems.append(Problem(path, line, ERROR, "duplicate-bib-key",
                                    f"duplicate bibliography key {block.key!r}{where}; rename or remove one entry"))
        elif isinstance(block, DuplicateFieldKeyBlock):
            entry = block.ignore_error_block
            sources.setdefault(entry.key, _source(entry))
            problems.append(Problem(path, line, ERROR, "duplicate-bib-field",
                                    f"entry {entry.key!r}: {block.error}; keep one value of each field"))
        elif isinstance(block, ParsingFailedBlock):
            first_line = block.raw.strip().splitlines()[0][:60] if block.raw.strip() else ""
            reason = getattr(block.error, "abort_reason", None) or str(block.error or "").strip() or "syntax error"
            problems.append(Problem(path, line, ERROR, "bib-parse",
                                    f"entry {first_line!r} cannot be parsed ({reason}); check braces, commas and quotes"))
    for source in sources.values():
        problems += [Problem(path, source.line, ERROR, "bib-field-too-long",
                             f"entry {source.key!r}: field {name!r} is {len(value):,} characters long, more than "
                             f"{MAX_FIELD:,}; shorten it") for name, value in source.fields.items() if len(value) > MAX_FIELD]
        note = source.fields.get("note", "").lower()
        for field in missing_fields(source):
            if any(alt in note for alt in field.split("|")):
                continue  # the note explains why the field is absent
            problems.append(Problem(path, source.line, WARNING, "bib-missing-field",
                                    f"entry {source.key!r} (@{source.entry_type}) has no {field.replace('|', ' or ')}; "
                                    "add it if the work has one, or explain its absence in `note`"))
    return sources, problems


_latex = LatexNodes2Text(math_mode="text", strict_latex_spaces=False)
MAX_FIELD = 10_000     # characters in one field; an author list of 400 names fits
MAX_LATEX = 4_000      # pylatexenc costs about 10 ms per 1,000 characters and recurses on braces:
MAX_BRACE_DEPTH = 16   # longer or deeper values are shown with their braces stripped instead


def brace_depth(value: str) -> int:
    depth = deepest = 0
    for ch in value:
        if ch == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "}":
            depth -= 1
    return deepest


@lru_cache(maxsize=65536)
def decode_latex(value: str) -> str:
    """Display text of a BibTeX value: `M{\\"u}ller` -> `Müller`, braces dropped. Always in
    precomposed form (NFC), whether the accent was LaTeX or typed as a combining character, so
    the same name is the same text for display, sorting and search."""
    return unicodedata.normalize("NFC", _decoded_text(value))


def _decoded_text(value: str) -> str:
    if not any(ch in value for ch in "\\$~") or len(value) > MAX_LATEX or brace_depth(value) > MAX_BRACE_DEPTH:
        return " ".join(value.replace("{", "").replace("}", "").replace("---", "\u2014").replace("--", "\u2013").split())
    try:
        return " ".join(_latex.latex_to_text(value).split())
    except Exception:  # pylatexenc is lenient, but a display string must never fail a page
        return value.replace("{", "").replace("}", "")


def decoded(source: Source, field: str) -> str:
    return decode_latex(source.fields.get(field, ""))
