"""Case bodies as HTML: Markdown with a table of contents, pandoc citations turned into in-text
citations (in the reader's style) linked to the reference list, then sanitised with nh3.

Citations are found by `citekeys.find_citations`, the same scanner validation uses, so what is
checked is what is rendered. Each citation is swapped for a placeholder of two private-use
characters around its number before cmark-gfm parses the text (see `kb/markup.py`), and the
formatted citation is put in its place afterwards: every step is linear in the length of the body.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable

from ..citations import keys as citekeys
from ..model import CiteRef
from . import markup

ALLOWED_TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "em", "strong", "a", "blockquote", "code", "pre",
                "table", "thead", "tbody", "tr", "th", "td", "br", "hr", "span", "div", "sup", "nav", "del"}
ALLOWED_ATTRIBUTES = {"*": {"id", "class"}, "a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
# ids of the case page itself, which a heading of the body must not take
PAGE_IDS = frozenset({"main", "site-q", "cite-h", "evidence", "evidence-h", "references", "references-h",
                      "related-h", "style"})
OPEN, CLOSE = "\uf8f0", "\uf8f1"
_PLACEHOLDER = re.compile(f"{OPEN}([0-9]+){CLOSE}")


@dataclass
class RenderedBody:
    html: str
    toc: list[tuple[str, str]] = field(default_factory=list)  # (anchor, heading)
    cited: list[str] = field(default_factory=list)            # keys in order of first appearance


def render_body(body: str, cite: Callable[[list[CiteRef]], str]) -> RenderedBody:
    """`cite` returns the in-text citation of some refs as HTML (escaped text, maybe <i>)."""
    text = (body or "").replace(OPEN, "").replace(CLOSE, "")
    citations, _ = citekeys.find_citations(text)
    parts, last = [], 0
    for number, citation in enumerate(citations):
        parts += [text[last:citation.start], f"{OPEN}{number}{CLOSE}"]
        last = citation.end
    parts.append(text[last:])
    used = list(dict.fromkeys(ref.key for citation in citations for ref in citation.refs))

    def citation_html(match: re.Match) -> str:
        number = int(match.group(1))
        if number >= len(citations):
            return ""
        refs = list(citations[number].refs)
        return (f'<span class="citation"><a href="#ref-{html.escape(refs[0].key)}" class="cite">'
                f"{cite(refs)}</a></span>")

    rendered = _PLACEHOLDER.sub(citation_html, markup.safe_markdown("".join(parts)))
    rendered, toc = markup.heading_ids(rendered, PAGE_IDS)
    return RenderedBody(markup.clean(rendered, ALLOWED_TAGS, ALLOWED_ATTRIBUTES), toc, used)


def plain_citation(refs: list[CiteRef]) -> str:
    """Fallback in-text form when no formatter is at hand: `(@key, p. 12)`."""
    return "(" + "; ".join(html.escape(ref.key) + (f", {html.escape(ref.locator)}" if ref.locator else "")
                           for ref in refs) + ")"
