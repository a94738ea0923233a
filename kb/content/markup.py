"""Markdown to safe HTML in time linear in the input, for case bodies and review notes.

cmark-gfm (GitHub's C implementation of CommonMark, through `cmarkgfm`) parses: it is linear on
the inputs that made Python-Markdown take 37 s for 20,000 `[` (see tests/test_costs.py), it has
nesting limits of its own, and in its default safe mode it drops raw HTML and `javascript:` links.
nh3 then sanitises with an allow-list: it is the security boundary, whatever the parser emits.
Headings get ids (for a table of contents) the way Python-Markdown's toc extension made them, so
anchors stay the same.
"""
from __future__ import annotations

import html
import re
import unicodedata

import cmarkgfm
import nh3

from ..urls import SCHEMES

EXTENSIONS = ["table", "strikethrough", "autolink"]
# html5ever (inside nh3) is quadratic in the depth of nested blocks: 5,000 nested list items took
# 0.3 s and 100,000 nested quotes 46 s. Deeper text than this is shown as plain text instead.
MAX_NESTING = 100
_ELEMENT = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*?(/?)>")
_VOID = frozenset({"br", "hr", "img", "input", "col", "wbr"})
# a line whose quote and list markers run this long may nest deeper than MAX_NESTING
_DEEP_PREFIX = re.compile(r"^[ \t>*+\-0-9.)]{%d,}" % MAX_NESTING, re.M)
# a line opening more quotes than that is too deep without asking cmark (which would build them all)
_MANY_QUOTES = re.compile(r"^(?:[ \t]*>){%d}" % (MAX_NESTING + 1), re.M)
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^<>]*>")


def to_html(text: str) -> str:
    """CommonMark with GitHub's tables, strikethrough and autolinks; raw HTML is dropped."""
    return cmarkgfm.markdown_to_html_with_extensions(text or "", options=0, extensions=EXTENSIONS)


def nesting(markup: str) -> int:
    """How deep elements nest in well-formed HTML (cmark's output), in one linear scan."""
    depth = deepest = 0
    for match in _ELEMENT.finditer(markup):
        if match.group(2).lower() in _VOID or match.group(3):
            continue
        depth += -1 if match.group(1) else 1
        deepest = max(deepest, depth)
    return deepest


def too_deep(text: str) -> int | None:
    """The nesting depth of `text`'s blocks if it exceeds MAX_NESTING, else None; cheap for text
    without long runs of quote and list markers (cmark runs only when a line has one)."""
    if not _DEEP_PREFIX.search(text or ""):
        return None
    depth = nesting(to_html(text))
    return depth if depth > MAX_NESTING else None


def as_plain_text(text: str) -> str:
    """Text shown as it is written: escaped paragraphs, for what is too deep to render."""
    return "".join(f"<p>{html.escape(block)}</p>" for block in re.split(r"\n\s*\n", text or "") if block.strip())


def safe_markdown(text: str) -> str:
    """to_html, or as_plain_text when the text nests deeper than MAX_NESTING."""
    if _MANY_QUOTES.search(text or ""):
        return as_plain_text(text)
    rendered = to_html(text)
    return rendered if nesting(rendered) <= MAX_NESTING else as_plain_text(text)


def clean(markup: str, tags: set[str], attributes: dict[str, set[str]], *, link_rel: str | None = None) -> str:
    """nh3 with an allow-list: only http(s) links, no comments, `script` and `style` emptied."""
    return nh3.clean(markup, tags=tags, attributes=attributes, url_schemes=set(SCHEMES), link_rel=link_rel,
                     clean_content_tags={"script", "style"}, strip_comments=True)


def slugify(text: str) -> str:
    """Python-Markdown's toc slug: ASCII-folded, lower case, punctuation dropped, hyphens."""
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _unique(slug: str, used: set[str], counters: dict[str, int]) -> str:
    """`slug`, or `slug_1`, `slug_2`... as Python-Markdown numbers repeats; a counter per slug keeps
    25,000 headings of the same text linear (counting up from _1 each time was quadratic)."""
    if slug and slug not in used:
        used.add(slug)
        return slug
    number = counters.get(slug, 0)
    while True:
        number += 1
        candidate = f"{slug}_{number}"
        if candidate not in used:
            counters[slug] = number
            used.add(candidate)
            return candidate


def heading_ids(markup: str, reserved: frozenset[str] = frozenset(),
                levels: range = range(2, 4)) -> tuple[str, list[tuple[str, str]]]:
    """Give every heading an id; return the HTML and (id, text) of the headings in `levels`.
    `reserved` are ids the page itself uses, which a heading must not take."""
    used, toc, counters = set(reserved), [], {}

    def add_id(match: re.Match) -> str:
        level, inner = match.group(1), match.group(2)
        name = " ".join(html.unescape(_TAG.sub("", inner)).split())
        anchor = _unique(slugify(name), used, counters)
        if int(level) in levels:
            toc.append((anchor, name))
        return f'<h{level} id="{html.escape(anchor)}">{inner}</h{level}>'

    return _HEADING.sub(add_id, markup), toc
