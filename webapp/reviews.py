"""Reviewers' pages: sign-in, the review queue, grading an item (blind until you have graded it),
reconciliation, history, agreement and settings. All logic is in kb.reviews; this maps it to HTTP:
PermissionDenied -> 401 (not signed in) or 403, ConflictError -> 409 with the form kept,
InvalidReview -> 400 with the form kept."""
from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for

from kb.errors import KbError
from kb.reviews import (
    ANONYMOUS,
    CONFIDENCE,
    RELEVANCE,
    SMS_GRADES,
    STATUSES,
    ConflictError,
    InvalidReview,
    RUBRIC,
    PermissionDenied,
    SigninLimit,
    add_tag,
    HISTORY_ACTIONS,
    audit_history,
    reviewer_calibration,
    blind_mode,
    create_review,
    end_sessions,
    get_reconciliation,
    get_user,
    independent_grades_of,
    list_tags,
    normalised_tag,
    orphaned_reviews,
    parse_target,
    reconcile,
    release_signin,
    require,
    reserve_signin,
    review_agreement,
    review_queue,
    set_setting,
    todo_list,
    update_review,
    verify,
    visible_reviews,
    withheld,
    discussion_for,
    set_discussion,
    list_questions,
    versions_by_key,
    answer_views,
    assignments,
)
from webapp.kbstore import get_kb, get_vocab
from webapp.params import whole_number
from webapp.search import MAX_PAGE, int_arg
from webapp.security import local_target

bp = Blueprint("reviews", __name__)
REFRESH_SEEN = 60   # seconds: how often a session's last-activity time is renewed in its cookie


@bp.before_app_request
def load_user() -> None:
    """The signed-in user, checked on every request against the database: a session ends when
    the user signed out anywhere, had their password reset, role changed or account disabled
    (the user's session epoch moved on), after SESSION_IDLE_MINUTES without a request, and
    SESSION_LIFETIME_HOURS after sign-in. Everyone else is an anonymous reader."""
    g.user = ANONYMOUS
    name = session.get("user")
    if not name:
        return
    try:
        user = get_user(get_kb().db, name)
    except KbError:
        user = None
    now = time.time()
    config = current_app.config
    valid = (user is not None and not user.disabled and session.get("epoch") == user.session_epoch
             and isinstance(session.get("issued"), (int, float)) and isinstance(session.get("seen"), (int, float))
             and now - session["issued"] < config["SESSION_LIFETIME_HOURS"] * 3600
             and now - session["seen"] < config["SESSION_IDLE_MINUTES"] * 60)
    if not valid:
        session.clear()
        return
    if now - session["seen"] > REFRESH_SEEN:
        session["seen"] = now
    g.user = user


def _forbidden(exc: PermissionDenied):
    abort(401 if g.user is ANONYMOUS else 403, str(exc))


def _limits() -> list[SigninLimit]:
    config = current_app.config
    return [SigninLimit("account+address", config["SIGNIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"], 15 * 60),
            SigninLimit("account", config["SIGNIN_FAILURES_PER_ACCOUNT"], 3600),
            SigninLimit("address", config["SIGNIN_FAILURES_PER_ADDRESS"], 3600)]


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    target = request.values.get("next", "")
    shown_next = target if local_target(target) else ""
    if request.method == "GET":
        return render_template("reviews/signin.html", next=shown_next)
    name = request.form.get("name", "").strip()[:200]
    engine = get_kb().db
    reservation = reserve_signin(engine, _limits(), name, request.remote_addr or "")
    if not reservation.allowed:
        minutes = -(-reservation.retry_after // 60)
        whom = {"account+address": "this account from your address", "account": "this account",
                "address": "your address"}[reservation.refused_by]
        response = current_app.make_response((render_template(
            "reviews/signin.html", next=shown_next,
            error=f"Too many failed sign-ins for {whom}; try again in {minutes} minute(s)."), 429))
        response.headers["Retry-After"] = str(reservation.retry_after)
        return response
    user = verify(engine, name, request.form.get("password", ""))
    if user is None:
        return render_template("reviews/signin.html", error="Wrong name or password, or the account is disabled.",
                               next=shown_next), 401
    release_signin(engine, reservation)
    session.clear()
    session.permanent = True
    now = time.time()
    session.update(user=user.name, epoch=user.session_epoch, issued=now, seen=now)
    return redirect(local_target(target) or url_for("reviews.queue"))


@bp.post("/signout")
def signout():
    """Ends every session of this user, everywhere: a copied cookie stops working too."""
    if g.user is not ANONYMOUS:
        end_sessions(get_kb().db, g.user.name)
    session.clear()
    return redirect(url_for("search.home"))


QUEUE_PAGE = 50
QUEUE_STATES = {"": "any", "assigned": "assigned to you", "none": "no review yet", "one": "one review, a second wanted",
                "mine": "yours, not submitted"}


@bp.get("/reviews")
def queue():
    """The review queue: items short of two submitted reviews, grouped by case, with a search over
    claims and case titles, theme and state filters, and pages of QUEUE_PAGE items."""
    args = request.args
    theme = args.get("theme") or None
    if theme and theme not in get_vocab().terms("themes"):
        abort(400, f"unknown theme {theme[:60]!r}; use one of: {', '.join(get_vocab().terms('themes'))}")
    state = args.get("state", "")
    if state not in QUEUE_STATES:
        abort(400, f"state must be one of: {', '.join(s for s in QUEUE_STATES if s)}")
    query = args.get("q", "").strip()
    if len(query) > 200:
        abort(400, "the search is longer than 200 characters")
    page = int_arg(args, "page", 1, 1, MAX_PAGE)
    try:
        items = review_queue(get_kb().db, g.user, theme=theme, outcomes=_outcomes_asked())
        mine = todo_list(get_kb().db, g.user)
    except PermissionDenied as exc:
        _forbidden(exc)
    waiting = len(items)
    # case titles: every case's when the search needs them, else only those the page shows (below)
    titles = {c.id: c.title for c in get_kb().cases(drafts=True)} if query else {}
    if query:
        words = query.lower()
        items = [i for i in items if words in i.title.lower() or words in titles.get(i.target.case_id, "").lower()]
    if state:
        items = [i for i in items if (state == "none" and i.reviews == 0) or (state == "one" and i.reviews == 1)
                 or (state == "mine" and i.mine) or (state == "assigned" and i.assigned)]
    assigned = sum(1 for i in items if i.assigned)
    shown = items[(page - 1) * QUEUE_PAGE: page * QUEUE_PAGE]
    if not query:
        wanted = {i.target.case_id for i in shown} | {r.target.case_id for r in mine}
        titles = {c.id: c.title for c in get_kb().cases(drafts=True, ids=list(wanted))}
    titles.update(_outcome_titles())
    groups: dict[str, list] = {}
    for entry in shown:
        groups.setdefault(entry.target.case_id, []).append(entry)
    groups = dict(sorted(groups.items(), key=lambda kv: not any(e.assigned for e in kv[1])))   # assigned first
    orphans = []
    if g.user.can("review.history"):     # editors see reviews whose item left the collection
        orphans = orphaned_reviews(get_kb().db)
    return render_template("reviews/queue.html", groups=groups, titles=titles, total=len(items), waiting=waiting,
                           assigned=assigned,
                           mine=mine, theme=theme, state=state, states=QUEUE_STATES, query=query, page=page,
                           pages=max(1, -(-len(items) // QUEUE_PAGE)), vocab=get_vocab(), orphans=orphans)


def _outcomes_asked() -> tuple[str, ...]:
    """The harm outcomes reviewers rate per theme, when a question is asked of outcomes (GRADE)."""
    return tuple(get_kb().harm_outcomes) if list_questions(get_kb().db, "outcome") else ()


def _outcome_titles() -> dict[str, str]:
    return {f"@{name}": f"{term.label}: certainty per outcome" for name, term in get_vocab().terms("themes").items()}


def _outcome_context(target) -> dict:
    """What a reviewer rates for a theme's outcome: the theme's evidence items on it."""
    vocab = get_vocab()
    if target.theme not in vocab.terms("themes") or target.evidence_id not in get_kb().harm_outcomes:
        abort(404, f"nothing to review at {str(target)!r}")
    rows = get_kb().evidence(filters={"theme": [target.theme], "outcome": [target.evidence_id]}, limit=500,
                             drafts=True)[0].rows
    if not rows:
        abort(404, f"no evidence on {target.evidence_id!r} in the theme {target.theme!r}")
    verdict = get_kb().group_verdicts({"theme": [target.theme]}, drafts=True).get(target.evidence_id)
    title = f"{vocab.label('themes', target.theme)}: {vocab.label('indicators', target.evidence_id)}"
    return {"case": None, "item": None, "outcome_rows": rows, "outcome_title": title, "outcome_verdict": verdict}


def _item_context(target_text: str) -> dict:
    """Permission first, then the lookup: to someone who may not read reviews, an item that
    exists (a draft's, say) answers exactly like one that does not."""
    try:
        require(g.user, "review.read")
    except PermissionDenied as exc:
        _forbidden(exc)
    try:
        target = parse_target(target_text)
    except KbError as exc:
        abort(404, str(exc))
    if target.scope == "outcome":
        about = _outcome_context(target)
    else:
        case = get_kb().case(target.case_id, drafts=True)
        item = next((e for e in case.evidence if e.id == target.evidence_id), None) if case else None
        if case is None or (target.evidence_id and item is None):
            abort(404, f"nothing to review at {target_text!r}")
        about = {"case": case, "item": item}
    engine = get_kb().db
    try:
        reviews = visible_reviews(engine, target, g.user)
        discussion = discussion_for(engine, target, g.user)
    except PermissionDenied as exc:
        _forbidden(exc)
    own = next((r for r in reviews if r.reviewer == g.user.name), None)
    independent = independent_grades_of(engine, [r.id for r in reviews if not r.hidden])
    hold = withheld(engine, target, g.user)
    versions = versions_by_key(engine)
    latest = {}
    for (key, _), question in sorted(versions.items()):      # the highest version of each key
        latest[key] = question
    latest = dict(sorted(latest.items(), key=lambda kv: (kv[1].position, kv[0])))
    given = assignments(engine, target=target)
    return {"target": target, **about, "reviews": reviews, "own": own, "independent": independent,
            "reconciliation": None if hold else get_reconciliation(engine, target), "blind": blind_mode(engine) or hold,
            "questions": [q for q in latest.values() if q.active and q.scope == target.scope],
            "answers_of": lambda record: answer_views(record.answers, versions, latest) if record else [],
            "discussion": discussion, "assigned_to": [a.reviewer for a in given],
            "assigned_here": next((a for a in given if a.reviewer == g.user.name), None),
            "tags": list_tags(get_kb().db), "grades": SMS_GRADES, "rubric": RUBRIC,
            "confidences": CONFIDENCE, "relevances": RELEVANCE, "statuses": STATUSES[:-1],
            "disagreeing": _disagreeing(reviews), "answer_value": _answer_value}


def _answer_value(values: dict | None, key: str):
    """A question's answer in a form's values: stored ({"version", "value"}) or as typed."""
    answer = (values or {}).get("answers", {}).get(key)
    return answer.get("value") if isinstance(answer, dict) and "version" in answer else answer


def _form_answers(questions) -> dict:
    """The answers of the form's question controls (`q-<key>`), by key, for the questions the
    form lists in its hidden `asked` fields (a form without them, an older page or a script,
    leaves the stored answers as they are); a number that does not parse stays as typed, so the
    error names it."""
    form, found = request.form, {}
    asked = set(form.getlist("asked"))
    for question in (q for q in questions if q.key in asked):
        name = f"q-{question.key}"
        if question.kind == "multiple":
            found[question.key] = form.getlist(name)
        elif question.kind == "number":
            text = form.get(name, "").strip()[:40]
            try:
                found[question.key] = float(text) if text else None
            except ValueError:
                found[question.key] = text
            if isinstance(found[question.key], float) and found[question.key].is_integer():
                found[question.key] = int(found[question.key])
        else:
            found[question.key] = form.get(name) or None
    return found


def _disagreeing(reviews) -> set[str]:
    """The fields on which the submitted reviews an editor can see differ (highlighted for reconciling)."""
    shown = [r for r in reviews if not r.hidden and r.submitted]
    return {name for name in ("sms_grade", "confidence", "relevance")
            if len({getattr(r, name) for r in shown if getattr(r, name) is not None}) > 1}


@bp.get("/reviews/item/<path:target>")
def item(target: str):
    return render_template("reviews/item.html", form=None, **_item_context(target))


ACTIONS = {"draft": "in-review", "submit": "reviewed"}


def _form_values(questions=()) -> tuple[dict, list[tuple[str, str]]]:
    """The review's values from the form, and the free tags that were rewritten as the list writes
    tags ("Gang Violence" -> "gang-violence"). "Save draft" keeps the review in review; "Submit"
    hands it in (as disputed when the reviewer disputes the claim); a form without either button
    (an older page, a script) says its status itself."""
    form = request.form
    free, renamed = [], []
    for written in (t.strip() for t in form.get("free_tags", "").split(",")):
        tag = normalised_tag(written)
        if tag and tag != written:
            renamed.append((written[:80], tag))
        if tag:
            free.append(tag)
    action = form.get("action", "")
    if action and action not in ACTIONS:
        abort(400, f"action must be one of: {', '.join(ACTIONS)}")
    status = ACTIONS[action] if action else form.get("status", "in-review")
    if action == "submit" and form.get("dispute") == "on":
        status = "disputed"
    return ({"sms_grade": whole_number(form.get("sms_grade")),
             "confidence": form.get("confidence") or None, "relevance": form.get("relevance") or None,
             "tags": form.getlist("tags") + free, "status": status, "note": form.get("note", ""),
             **({"answers": _form_answers(questions)} if request.form.getlist("asked") else {})}, renamed)


def _next_item(current: str) -> str | None:
    """After a submission: the reviewer's next open review, else the next item still short of two
    reviews that is not theirs."""
    waiting = review_queue(get_kb().db, g.user, outcomes=_outcomes_asked(), limit=50)   # assigned ones first
    for entry in waiting:
        if entry.assigned and str(entry.target) != current:
            return str(entry.target)
    for review in todo_list(get_kb().db, g.user):
        if str(review.target) != current:
            return str(review.target)
    for entry in waiting:
        if not entry.mine and str(entry.target) != current:
            return str(entry.target)
    return None


@bp.post("/reviews/item/<path:target>")
def save(target: str):
    context = _item_context(target)
    values, renamed = _form_values(context["questions"])
    try:
        if context["own"] is None:
            create_review(get_kb().db, g.user, context["target"], values)
        else:
            version = whole_number(request.form.get("version"))
            update_review(get_kb().db, g.user, context["own"].id, values, -1 if version is None else version)
    except PermissionDenied as exc:
        _forbidden(exc)
    except ConflictError as exc:
        context = _item_context(target)
        return render_template("reviews/item.html", form=values, conflict=str(exc), **context), 409
    except InvalidReview as exc:
        return render_template("reviews/item.html", form=values, invalid=exc.errors, **context), 400
    for written, tag in renamed:
        flash(f"Free tag {written!r} was saved as {tag!r} (tags are lowercase words joined by hyphens).", "ok")
    if values["status"] == "in-review":
        flash("Draft saved: only you and the editors see it, and it does not count yet. Submit it when it is done.", "ok")
        return redirect(url_for("reviews.item", target=target))
    following = _next_item(target)
    if following is None:
        flash("Review submitted. Nothing else is waiting for you in the queue.", "ok")
        return redirect(url_for("reviews.queue"))
    flash(f"Review submitted. Here is the next item, {following}.", "ok")
    return redirect(url_for("reviews.item", target=following))


@bp.post("/reviews/item/<path:target>/reconcile")
def reconcile_item(target: str):
    context = _item_context(target)
    form = request.form
    grades = {"sms_grade": whole_number(form.get("sms_grade")),
              "confidence": form.get("confidence") or None, "relevance": form.get("relevance") or None,
              **({"answers": _form_answers(context["questions"])} if form.getlist("asked") else {})}
    return _editor_write(target, context, lambda: reconcile(
        get_kb().db, g.user, context["target"], grades, form.get("reason", ""), version=whole_number(form.get("version"))),
        "Reconciled grade recorded.", "")


@bp.post("/reviews/item/<path:target>/discussion")
def discuss(target: str):
    """An editor's discussion note on the item, for its reviewers once they have submitted."""
    context = _item_context(target)
    return _editor_write(target, context, lambda: set_discussion(
        get_kb().db, g.user, context["target"], request.form.get("note", ""), whole_number(request.form.get("version"))),
        "Discussion note saved: the item's reviewers see it once they have submitted.", "#discussion-h")


def _editor_write(target: str, context: dict, write, done: str, anchor: str):
    """Run an editor's change of an item; the item page again on a conflict (409, reloaded) or a
    refused value (400), else back to it with `done` said."""
    try:
        write()
    except PermissionDenied as exc:
        _forbidden(exc)
    except ConflictError as exc:
        return render_template("reviews/item.html", form=None, conflict=str(exc), **_item_context(target)), 409
    except InvalidReview as exc:
        return render_template("reviews/item.html", form=None, invalid=exc.errors, **context), 400
    flash(done, "ok")
    return redirect(url_for("reviews.item", target=target) + anchor)


@bp.get("/reviews/item/<path:target>/history")
def history(target: str):
    try:
        entries = audit_history(get_kb().db, g.user, str(parse_target(target)))
    except PermissionDenied as exc:
        _forbidden(exc)
    except KbError as exc:
        abort(404, str(exc))
    return render_template("reviews/history.html", target=target, entries=entries, action_words=HISTORY_ACTIONS,
                           shown_value=_shown_value)


def _shown_value(value) -> str:
    """A field's value in a history: a list as its items, nothing as a dash, long text cut."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "…"


@bp.get("/reviews/agreement")
def agreement_page():
    theme = request.args.get("theme") or None
    try:
        found = review_agreement(get_kb().db, g.user, theme=theme)
    except PermissionDenied as exc:
        _forbidden(exc)
    names = {"sms_grade": "SMS grade", "confidence": "Certainty (confidence)", "relevance": "Relevance"}
    asked = list_questions(get_kb().db, include_retired=True)
    names.update({f"answers.{q.key}": q.label for q in asked})
    ordinal = {"sms_grade", *(f"answers.{q.key}" for q in asked if q.ordinal)}
    return render_template("reviews/agreement.html", found=found, theme=theme, vocab=get_vocab(), field_names=names,
                           ordinal=ordinal)


@bp.get("/reviews/calibration")
def calibration_page():
    """Each reviewer's drift from the reconciled grades: overall, by study design, by month."""
    rows = get_kb().evidence("", limit=10 ** 6, drafts=True)[0].rows
    try:
        found = reviewer_calibration(get_kb().db, g.user, {(r.case_id, r.id): r.design for r in rows})
    except PermissionDenied as exc:
        _forbidden(exc)
    return render_template("reviews/calibration.html", found=found)


@bp.route("/reviews/settings", methods=["GET", "POST"])
def settings():
    engine = get_kb().db
    try:
        if not g.user.can("setting.change"):
            raise PermissionDenied("only editors change settings")
        if request.method == "POST":
            changed = []
            if request.form.get("blind_mode") in ("on", "off"):
                set_setting(engine, g.user, "blind_mode", request.form["blind_mode"] == "on")
                changed.append("blind mode")
            if request.form.get("tag_name", "").strip():
                name = request.form["tag_name"].strip()
                add_tag(engine, g.user, name, request.form.get("tag_label", "").strip() or name,
                        public=request.form.get("tag_public") == "on")
                changed.append(f"tag {name}")
            if not changed:
                abort(400, "nothing to change: send blind_mode (on or off) or a tag_name")
            flash(f"Saved: {', '.join(changed)}.", "ok")
            return redirect(url_for("reviews.settings"))
    except PermissionDenied as exc:
        _forbidden(exc)
    except KbError as exc:
        abort(400, str(exc))
    return render_template("reviews/settings.html", blind=blind_mode(engine), tags=list_tags(engine, include_retired=True))
