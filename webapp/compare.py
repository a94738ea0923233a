"""Choose and compare: a comparison tray of up to four cases, kept like the citation basket (in
the signed session cookie), filled from case pages and from checkboxes on lists; the comparison
itself is /compare?id=..&id=.. (webapp/cases.py), whose evidence rows by outcome are made here.

A list's form posts its ticked boxes with `compare=1`: two to four go straight to the
comparison, one goes into the tray, more than four are refused with a message. Without
`compare` (the case page's button) every item goes into the tray."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from webapp.kbstore import can_see_drafts, direction_mark, get_kb, label
from webapp.security import local_target

bp = Blueprint("compare", __name__)
MAX_CASES = 4
MIN_CASES = 2
# direction -> its symbol; the words are the vocabulary's labels (kb/vocabulary.yaml)


def _tray() -> tuple[list, list[str]]:
    """The tray's cases that still exist (ids can vanish after a rebuild), and the stale ids."""
    ids = session.get("compare", [])
    found = {case.id: case for case in get_kb().cases(ids=ids, drafts=can_see_drafts())} if ids else {}
    return [found[i] for i in ids if i in found], [i for i in ids if i not in found]


def _back(default: str) -> str:
    return local_target(request.form.get("next")) or default


def _chosen() -> tuple[list[str], dict[str, str]]:
    """The posted case ids, in order, once each, and their titles; an unknown one is refused by
    name (more than the tray holds are not looked up: they are refused as too many)."""
    ids = list(dict.fromkeys(value.strip() for value in request.form.getlist("item") if value.strip()))
    if len(ids) > MAX_CASES:
        return ids, {}
    titles = {case.id: case.title for case in get_kb().cases(ids=ids, drafts=can_see_drafts())} if ids else {}
    for case_id in ids:
        if case_id not in titles:
            abort(404, f"nothing to compare: no case study with id {case_id[:80]!r} (parameter item)")
    return ids, titles


@bp.post("/compare/add")
def add():
    ids, titles = _chosen()
    back = _back(url_for("compare.tray"))
    if request.form.get("compare") == "1":          # a list's "Compare selected"
        if not ids:
            flash(f"Tick {MIN_CASES} to {MAX_CASES} cases to compare them.", "warn")
            return redirect(back)
        if MIN_CASES <= len(ids) <= MAX_CASES:
            return redirect(url_for("cases.compare", id=ids))
    elif not ids:
        abort(400, "item: name the case study to add to the comparison")
    if len(ids) > MAX_CASES:
        flash(f"You chose {len(ids)} cases; compare at most {MAX_CASES} at once.", "warn")
        return redirect(back)
    tray = session.get("compare", [])
    new = [case_id for case_id in ids if case_id not in tray]
    if len(tray) + len(new) > MAX_CASES:
        flash(f"The comparison tray holds at most {MAX_CASES} cases; remove one first.", "warn")
        return redirect(back)
    session["compare"] = tray + new
    flash(f"Added {', '.join(titles[i] for i in ids)} to the comparison ({len(tray) + len(new)} of {MAX_CASES}).",
          "ok")
    return redirect(back)


@bp.post("/compare/remove")
def remove():
    entry = request.form.get("item", "")
    session["compare"] = [item for item in session.get("compare", []) if item != entry]
    return redirect(_back(url_for("compare.tray")))


@bp.post("/compare/clear")
def clear():
    session["compare"] = []
    return redirect(url_for("compare.tray"))


@bp.get("/compare/tray")
def tray():
    cases, stale = _tray()
    if stale:      # a rebuild removed them: say so once, and keep the tray to what exists
        session["compare"] = [case.id for case in cases]
    return render_template("compare/tray.html", cases=cases, stale=stale, min_cases=MIN_CASES, max_cases=MAX_CASES)


@bp.app_template_global()
def outcome_rows(cases) -> list[dict]:
    """The compared cases' evidence, one row per outcome any of them measures (in vocabulary
    order): each cell lists that case's items for it (empty: not measured). `agree` when every
    case measured it and all their items point the same way."""
    order = {name: n for n, name in enumerate(get_kb().vocabulary.indicators())}
    outcomes = sorted({item.outcome for case in cases for item in case.evidence},
                      key=lambda name: (order.get(name, len(order)), name))
    rows = []
    for outcome in outcomes:
        cells = [[item for item in case.evidence if item.outcome == outcome] for case in cases]
        directions = {item.direction for cell in cells for item in cell}
        rows.append({"outcome": outcome, "label": label("indicators", outcome), "cells": cells,
                     "agree": all(cells) and len(directions) == 1, "direction": min(directions, default="")})
    return rows


@bp.app_template_filter()
def evidence_summary(case) -> dict:
    """What the comparison says of a case's evidence as a whole."""
    strengths = [item.strength for item in case.evidence if item.strength]
    strongest = max((item for item in case.evidence if item.strength), key=lambda item: item.strength, default=None)
    return {"designs": [label("designs", name) for name in dict.fromkeys(i.design for i in case.evidence if i.design)],
            "strongest": strongest, "max_strength": max(strengths, default=None),
            "items": len(case.evidence), "sources": len(case.cited_keys())}


@bp.app_template_filter()
def direction_symbol(direction: str) -> str:
    return direction_mark(direction)
