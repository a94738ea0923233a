"""Case bodies as HTML: Markdown with a table of contents, pandoc citations turned into in-text
citations (in the reader's style) linked to the reference list, then sanitised with nh3."""
from __future__ import annotations

import html
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from typing import Callable

import markdown
import nh3
from markdown.inlinepatterns import InlineProcessor

from . import citekeys
from .model import CiteRef

CITATION_PATTERN = r"\[(?P<inner>[^\[\]]*@[^\[\]]*)\](?![(\[])"
ALLOWED_TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "em", "strong", "a", "blockquote", "code", "pre",
                "table", "thead", "tbody", "tr", "th", "td", "br", "hr", "span", "div", "sup", "nav"}
ALLOWED_ATTRIBUTES = {"*": {"id", "class"}, "a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


class _CitationProcessor(InlineProcessor):
    """`[@key, p. 12; @other]` -> `<span class="citation"><a href="#ref-key">(Author, 2020, p. 12)</a></span>`.

    Registered above `reference` (170) and `link` (160) and below `backtick` (190), so code spans
    stay code and `[@k](url)` stays a link."""

    def __init__(self, pattern: str, cite: Callable[[list[CiteRef]], str], used: list[str]):
        super().__init__(pattern)
        self.cite = cite
        self.used = used

    def handleMatch(self, m, data):  # noqa: N802 (Markdown's API)
        try:
            refs = list(citekeys.parse_group(m.group("inner")))
        except citekeys.CitationSyntaxError:
            return None, None, None
        span = etree.Element("span", {"class": "citation"})
        link = etree.SubElement(span, "a", {"href": f"#ref-{refs[0].key}", "class": "cite"})
        link.text = self.cite(refs)
        for ref in refs:
            if ref.key not in self.used:
                self.used.append(ref.key)
        return span, m.start(0), m.end(0)


@dataclass
class RenderedBody:
    html: str
    toc: list[tuple[str, str]] = field(default_factory=list)  # (anchor, heading)
    cited: list[str] = field(default_factory=list)            # keys in order of first appearance


def render_body(body: str, cite: Callable[[list[CiteRef]], str]) -> RenderedBody:
    used: list[str] = []
    md = markdown.Markdown(extensions=["toc", "tables", "sane_lists"],
                           extension_configs={"toc": {"toc_depth": "2-3"}})
    md.inlinePatterns.register(_CitationProcessor(CITATION_PATTERN, cite, used), "citation", 175)
    text = md.convert(body)
    toc = [(token["id"], token["name"]) for token in md.toc_tokens]
    clean = nh3.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel=None,
                      url_schemes={"http", "https", "mailto"})
    return RenderedBody(clean, toc, used)


def plain_citation(refs: list[CiteRef]) -> str:
    """Fallback in-text form when no formatter is at hand: `(@key, p. 12)`."""
    return "(" + "; ".join(html.escape(ref.key) + (f", {ref.locator}" if ref.locator else "") for ref in refs) + ")"
