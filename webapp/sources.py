"""Source pages: the formatted reference, its DOI or URL, and every case and claim citing it."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from kb.citations import bibtex_entry, decoded, format_references, source_links
from webapp.cases import chosen_style
from webapp.kbstore import can_see_drafts, get_kb, memo
from webapp.unapi import source_capture

bp = Blueprint("sources", __name__)


@bp.get("/sources/<key>")
def source(key: str):
    found = get_kb().sources([key]).get(key)
    if found is None:
        abort(404, f"no source with key {key!r}")
    style = chosen_style()
    reference = memo("reference", (key, style), lambda: format_references([found], style, "html")[0])
    return render_template("sources/source.html", source=found, reference=reference, style=style,
                           **source_links(found), note=decoded(found, "note"), bibtex=bibtex_entry(found),
                           citing=get_kb().citing(key, can_see_drafts()), capture=source_capture(found))
