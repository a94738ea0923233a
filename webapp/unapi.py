"""One-click capture into reference managers. `/unapi` is an unAPI server (unapi.info): without
`id` the formats every item has, with `id` alone that item's formats (300 Multiple Choices), with
`id` and `format` the record, from the same export as the download links. Ids are `source:<key>`
and `case:<case-id>`; pages listing several items carry `<abbr class="unapi-id" title="...">`, so
Zotero offers to save them all.

The rest is what pages embed (`case_capture`, `source_capture`): Highwire Press meta tags and
schema.org JSON-LD in the head, and a COinS span beside each reference, all made by
kb.citations.embedded from the works' CSL items.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template, request

from kb.citations import (case_json_ld, case_to_csl, coins, export, highwire, json_ld, source_json_ld,
                          source_to_csl)
from webapp.kbstore import can_see_drafts, get_kb, label, memo

bp = Blueprint("unapi", __name__)

FORMATS = {"ris": ("ris", "application/x-research-info-systems"), "bibtex": ("bibtex", "text/x-bibtex"),
           "csl-json": ("csl-json", "application/vnd.citationstyles.csl+json")}
MAX_ID = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _formats(item_id: str | None, status: int) -> Response:
    xml = render_template("unapi/formats.xml", item_id=item_id, formats=FORMATS)
    return Response(xml, status=status, mimetype="application/xml")


def _checked(name: str, value: str) -> str:
    if not value or len(value) > MAX_ID or _CONTROL.search(value):
        abort(400, f"bad {name} {value[:60]!r}: give 1 to {MAX_ID} characters, no control characters")
    return value


def _record(item_id: str) -> tuple[list, list]:
    """(sources, cases) of an id; 404 when it names nothing readers may see."""
    kind, _, name = item_id.partition(":")
    if kind == "source" and name:
        found = get_kb().sources([name]).get(name)
        if found is not None:
            return [found], []
    elif kind == "case" and name:
        case = get_kb().case(name, drafts=can_see_drafts())
        if case is not None:
            return [], [case]
    abort(404, f"no item with id {item_id[:60]!r}; ids are source:<bibtex key> or case:<case id>")


@bp.get("/unapi")
def unapi():
    item_id, fmt = request.args.get("id"), request.args.get("format")
    if item_id is None:
        if fmt is not None:
            abort(400, f"format {fmt[:60]!r} needs an id: /unapi?id=source:<key>&format={next(iter(FORMATS))}")
        return _formats(None, 200)
    sources, cases = _record(_checked("id", item_id))
    if fmt is None:
        return _formats(item_id, 300)
    if fmt not in FORMATS:
        abort(406, f"no format {fmt[:60]!r} for {item_id[:60]!r}; use one of: {', '.join(FORMATS)}")
    output_format, mimetype = FORMATS[fmt]
    text = export(output_format, sources, cases, current_app.config["BASE_URL"])
    return Response(text, mimetype=f"{mimetype}; charset=utf-8")


# --- what pages embed ------------------------------------------------------------------------------

def case_capture(case) -> dict:
    """The case page's meta tags and JSON-LD (the case study itself) and each reference's COinS,
    once per build."""
    return memo("capture", (case.id,), lambda: _case_capture(case))


def _case_capture(case) -> dict:
    item = case_to_csl(case, current_app.config["BASE_URL"])
    if case.summary:
        item["abstract"] = case.summary
    themes = [label("themes", name) for name in case.themes]
    keywords = themes + [label("concepts", name) for name in case.concepts]
    return {"meta": highwire(item, language="en"),
            "json_ld": json_ld(case_json_ld(item, about=themes, keywords=keywords)),
            "coins": {key: coins(source_to_csl(source)) for key, source in get_kb().sources(case.cited_keys()).items()}}


def source_capture(source) -> dict:
    item = source_to_csl(source)
    return {"meta": highwire(item), "json_ld": json_ld(source_json_ld(item)), "coins": coins(item)}


def coins_of(sources) -> dict[str, str]:
    """Each source's COinS, by key (for reference lists)."""
    return {source.key: coins(source_to_csl(source)) for source in sources}
