"""Review notes: Markdown stored raw, rendered once when the review is saved (the HTML is stored
beside it) and sanitised with a strict allow-list.

Rendering is linear in the note (cmark-gfm, see `kb/markup.py`), and it happens at save or
import, never per view. The sanitiser is the security boundary: only the tags Markdown itself
produces, `href`/`title` on links, `align` on table cells, and http(s) URLs survive. No images
(tracking pixels, data: URLs), no `style` (CSS expressions), no `class`/`id` (clobbering the page's
own ids), no event handlers; `script` and `style` lose their content too. Links get
rel="nofollow noopener noreferrer" because notes are user content.
"""
from __future__ import annotations

from ..content import markup

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_note(text: str) -> str:
    """Safe HTML for a note."""
    return markup.clean(markup.safe_markdown(text or ""), set(ALLOWED_TAGS),
                        {k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()}, link_rel="nofollow noopener noreferrer")
