"""Editors' pages of the review workflow: coding questions (`/reviews/questions`) and allocation
(`/reviews/assign`). The logic is in kb.reviews (questions, assign); this maps forms to it, with
the same error handling as webapp.reviews: 401/403 in plain words, 400 with the form kept."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from kb.errors import KbError
from kb.reviews import (
    QUESTION_KINDS,
    QUESTION_SETS,
    SCOPES,
    ConflictError,
    InvalidReview,
    PermissionDenied,
    Question,
    add_question,
    assign_items,
    assignments,
    edit_question,
    get_question,
    install_set,
    list_questions,
    parse_choices,
    list_users,
    parse_target,
    question_versions,
    require,
    unassign,
    workload,
)
from webapp.kbstore import get_kb, get_vocab
from webapp.params import whole_number
from webapp.reviews import _forbidden

bp = Blueprint("review_admin", __name__)
SCOPE_WORDS = {"evidence": "each evidence item", "case": "each whole case",
               "outcome": "each theme's harm outcome (certainty per theme x outcome)"}
KIND_WORDS = {"single": "one choice", "multiple": "several choices", "number": "a number", "text": "text"}
SET_WORDS = {"robins-i": "ROBINS-I: seven bias domains and overall, for non-randomised studies",
             "grade": "GRADE: certainty per theme x outcome with the reasons for downgrading"}
MAX_TARGETS = 500


def _editor(action: str) -> None:
    try:
        require(g.user, action)
    except PermissionDenied as exc:
        _forbidden(exc)


def _spec_from_form(form) -> dict:
    return {"label": form.get("label", "").strip()[:400], "help": form.get("help", "").strip()[:2100],
            "choices": parse_choices(form.get("choices", "")[:20_000]), "ordinal": form.get("ordinal") == "on",
            "required": form.get("required") == "on", "position": whole_number(form.get("position")) or 0}


@bp.route("/reviews/questions", methods=["GET", "POST"])
def questions():
    """Coding questions: the current ones, a form to add one, and the built-in sets."""
    _editor("question.manage")
    engine, status, errors, typed = get_kb().db, 200, {}, {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("set"):
                added = install_set(engine, g.user, form["set"])
                flash(f"Added {len(added)} question(s) of {form['set']}" + ("" if added else ": they were all there"),
                      "ok")
                return redirect(url_for("review_admin.questions"))
            typed = {"key": form.get("key", "").strip()[:80], "scope": form.get("scope", ""),
                     "kind": form.get("kind", ""), **_spec_from_form(form)}
            question = add_question(engine, g.user, Question(**typed))
            flash(f"Question {question.key!r} added (version 1).", "ok")
            return redirect(url_for("review_admin.questions"))
        except PermissionDenied as exc:
            _forbidden(exc)
        except InvalidReview as exc:
            errors, status = exc.errors, 400
        except (ConflictError, KbError) as exc:
            errors, status = {"key": str(exc)}, 400
    found = list_questions(engine, include_retired=True)
    versions = {}
    for question in question_versions(engine):
        versions[question.key] = versions.get(question.key, 0) + 1
    return render_template("reviews/questions.html", questions=found, versions=versions, errors=errors, typed=typed,
                           scopes=SCOPES, kinds=QUESTION_KINDS, scope_words=SCOPE_WORDS, kind_words=KIND_WORDS,
                           sets=QUESTION_SETS, set_words=SET_WORDS), status


@bp.route("/reviews/questions/<key>", methods=["GET", "POST"])
def question(key: str):
    """One question: its versions, and a form that saves the next version."""
    _editor("question.manage")
    engine, status, errors = get_kb().db, 200, {}
    try:
        current = get_question(engine, key[:80])
    except KbError as exc:
        abort(404, str(exc))
    if request.method == "POST":
        changes = {**_spec_from_form(request.form), "active": request.form.get("active") == "on"}
        if current.kind not in ("single", "multiple"):
            changes.pop("choices")
        try:
            after = edit_question(engine, g.user, current.key, changes, whole_number(request.form.get("version")) or 0)
            flash(f"Saved as version {after.version}; answers given under earlier versions keep theirs.", "ok")
            return redirect(url_for("review_admin.question", key=current.key))
        except PermissionDenied as exc:
            _forbidden(exc)
        except InvalidReview as exc:
            errors, status = exc.errors, 400
        except ConflictError as exc:
            errors, status = {"version": str(exc)}, 409
            current = get_question(engine, current.key)
    return render_template("reviews/question.html", question=current, versions=question_versions(engine, current.key),
                           errors=errors, scope_words=SCOPE_WORDS, kind_words=KIND_WORDS), status


ASSIGN_MODES = {"items": "these items", "case": "every evidence item of a case", "theme": "every item of a theme",
                "share": "a random share of items, each to several reviewers (double grading)",
                "calibration": "calibration: reconciled items, without telling the reviewers"}


def _assign_from_form(form) -> dict:
    mode = form.get("mode", "")
    if mode not in ASSIGN_MODES:
        raise KbError(f"choose what to assign: {', '.join(ASSIGN_MODES)}")
    theme = form.get("theme") or None
    if theme and theme not in get_vocab().terms("themes"):
        raise KbError(f"unknown theme {theme[:60]!r}")
    if mode == "items":
        lines = [line.strip() for line in form.get("targets", "")[:50_000].splitlines() if line.strip()]
        if not lines or len(lines) > MAX_TARGETS:
            raise KbError(f"list 1 to {MAX_TARGETS} items, one case-id/evidence-id per line")
        return {"targets": [parse_target(line) for line in lines]}
    if mode == "case":
        case = form.get("case", "").strip()[:200]
        if not case:
            raise KbError("choose a case")
        return {"case": case}
    if mode == "theme":
        if not theme:
            raise KbError("choose a theme")
        return {"theme": theme}
    if mode == "share":
        percent = whole_number(form.get("percent"))
        per_item = whole_number(form.get("per_item")) or 2
        if percent is None or not 1 <= percent <= 100:
            raise KbError("the share is a whole percentage from 1 to 100")
        return {"theme": theme, "share": percent / 100, "per_item": per_item}
    count = whole_number(form.get("count"))
    if count is None or not 1 <= count <= 1000:
        raise KbError("seed 1 to 1,000 calibration items")
    return {"calibration": count}


@bp.route("/reviews/assign", methods=["GET", "POST"])
def assign_page():
    """Allocation: assign items to named reviewers; each reviewer's load; withdraw one."""
    _editor("review.assign")
    engine, status, error = get_kb().db, 200, ""
    if request.method == "POST":
        form = request.form
        try:
            if form.get("withdraw"):
                target, _, reviewer = form["withdraw"].partition(" ")
                done = unassign(engine, g.user, parse_target(target), reviewer)
                flash(f"Withdrawn: {target} from {reviewer}." if done else "That assignment was already gone.", "ok")
                return redirect(url_for("review_admin.assign_page"))
            report = assign_items(engine, g.user, form.getlist("reviewer")[:100], **_assign_from_form(form))
            flash(f"{len(report.created)} assignment(s) made"
                  + (f"; {report.skipped} were already there" if report.skipped else "") + ".", "ok")
            return redirect(url_for("review_admin.assign_page"))
        except PermissionDenied as exc:
            _forbidden(exc)
        except KbError as exc:
            error, status = str(exc), 400
    people = [u for u in list_users(engine) if not u.disabled and u.role != "reader"]
    listed = assignments(engine)
    return render_template("reviews/assign.html", people=people, load=workload(engine, g.user), error=error,
                           modes=ASSIGN_MODES, cases=get_kb().cases(drafts=True), vocab=get_vocab(),
                           recent=listed[-50:][::-1], total=len(listed)), status
