"""Source pages: the formatted reference, its DOI or URL, and every case and claim citing it."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from kb import catalog
from kb.bibliography import decoded
from kb.exporting import source_to_csl
from kb.formatting import STYLES, Formatter
from kb.urls import bare_doi, doi_url, safe_url

from .cases import chosen_style
from .kbstore import can_see_drafts, get_kb

bp = Blueprint("sources", __name__)


@bp.get("/sources/<key>")
def source(key: str):
    found = catalog.sources(get_kb().engine, [key]).get(key)
    if found is None:
        abort(404, f"no source with key {key!r}")
    style = chosen_style()
    reference = Formatter([source_to_csl(found)], style, "html").references()[0]
    doi = bare_doi(found.fields.get("doi", ""))
    return render_template("sources/source.html", source=found, reference=reference, style=style, styles=STYLES,
                           doi=doi, doi_link=doi_url(doi), url=found.fields.get("url", "").strip(),
                           url_link=safe_url(found.fields.get("url", "")), note=decoded(found, "note"),
                           citing=catalog.citing(get_kb().engine, key, can_see_drafts()))
