"""Pandoc citation syntax: `[@key]`, `[@key, p. 12]`, `[see @a; -@b, ch. 4]`.

A group is a bracketed run of `;`-separated parts, each with one `@key`, an optional prefix before
it, and an optional locator after a comma. `[@key](url)` stays a link and code spans are skipped,
as pandoc does.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..errors import shown
from ..model import Citation, CiteRef

KEY = r"(?:\{(?P<bkey>[^{}\s]+)\}|(?P<key>\w(?:[\w:.#$%&+?<>~/-]*\w)?))"
_PART = re.compile(rf"^(?P<prefix>.*?)(?P<minus>-)?@{KEY}(?P<rest>.*)$", re.S)
_SIMPLE = re.compile(rf"@{KEY}")
# A bracketed run with no brackets inside, not followed by `(` or `[` (a link). Whether it holds an
# `@` is checked after the match: `[^\[\]]*@[^\[\]]*` backtracked once per `@` (quadratic).
_GROUP = re.compile(r"\[(?P<inner>[^\[\]]*)\](?![(\[])")
_BACKTICKS = re.compile(r"`+")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})", re.M)
_AT = re.compile(r"(?:^|(?<=[\s\[;-]))@")


class CitationSyntaxError(ValueError):
    """A bracketed group that looks like a citation but is not one; the message says why."""


def code_ranges(text: str) -> list[tuple[int, int]]:
    """(start, end) of every fenced code block and code span, in one pass (linear time).

    Fences follow CommonMark: a line starting with three or more backticks or tildes opens a block
    that a line of at least as many of the same character closes (or the end of the text). A code
    span is a run of backticks closed by the next run of exactly the same length; an unmatched run
    is literal. The old regular expression for this backtracked cubically on a line of backticks."""
    fences = list(_FENCE.finditer(text))
    ranges: list[tuple[int, int]] = []
    position, index = 0, 0
    while index < len(fences):
        opening = fences[index]
        index += 1
        marker = opening.group("fence")
        if opening.start() < position or (marker[0] == "`" and "`" in text[opening.end():_line_end(text, opening.end())]):
            continue  # inside an earlier block, or a backtick line that is an inline span
        ranges += _spans(text, position, opening.start())
        end = len(text)
        while index < len(fences):
            closing = fences[index]
            index += 1
            fence = closing.group("fence")
            if fence[0] == marker[0] and len(fence) >= len(marker) and \
                    not text[closing.end():_line_end(text, closing.end())].strip(" \t"):
                end = _line_end(text, closing.end())
                break
        ranges.append((opening.start(), end))
        position = end
    return ranges + _spans(text, position, len(text))


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Code spans between start and end: each backtick run is matched with the next run of the
    same length (a pointer per length keeps this linear in the number of runs)."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text, start, end)]
    by_length: dict[int, list[int]] = {}
    for index, (a, b) in enumerate(runs):
        by_length.setdefault(b - a, []).append(index)
    pointer = dict.fromkeys(by_length, 0)
    spans, index = [], 0
    while index < len(runs):
        length = runs[index][1] - runs[index][0]
        same, at = by_length[length], pointer[length]
        while at < len(same) and same[at] <= index:
            at += 1
        pointer[length] = at
        if at == len(same):
            index += 1      # no closing run: the backticks are literal
            continue
        closer = same[at]
        spans.append((runs[index][0], runs[closer][1]))
        index = closer + 1
    return spans


def _mask_code(text: str) -> str:
    """Blank out code spans and fences (same length) so offsets still point into the original."""
    parts, last = [], 0
    for start, end in code_ranges(text):
        parts += [text[last:start], " " * (end - start)]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def parse_part(part: str) -> CiteRef:
    part = part.strip()
    simple = _SIMPLE.fullmatch(part)
    if simple:                       # the common `@key`: no prefix, locator or minus
        return CiteRef(key=simple.group("bkey") or simple.group("key"))
    match = _PART.match(part)
    if not match or not _AT.search(part):
        raise CitationSyntaxError(f"{shown(part)} has no @key")
    key = match.group("bkey") or match.group("key")
    rest = match.group("rest")
    if rest and not rest.startswith(","):
        if rest[0] not in " \t\n":
            raise CitationSyntaxError(f"{shown(part)}: key @{key} runs into {rest[0]!r}")
        locator = rest.strip()
    else:
        locator = rest[1:].strip()
    prefix = match.group("prefix").strip()
    return CiteRef(key=key, locator=locator, prefix=prefix, suppress_author=bool(match.group("minus")))


@lru_cache(maxsize=4096)
def parse_group(inner: str) -> tuple[CiteRef, ...]:
    """The refs of one group (cached: a body cites the same works again and again)."""
    return tuple(parse_part(part) for part in inner.split(";"))


def _groups(text: str):
    """Every bracketed group outside code that looks like a citation (an `@` where a key can start),
    well-formed or not; an e-mail address in brackets is not one."""
    for match in _GROUP.finditer(_mask_code(text)):
        inner = match.group("inner")
        if "@" in inner and _AT.search(inner):
            yield match


def citation_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every group that looks like a citation: what plain text leaves out. Cheaper
    than find_citations, which parses each group."""
    return [match.span() for match in _groups(text)]


def find_citations(text: str) -> tuple[list[Citation], list[tuple[int, str]]]:
    """All citation groups in `text`, plus (line, message) for groups that are malformed.
    Linear in the length of the text: lines are counted as the scan moves forward."""
    found: list[Citation] = []
    bad: list[tuple[int, str]] = []
    line, counted = 1, 0
    for match in _groups(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        try:
            refs = parse_group(match.group("inner"))
        except CitationSyntaxError as exc:
            bad.append((line, f"malformed citation {shown(match.group(0))}: {exc}; write [@key] or [@key, p. 12; @other]"))
            continue
        found.append(Citation(refs=refs, start=match.start(), end=match.end(), line=line))
    return found, bad


def parse_cite_field(value: str) -> list[CiteRef]:
    """An evidence item's `cite`: one or more citation groups and nothing else."""
    citations, bad = find_citations(value)
    if bad:
        raise CitationSyntaxError(bad[0][1])
    gaps, last = [], 0
    for citation in citations:   # what lies between the groups (cut out in one pass, not one per group)
        gaps.append(value[last:citation.start])
        last = citation.end
    gaps.append(value[last:])
    if not citations or "".join(gaps).strip():
        raise CitationSyntaxError(
            f"{shown(value)} is not a citation; write it like \"[@key, p. 12; @other]\"")
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
