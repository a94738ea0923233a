"""Reviewers' pages: sign-in, the review queue, grading an item (blind until you have graded it),
reconciliation, history, agreement and settings. All logic is in kb.reviews; this maps it to HTTP:
PermissionDenied -> 401 (not signed in) or 403, ConflictError -> 409 with the form kept,
InvalidReview -> 400 with the form kept."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from kb import catalog
from kb.errors import KbError
from kb.reviews import accounts, audit
from kb.reviews.agreement import agreement
from kb.reviews.errors import ConflictError, InvalidReview, PermissionDenied
from kb.reviews.orphans import orphaned_reviews
from kb.reviews.records import parse_target
from kb.reviews.roles import ANONYMOUS
from kb.reviews.service import create_review, get_reconciliation, reconcile, update_review, visible_reviews
from kb.reviews.settings import blind_mode, set_setting
from kb.reviews.taglist import add_tag, list_tags
from kb.reviews.views import review_queue, todo_list
from kb.reviews.vocab import CONFIDENCE, RELEVANCE, SMS_GRADES, STATUSES

from .kbstore import get_kb, get_vocab

bp = Blueprint("reviews", __name__)
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")
SIGNIN_LIMIT = "5 per minute;20 per hour"   # failed sign-ins only, per address


@bp.before_app_request
def load_user() -> None:
    """The signed-in user, re-read on every request so that a disabled account or a new role
    takes effect at once; everyone else is an anonymous reader."""
    g.user = ANONYMOUS
    name = session.get("user")
    if name:
        try:
            user = accounts.get_user(get_kb().engine, name)
        except KbError:
            user = None
        if user is None or user.disabled:
            session.pop("user", None)
        else:
            g.user = user


def _forbidden(exc: PermissionDenied):
    abort(401 if g.user is ANONYMOUS else 403, str(exc))


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(SIGNIN_LIMIT, methods=["POST"], deduct_when=lambda response: response.status_code == 401)
def signin():
    if request.method == "GET":
        return render_template("reviews/signin.html", next=request.args.get("next", ""))
    user = accounts.verify(get_kb().engine, request.form.get("name", "").strip(), request.form.get("password", ""))
    if user is None:
        return render_template("reviews/signin.html", error="Wrong name or password, or the account is disabled.",
                               next=request.form.get("next", "")), 401
    session.clear()
    session["user"] = user.name
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("reviews.queue"))


@bp.post("/signout")
def signout():
    session.clear()
    return redirect(url_for("search.home"))


@bp.get("/reviews")
def queue():
    theme = request.args.get("theme") or None
    if theme and theme not in get_vocab().terms("themes"):
        abort(400, f"unknown theme {theme!r}")
    try:
        items = review_queue(get_kb().engine, g.user, theme=theme)
        mine = todo_list(get_kb().engine, g.user)
    except PermissionDenied as exc:
        _forbidden(exc)
    orphans = []
    if g.user.can("review.history"):     # editors see reviews whose item left the collection
        with get_kb().engine.connect() as conn:
            orphans = orphaned_reviews(conn)
    return render_template("reviews/queue.html", items=items, mine=mine, theme=theme, vocab=get_vocab(),
                           orphans=orphans)


def _item_context(target_text: str) -> dict:
    try:
        target = parse_target(target_text)
    except KbError as exc:
        abort(404, str(exc))
    case = catalog.case(get_kb().engine, target.case_id, drafts=True)
    item = next((e for e in case.evidence if e.id == target.evidence_id), None) if case else None
    if case is None or (target.evidence_id and item is None):
        abort(404, f"nothing to review at {target_text!r}")
    try:
        reviews = visible_reviews(get_kb().engine, target, g.user)
    except PermissionDenied as exc:
        _forbidden(exc)
    own = next((r for r in reviews if r.reviewer == g.user.name), None)
    return {"target": target, "case": case, "item": item, "reviews": reviews, "own": own,
            "reconciliation": get_reconciliation(get_kb().engine, target), "blind": blind_mode(get_kb().engine),
            "tags": list_tags(get_kb().engine), "grades": SMS_GRADES,
            "confidences": CONFIDENCE, "relevances": RELEVANCE, "statuses": STATUSES[:-1]}


@bp.get("/reviews/item/<path:target>")
def item(target: str):
    return render_template("reviews/item.html", form=None, **_item_context(target))


def _form_values() -> dict:
    form = request.form
    tags = form.getlist("tags") + [t.strip() for t in form.get("free_tags", "").split(",") if t.strip()]
    return {"sms_grade": int(form["sms_grade"]) if form.get("sms_grade", "").isdigit() else None,
            "confidence": form.get("confidence") or None, "relevance": form.get("relevance") or None,
            "tags": tags, "status": form.get("status", "in-review"), "note": form.get("note", "")}


@bp.post("/reviews/item/<path:target>")
def save(target: str):
    context = _item_context(target)
    values = _form_values()
    try:
        if context["own"] is None:
            create_review(get_kb().engine, g.user, context["target"], values)
        else:
            version = request.form.get("version", "")
            update_review(get_kb().engine, g.user, context["own"].id, values, int(version) if version.isdigit() else -1)
    except PermissionDenied as exc:
        _forbidden(exc)
    except ConflictError as exc:
        context = _item_context(target)
        return render_template("reviews/item.html", form=values, conflict=str(exc), **context), 409
    except InvalidReview as exc:
        return render_template("reviews/item.html", form=values, invalid=exc.errors, **context), 400
    flash("Review saved.", "ok")
    return redirect(url_for("reviews.item", target=target))


@bp.post("/reviews/item/<path:target>/reconcile")
def reconcile_item(target: str):
    context = _item_context(target)
    form = request.form
    grades = {"sms_grade": int(form["sms_grade"]) if form.get("sms_grade", "").isdigit() else None,
              "confidence": form.get("confidence") or None, "relevance": form.get("relevance") or None}
    version = form.get("version", "")
    try:
        reconcile(get_kb().engine, g.user, context["target"], grades, form.get("reason", ""),
                  version=int(version) if version.isdigit() else None)
    except PermissionDenied as exc:
        _forbidden(exc)
    except ConflictError as exc:
        return render_template("reviews/item.html", form=None, conflict=str(exc), **_item_context(target)), 409
    except InvalidReview as exc:
        return render_template("reviews/item.html", form=None, invalid=exc.errors, **context), 400
    flash("Reconciled grade recorded.", "ok")
    return redirect(url_for("reviews.item", target=target))


@bp.get("/reviews/item/<path:target>/history")
def history(target: str):
    try:
        entries = audit.history(get_kb().engine, g.user, str(parse_target(target)))
    except PermissionDenied as exc:
        _forbidden(exc)
    except KbError as exc:
        abort(404, str(exc))
    return render_template("reviews/history.html", target=target, entries=entries)


@bp.get("/reviews/agreement")
def agreement_page():
    theme = request.args.get("theme") or None
    try:
        found = agreement(get_kb().engine, g.user, theme=theme)
    except PermissionDenied as exc:
        _forbidden(exc)
    return render_template("reviews/agreement.html", found=found, theme=theme, vocab=get_vocab())


@bp.route("/reviews/settings", methods=["GET", "POST"])
def settings():
    engine = get_kb().engine
    try:
        if request.method == "POST":
            if "blind_mode" in request.form:
                set_setting(engine, g.user, "blind_mode", request.form["blind_mode"] == "on")
            if request.form.get("tag_name"):
                add_tag(engine, g.user, request.form["tag_name"].strip(), request.form.get("tag_label", "").strip()
                        or request.form["tag_name"].strip(), public=request.form.get("tag_public") == "on")
            flash("Settings saved.", "ok")
            return redirect(url_for("reviews.settings"))
        if not g.user.can("setting.change"):
            raise PermissionDenied("only editors change settings")
    except PermissionDenied as exc:
        _forbidden(exc)
    except KbError as exc:
        abort(400, str(exc))
    return render_template("reviews/settings.html", blind=blind_mode(engine), tags=list_tags(engine, include_retired=True))
