"""The citation basket: cases and evidence items collected across pages (in the signed session
cookie), exported together as BibTeX, RIS, CSL-JSON or a formatted list."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for

from kb.citations import STYLES, Basket, Formatter, basket_citations, source_to_csl, unique_sources
from webapp.cases import EXPORTS, chosen_style, export_response
from webapp.kbstore import can_see_drafts, get_kb
from webapp.security import local_target

bp = Blueprint("basket", __name__)
MAX_ITEMS = 200


def _basket() -> tuple[Basket, list[str]]:
    """The basket's items that still exist (ids can vanish after a rebuild), and the stale ones."""
    basket, stale, cases = Basket(), [], {}
    for entry in session.get("basket", []):
        case_id, _, evidence_id = entry.partition("/")
        if case_id not in cases:
            cases[case_id] = get_kb().case(case_id, drafts=can_see_drafts())
        case = cases[case_id]
        item = next((e for e in case.evidence if e.id == evidence_id), None) if case and evidence_id else None
        if case is None or (evidence_id and item is None):
            stale.append(entry)
        elif item is not None:
            basket.add_evidence(case, item)
        else:
            basket.add_case(case)
    return basket, stale


def _safe_next(default: str) -> str:
    return local_target(request.form.get("next")) or default


@bp.post("/basket/add")
def add():
    entry = request.form.get("item", "").strip()
    case_id, _, evidence_id = entry.partition("/")
    case = get_kb().case(case_id, drafts=can_see_drafts())
    if case is None or (evidence_id and all(e.id != evidence_id for e in case.evidence)):
        abort(404, f"nothing to add: no case or evidence item {entry!r}")
    items = session.get("basket", [])
    if entry not in items:
        if len(items) >= MAX_ITEMS:
            abort(400, f"the basket holds at most {MAX_ITEMS} items; export and clear it first")
        session["basket"] = items + [entry]
    flash(f"Added {entry} to the citation basket.", "ok")
    return redirect(_safe_next(url_for("basket.show")))


@bp.post("/basket/remove")
def remove():
    entry = request.form.get("item", "")
    session["basket"] = [item for item in session.get("basket", []) if item != entry]
    return redirect(_safe_next(url_for("basket.show")))


@bp.post("/basket/clear")
def clear():
    session["basket"] = []
    return redirect(url_for("basket.show"))


def _sources(basket: Basket):
    keys = list(dict.fromkeys(ref.key for case in basket.cases_cited() for ref in
                              case.citations + [r for e in case.evidence for r in e.citations]))
    return unique_sources(basket_citations(basket, get_kb().sources(keys)))


@bp.get("/basket")
def show():
    basket, stale = _basket()
    style = chosen_style()
    sources = _sources(basket)
    references = Formatter([source_to_csl(s) for s in sources], style, "html").references() if sources else []
    return render_template("basket/basket.html", basket=basket, stale=stale, references=references,
                           style=style, styles=STYLES, formats=list(EXPORTS))


@bp.get("/basket/export.<fmt>")
def export(fmt: str):
    basket, _ = _basket()
    if fmt == "txt":
        sources = _sources(basket)
        lines = Formatter([source_to_csl(s) for s in sources], chosen_style(), "text").references() if sources else []
        return Response("\n".join(lines) + "\n", mimetype="text/plain; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="basket.txt"'})
    return export_response(_sources(basket), [], fmt, "basket")
