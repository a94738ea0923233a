"""Review notes: Markdown stored raw, rendered to HTML and then sanitised with a strict allow-list.

Python-Markdown passes raw HTML through, so the sanitiser is the security boundary: only the
tags Markdown itself produces, `href`/`title` on links, `align` on table cells, and http(s)/
mailto URLs survive. No images (tracking pixels, data: URLs), no `style` (CSS expressions), no
`class`/`id` (clobbering the page's own ids), no event handlers; `script` and `style` lose their
content too. Links get rel="nofollow noopener noreferrer" because notes are user content.
"""
from __future__ import annotations

import markdown
import nh3

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_cleaner = nh3.Cleaner(tags=set(ALLOWED_TAGS), clean_content_tags={"script", "style"},
                       attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                       url_schemes=set(URL_SCHEMES), link_rel="nofollow noopener noreferrer",
                       strip_comments=True)


def render_note(text: str) -> str:
    """Safe HTML for a note. A new Markdown instance per call: instances keep state between
    documents, and notes are rendered from many threads."""
    md = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists"],
                           extension_configs={"tables": {"use_align_attribute": True}}, output_format="html")
    return _cleaner.clean(md.convert(text or ""))
