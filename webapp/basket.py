"""The citation basket: cases, evidence items and sources collected across pages (in the signed
session cookie). It exports what it holds as a report author needs it: the sources and the case
studies themselves (BibTeX, RIS, CSL-JSON), and a briefing of the claims with their in-text
citations then the reference list (text, Markdown, HTML, DOCX, ODT), in the chosen style."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, url_for

from markupsafe import Markup, escape

from kb.citations import (BRIEFING_FORMATS, BRIEFING_MIMETYPES, Basket, Document, basket_citations, make_briefing,
                          claim_with_citation, format_documents, unique_sources)
from kb.errors import KbError
from webapp.cases import EXPORTS, chosen_style, export_response
from webapp.kbstore import can_see_drafts, get_kb
from webapp.security import local_target
from webapp.unapi import coins_of

bp = Blueprint("basket", __name__)
MAX_ITEMS = 200
SOURCE = "source:"    # a basket entry naming a bibliography entry; others are CASE or CASE/EVIDENCE


def _entries() -> list[str]:
    """The basket's entries: the `items` parameter of a pull URL (comma-separated, so a link or
    `curl` needs no session), else the session's."""
    if "items" in request.args:
        given = request.args.get("items", "")
        if len(given) > MAX_ITEMS * 200:
            abort(400, f"items is {len(given):,} characters long; a basket holds at most {MAX_ITEMS} items")
        entries = list(dict.fromkeys(item.strip() for item in given.split(",") if item.strip()))
        if len(entries) > MAX_ITEMS:
            abort(400, f"items names {len(entries)} items; a basket holds at most {MAX_ITEMS}")
        return entries
    return session.get("basket", [])


def _basket() -> tuple[Basket, list[str]]:
    """The basket's items that still exist (ids can vanish after a rebuild), and the stale ones."""
    basket, stale, cases = Basket(), [], {}
    entries = _entries()
    keys = [entry[len(SOURCE):] for entry in entries if entry.startswith(SOURCE)]
    found = get_kb().sources(keys) if keys else {}
    for entry in entries:
        if entry.startswith(SOURCE):
            if entry[len(SOURCE):] in found:
                basket.add_source(found[entry[len(SOURCE):]])
            else:
                stale.append(entry)
            continue
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
    entry = request.form.get("item", "").strip()[:400]
    if entry.startswith(SOURCE):
        if not get_kb().sources([entry[len(SOURCE):]]):
            abort(404, f"nothing to add: no source {entry[len(SOURCE):]!r}")
    else:
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


def _sources(basket: Basket) -> list:
    keys = list(dict.fromkeys(ref.key for case in basket.cases_cited() for ref in
                              case.citations + [r for e in case.evidence for r in e.citations]))
    return unique_sources(basket_citations(basket, get_kb().sources(keys)))


def _claims_and_references(basket: Basket, sources: list, style: str):
    """Each evidence item with its claim and in-text citation (HTML), and the reference list as
    (key, entry): all formatted in one pandoc run."""
    by_key = {source.key: source for source in sources}
    picked = basket.evidence_items()
    cited = [[ref for ref in item.citations if ref.key in by_key] for _, item in picked]
    documents = [Document([by_key[key] for key in dict.fromkeys(ref.key for ref in refs)], [refs]) for refs in cited]
    *claims, listed = format_documents([*documents, Document(sources)], style, "html")
    rows = [(case, item, Markup(claim_with_citation(str(escape(item.claim)), done.citations[0] if refs else "")))
            for (case, item), refs, done in zip(picked, cited, claims)]
    return rows, listed.references


@bp.get("/basket")
def show():
    basket, stale = _basket()
    style = chosen_style()
    sources = _sources(basket)
    claims, references = _claims_and_references(basket, sources, style)   # references: (key, entry)
    return render_template("basket/basket.html", basket=basket, stale=stale, references=references, claims=claims,
                           items=",".join(_entries()),
                           style=style, formats=list(EXPORTS), briefings=BRIEFING_FORMATS, coins=coins_of(sources))


@bp.get("/basket/export.<fmt>")
def export(fmt: str):
    """The sources and the case studies themselves (bib, ris, json), or the briefing (txt, md, html,
    docx, odt: claims with their citations, then the references, in the chosen style)."""
    basket, _ = _basket()
    if fmt in BRIEFING_FORMATS:
        style = chosen_style()
        try:
            sources = {source.key: source for source in _sources(basket)}   # what it cites, not the bibliography
            data = make_briefing(basket, sources, style, fmt, current_app.config["BASE_URL"])
        except KbError as exc:
            abort(503, f"the briefing could not be made: {exc}")
        return Response(data, content_type=BRIEFING_MIMETYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="briefing.{fmt}"'})
    return export_response(_sources(basket), basket.cases_cited(), fmt, "basket")
