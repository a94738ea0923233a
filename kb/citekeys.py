"""Pandoc citation syntax: `[@key]`, `[@key, p. 12]`, `[see @a; -@b, ch. 4]`.

A group is a bracketed run of `;`-separated parts, each with one `@key`, an optional prefix before
it, and an optional locator after a comma. `[@key](url)` stays a link and code spans are skipped,
as pandoc does.
"""
from __future__ import annotations

import re

from .model import CiteRef, Citation

KEY = r"(?:\{(?P<bkey>[^{}\s]+)\}|(?P<key>\w(?:[\w:.#$%&+?<>~/-]*\w)?))"
_PART = re.compile(rf"^(?P<prefix>.*?)(?P<minus>-)?@{KEY}(?P<rest>.*)$", re.S)
_GROUP = re.compile(r"\[(?P<inner>[^\[\]]*@[^\[\]]*)\](?![(\[])", re.S)
_CODE = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)|^(?:```|~~~).*?^(?:```|~~~)", re.M | re.S)
_AT = re.compile(r"(?:^|(?<=[\s\[;-]))@")


class CitationSyntaxError(ValueError):
    """A bracketed group that looks like a citation but is not one; the message says why."""


def _mask_code(text: str) -> str:
    """Blank out code spans and fences (same length) so offsets still point into the original."""
    return _CODE.sub(lambda m: " " * len(m.group(0)), text)


def parse_part(part: str) -> CiteRef:
    match = _PART.match(part.strip())
    if not match or not _AT.search(part.strip()):
        raise CitationSyntaxError(f"{part.strip()!r} has no @key")
    key = match.group("bkey") or match.group("key")
    rest = match.group("rest")
    if rest and not rest.startswith(","):
        if rest[0] not in " \t\n":
            raise CitationSyntaxError(f"{part.strip()!r}: key @{key} runs into {rest[0]!r}")
        locator = rest.strip()
    else:
        locator = rest[1:].strip()
    prefix = match.group("prefix").strip()
    return CiteRef(key=key, locator=locator, prefix=prefix, suppress_author=bool(match.group("minus")))


def parse_group(inner: str) -> tuple[CiteRef, ...]:
    return tuple(parse_part(part) for part in inner.split(";"))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def find_citations(text: str) -> tuple[list[Citation], list[tuple[int, str]]]:
    """All citation groups in `text`, plus (line, message) for groups that are malformed."""
    masked = _mask_code(text)
    found: list[Citation] = []
    bad: list[tuple[int, str]] = []
    for match in _GROUP.finditer(masked):
        inner = match.group("inner")
        if not _AT.search(inner):
            continue  # an e-mail address or similar, not a citation
        line = _line_of(text, match.start())
        try:
            refs = parse_group(inner)
        except CitationSyntaxError as exc:
            bad.append((line, f"malformed citation {match.group(0)!r}: {exc}; write [@key] or [@key, p. 12; @other]"))
            continue
        found.append(Citation(refs=refs, start=match.start(), end=match.end(), line=line))
    return found, bad


def parse_cite_field(value: str) -> list[CiteRef]:
    """An evidence item's `cite`: one or more citation groups and nothing else."""
    citations, bad = find_citations(value)
    if bad:
        raise CitationSyntaxError(bad[0][1])
    leftover = value
    for citation in reversed(citations):
        leftover = leftover[: citation.start] + leftover[citation.end:]
    if not citations or leftover.strip():
        raise CitationSyntaxError(
            f"{value!r} is not a citation; write it like \"[@key, p. 12; @other]\"")
    return [ref for citation in citations for ref in citation.refs]


def format_ref(ref: CiteRef) -> str:
    text = ("-" if ref.suppress_author else "") + "@" + ref.key
    if ref.prefix:
        text = f"{ref.prefix} {text}"
    if ref.locator:
        text += f", {ref.locator}"
    return text


def format_group(refs: tuple[CiteRef, ...] | list[CiteRef]) -> str:
    return "[" + "; ".join(format_ref(ref) for ref in refs) + "]"
