"""Source pages: the formatted reference, its DOI or URL, and every case and claim citing it."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from kb.citations import STYLES, Formatter, decoded, source_links, source_to_csl
from webapp.cases import chosen_style
from webapp.kbstore import can_see_drafts, get_kb

bp = Blueprint("sources", __name__)


@bp.get("/sources/<key>")
def source(key: str):
    found = get_kb().sources([key]).get(key)
    if found is None:
        abort(404, f"no source with key {key!r}")
    style = chosen_style()
    reference = Formatter([source_to_csl(found)], style, "html").references()[0]
    return render_template("sources/source.html", source=found, reference=reference, style=style, styles=STYLES,
                           **source_links(found), note=decoded(found, "note"),
                           citing=get_kb().citing(key, can_see_drafts()))
