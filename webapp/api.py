"""JSON API. Errors have one shape: {"error": {"status": 404, "code": "not-found", "message": "..."}}.
Described by the OpenAPI document at /api/openapi.json."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from kb.citations import bibtex_entry, decoded, public_fields
from webapp.cases import get_case_or_404
from webapp.kbstore import can_see_drafts, get_kb, get_vocab
from webapp.openapi import document
from webapp.search import run_search

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search():
    result, _, _, _ = run_search(request.args, default_limit=10)
    return jsonify(result.to_dict())


def _case_summary(item) -> dict:
    return {"id": item.id, "title": item.title, "summary": item.summary, "themes": item.themes,
            "country": item.country, "period": item.period, "updated": item.updated, "status": item.status,
            "url": url_for("api.case", case_id=item.id)}


@bp.get("/cases")
def cases():
    kinds = {"theme": "theme", "concept": "concept", "country": "country"}
    chosen = [(kind, request.args[param]) for param, kind in kinds.items() if request.args.get(param)]
    if len(chosen) > 1:
        abort(400, "filter by one of theme, concept or country at a time")
    kind, name = chosen[0] if chosen else (None, None)
    if kind == "country":
        name = name.upper()
    items = get_kb().cases(drafts=can_see_drafts(), kind=kind, name=name)
    return jsonify({"total": len(items), "cases": [_case_summary(item) for item in items]})


@bp.get("/cases/<case_id>")
def case(case_id: str):
    found = get_case_or_404(case_id)
    data = found.to_dict()
    for private in ("sha256", "citation_lines", "body_line"):
        data.pop(private, None)
    for item in data["evidence"]:
        item.pop("line", None)
        item.pop("cite_line", None)
    data["emmie"] = get_kb().emmie(found)
    data["verdicts"] = {outcome: v.to_dict() for outcome, v in get_kb().verdicts(can_see_drafts()).get(case_id, {}).items()}
    ledger = get_kb().case_ledger(case_id, can_see_drafts())
    data["ledger"] = ledger.to_dict() if ledger else None
    data["links"] = {"html": url_for("cases.case", case_id=case_id),
                     **{fmt: url_for("cases.case_sources_export", case_id=case_id, fmt=fmt) for fmt in ("bib", "ris", "json")}}
    return jsonify(data)


@bp.get("/sources/<key>")
def source(key: str):
    found = get_kb().sources([key]).get(key)
    if found is None:
        abort(404, f"no source with key {key!r}")
    return jsonify({"key": found.key, "type": found.entry_type, "title": decoded(found, "title"),
                    "authors": decoded(found, "author") or decoded(found, "editor"), "year": found.fields.get("year", ""),
                    "doi": found.fields.get("doi", ""), "url": found.fields.get("url", ""), "fields": public_fields(found),
                    "bibtex": bibtex_entry(found),
                    "cited_by": [{"case": c.case_id, "evidence": c.evidence_id, "locator": c.locator}
                                 for c in get_kb().citing(key, can_see_drafts())]})


@bp.get("/themes")
def themes():
    counts = get_kb().term_counts("theme", can_see_drafts())
    return jsonify({"themes": [{"id": name, "label": term.label, "description": term.help, "cases": counts.get(name, 0),
                                "report": term.report} for name, term in get_vocab().terms("themes").items()]})


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(current_app.config["BASE_URL"]))
