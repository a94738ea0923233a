"""The evidence list: /evidence (HTML), /evidence.csv and /api/evidence (JSON), with the same
parameters: q, every case facet (kb.evidence.PARAMS), the item's
outcome, direction and design, min_strength, reconciled, sort, page and limit."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for

from kb.knowledgebase import EVIDENCE_PARAMS, EVIDENCE_SORTS
from webapp.cases import chosen_style
from webapp.kbstore import can_see_drafts, get_kb, memo, url_with
from webapp.search import FILTERS, MAX_PAGE, checked_values, display, int_arg, page_count, toggled

bp = Blueprint("evidence", __name__)
PAGE_SIZE = 50
PANEL_VALUES = 25    # values shown per filter panel, the most frequent (every value stays in the JSON)
SORT_LABELS = {"case": "case", "strength": "strength (strongest first)", "period": "period (newest first)"}


def _request():
    """The checked parameters of an evidence request (400 on any bad one)."""
    args = request.args
    query = args.get("q", "")
    if len(query) > 500:
        abort(400, "the query is longer than 500 characters")
    sort = args.get("sort", "case")
    if sort not in EVIDENCE_SORTS:
        abort(400, f"sort must be one of: {', '.join(EVIDENCE_SORTS)}")
    style = chosen_style()
    reconciled = args.get("reconciled", "")
    if reconciled not in ("", "0", "1"):
        abort(400, "reconciled must be 1 (only items an editor reconciled) or 0")
    min_strength = int_arg(args, "min_strength", 1, 1, 5) if args.get("min_strength") else None
    return dict(query=query, filters=checked_values(args, EVIDENCE_PARAMS), min_strength=min_strength,
                reconciled=reconciled == "1", drafts=can_see_drafts() and args.get("drafts") == "1", sort=sort), style


def _item_url(case_id: str, evidence_id: str | None = None) -> str:
    return url_for("cases.case", case_id=case_id, _external=False) + (f"#evidence-{evidence_id}" if evidence_id else "")


@bp.get("/evidence")
def evidence_list():
    options, style = _request()
    limit = int_arg(request.args, "limit", PAGE_SIZE, 1, 200)
    page = int_arg(request.args, "page", 1, 1, MAX_PAGE)
    query = options.pop("query")

    def compute():
        found, searched = get_kb().evidence(query, **options, limit=limit, offset=(page - 1) * limit)
        return found, searched, get_kb().evidence_citations(found.rows, style)
    if options["reconciled"]:      # reviews change between builds: the filter on them is not kept
        found, searched, citations = compute()
    else:
        key = (query, tuple(sorted((k, tuple(v)) for k, v in options["filters"].items())), options["min_strength"],
               options["drafts"], options["sort"], limit, page, style)
        found, searched, citations = memo("evidence", key, compute)
        grades = get_kb().reconciled_grades()          # read every time, like the case page's
        found = dataclasses.replace(found, reconciled={(r.case_id, r.id): grades[(r.case_id, r.id)]
                                                       for r in found.rows if (r.case_id, r.id) in grades})
    chosen = {param: request.args.getlist(param) for param in EVIDENCE_PARAMS}
    panels = [(FILTERS[param].label,
               [(display(param, value), count, value in chosen[param], url_with(**toggled(param, value)))
                for value, count in list(found.facets[param].items())[:PANEL_VALUES]])
              for param in EVIDENCE_PARAMS if found.facets[param]]
    # each case's and each source's address once (url_for is a tenth of a millisecond)
    case_urls = {case_id: url_for("cases.case", case_id=case_id) for case_id in {row.case_id for row in found.rows}}
    source_urls = {key: url_for("sources.source", key=key) for key in {row.keys[0] for row in found.rows if len(row.keys) == 1}}
    rows = [(row, cite, case_urls[row.case_id],
             source_urls[row.keys[0]] if len(row.keys) == 1 else case_urls[row.case_id] + "#references")
            for row, cite in zip(found.rows, citations)]
    chips = [(param, value, display(param, value), url_with(**toggled(param, value)))
             for param in EVIDENCE_PARAMS for value in chosen[param] if value]
    return render_template("evidence/list.html", found=found, rows=rows, searched=searched,
                           query=request.args.get("q", ""), panels=panels, chips=chips, page=page, limit=limit,
                           pages=page_count(found.total, limit), sort=options["sort"], sorts=SORT_LABELS,
                           min_strength=options["min_strength"], reconciled=options["reconciled"], style=style)


@bp.get("/evidence.csv")
def evidence_csv():
    options, style = _request()
    text = get_kb().evidence_csv(options.pop("query"), style, _absolute_item_url, **options)
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="evidence.csv"'})


def _absolute_item_url(case_id: str, evidence_id: str | None = None) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + _item_url(case_id, evidence_id)


@bp.get("/api/evidence")
def evidence_api():
    options, style = _request()
    limit = int_arg(request.args, "limit", 20, 1, 200)
    page = int_arg(request.args, "page", 1, 1, MAX_PAGE)
    found, searched = get_kb().evidence(options.pop("query"), **options, limit=limit, offset=(page - 1) * limit)
    citations = get_kb().evidence_citations(found.rows, style)
    return jsonify({
        "total": found.total, "cases": found.cases, "page": page, "limit": limit,
        "suggestion": searched.suggestion if searched else None,
        "items": [{"case": row.case_id, "case_title": row.case_title, "id": row.id, "claim": row.claim,
                   "outcome": row.outcome, "direction": row.direction, "design": row.design, "strength": row.strength,
                   "reconciled_strength": found.reconciled.get((row.case_id, row.id)), "citation": cite,
                   "sources": list(row.keys), "url": _item_url(row.case_id, row.id)}
                  for row, cite in zip(found.rows, citations)],
        "facets": found.facets,
        "strengths": {str(level): count for level, count in sorted(found.strengths.items())},
    })

