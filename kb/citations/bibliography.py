"""BibTeX codec: bibliography.bib -> Sources, with every parsing problem reported by line.

bibtexparser 2 never raises on bad input: failed blocks are collected and reported here. Values
are kept as written (LaTeX and braces included) for faithful export; `decoded()` turns a field
into display text with pylatexenc, once per value, only when something shows it.
"""
from __future__ import annotations

import logging
import re
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


# Maintainers' records (where each fact was seen, what was not): kept in bibliography.bib and read by
# `kb bib check`, never exported or shown on a page.
PRIVATE_FIELDS = ("verification",)


def public_fields(source: Source) -> dict[str, str]:
    return {name: value for name, value in source.fields.items() if name not in PRIVATE_FIELDS}


def bibtex_entry(source: Source) -> str:
    """The entry as exported and shown: its original text without the private fields, the rest
    byte for byte. An entry our scanner cannot follow is written afresh from its fields instead,
    so a private field never slips through."""
    if not any(name in source.fields for name in PRIVATE_FIELDS):
        return source.raw
    text = source.raw
    while True:
        spans = field_spans(text)
        if spans is None:
            return _rewritten(source)
        private = [n for n, (name, _, _) in enumerate(spans) if name in PRIVATE_FIELDS]
        if not private:
            return text
        text = _without_field(text, spans, private[0])


_ENTRY_HEAD = re.compile(r"\s*@\s*\w+\s*[{(][^,{}()]*,")
_FIELD_NAME = re.compile(r"\s*([A-Za-z][\w:.+-]*)\s*=\s*")
_BARE_VALUE = re.compile(r"[^\s,#{}\"()]+")


def field_spans(raw: str) -> list[tuple[str, int, int]] | None:
    """(lowercase name, start, end) of each field of one entry's text, from the first letter of its
    name to the end of its value; None when the text is not one well-formed entry."""
    head = _ENTRY_HEAD.match(raw)
    if not head:
        return None
    spans, position = [], head.end()
    while match := _FIELD_NAME.match(raw, position):
        end = _value_end(raw, match.end())
        if end is None:
            return None
        spans.append((match.group(1).lower(), match.start(1), end))
        comma = re.compile(r"\s*,").match(raw, end)
        position = comma.end() if comma else end
        if not comma:
            break
    return spans if re.fullmatch(r"\s*[})]\s*", raw[position:]) else None


def _value_end(raw: str, position: int) -> int | None:
    """End of a value: `{...}`, `"..."` or a bare word or number, joined by `#`."""
    while True:
        if raw.startswith("{", position):
            end = _closing_brace(raw, position)
        elif raw.startswith('"', position):
            end = _closing_quote(raw, position)
        else:
            bare = _BARE_VALUE.match(raw, position)
            end = bare.end() if bare else None
        if end is None:
            return None
        joined = re.compile(r"\s*#\s*").match(raw, end)
        if not joined:
            return end
        position = joined.end()


def _closing_brace(raw: str, position: int) -> int | None:
    depth = 0
    for index in range(position, len(raw)):
        depth += {"{": 1, "}": -1}.get(raw[index], 0)
        if depth == 0:
            return index + 1
    return None


def _closing_quote(raw: str, position: int) -> int | None:
    depth = 0
    for index in range(position + 1, len(raw)):
        char = raw[index]
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == '"' and depth == 0:
            return index + 1
    return None


def _without_field(raw: str, spans: list[tuple[str, int, int]], index: int) -> str:
    """The text with field `index` cut out: its own line when it has one, else just the field,
    and one separating comma (the one after it, or before it for the last field)."""
    _, start, end = spans[index]
    line_start = raw.rfind("\n", 0, start) + 1
    whole_line = not raw[line_start:start].strip()
    after = re.compile(r"[ \t]*,").match(raw, end)
    if after:
        cut_start, cut_end = (line_start if whole_line else start), after.end()
        trailing = re.compile(r"[ \t]*\r?\n" if whole_line else r"[ \t]*").match(raw, cut_end)
        return raw[:cut_start] + raw[trailing.end() if trailing else cut_end:]
    if index == 0:  # the only field: keep the key's comma
        return raw[:line_start if whole_line else start] + raw[end:].lstrip(" \t").removeprefix("\r").removeprefix("\n")
    comma = re.compile(r"\s*,").match(raw, spans[index - 1][2])
    return raw[:comma.start()] + raw[end:]


def _rewritten(source: Source) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in public_fields(source).items())
    return f"@{source.entry_type}{{{source.key},\n{body}\n}}"


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
        explained = " ".join(source.fields.get(name, "") for name in ("note", *PRIVATE_FIELDS)).lower()
        for field in missing_fields(source):
            if any(alt in explained for alt in field.split("|")):
                continue  # the verification record (or the note) explains why the field is absent
            problems.append(Problem(path, source.line, WARNING, "bib-missing-field",
                                    f"entry {source.key!r} (@{source.entry_type}) has no {field.replace('|', ' or ')}; "
                                    "add it if the work has one, or explain its absence in `verification`"))
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
    return unicodedata.normalize("NFC", tex_quotes(_decoded_text(value)))


_SINGLE_QUOTED = re.compile(r"`([^`']*(?:'(?=\w)[^`']*)*)'(?!\w)")


def tex_quotes(text: str) -> str:
    """TeX's quotes as the characters they print: ``x'' -> “x”, `x' -> ‘x’ (an apostrophe inside,
    as in `Boston's', stays one)."""
    if "`" not in text and "''" not in text:
        return text
    text = text.replace("``", "\u201c").replace("''", "\u201d")
    return _SINGLE_QUOTED.sub("\u2018\\1\u2019", text)


def _decoded_text(value: str) -> str:
    if not any(ch in value for ch in "\\$~") or len(value) > MAX_LATEX or brace_depth(value) > MAX_BRACE_DEPTH:
        return " ".join(value.replace("{", "").replace("}", "").replace("---", "\u2014").replace("--", "\u2013").split())
    try:
        return " ".join(_latex.latex_to_text(value).split())
    except Exception:  # pylatexenc is lenient, but a display string must never fail a page
        return value.replace("{", "").replace("}", "")


def decoded(source: Source, field: str) -> str:
    return decode_latex(source.fields.get(field, ""))
