"""Creating, updating, reading and reconciling reviews, with permissions and optimistic locking.

Every write runs in one transaction with its audit entry. An update names the version it was
based on; the UPDATE only matches that version, so of two concurrent saves exactly one wins and the
other gets a ConflictError carrying the current review (the form keeps what its user typed).
Queues, the public view, tags and settings are in `views`, `taglist` and `settings`; this module
re-exports them so callers need one import.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ..errors import UnknownIdError
from . import audit, questions
from .errors import ConflictError, InvalidReview, PermissionDenied
from .notes import render_note
from .records import (
    REVIEW_VALUES,
    Reconciliation,
    Review,
    Target,
    completeness_errors,
    dedupe,
    parse_target,
    value_errors,
)
from .assign import is_calibration
from .roles import User, acting
from .settings import blind_mode, get_setting, set_setting  # noqa: F401
from .tables import independent_grades, now, reading, reconciliations, reviews, writing
from .taglist import add_tag, list_tags, update_tag  # noqa: F401
from .views import public_view, review_queue, target_exists, todo_list  # noqa: F401
from .vocab import SUBMITTED

__all__ = ["Review", "Reconciliation", "Target", "parse_target", "create_review", "update_review", "get_review",
           "reviews_of", "visible_reviews", "reconcile", "get_reconciliation", "render_note", "public_view",
           "review_queue", "todo_list", "add_tag", "update_tag", "list_tags", "get_setting", "set_setting",
           "blind_mode", "ConflictError", "PermissionDenied", "InvalidReview"]


def _clean(values: dict[str, Any], scope: str) -> dict[str, Any]:
    errors = value_errors(values) or completeness_errors(values, scope)
    if errors:
        raise InvalidReview(errors)
    return {**values, "tags": dedupe(values["tags"])}


def _answers(conn: Connection, given: dict | None, before: dict, target: Target, status: str) -> dict:
    """The answers to store: those `given` ({key: value}) checked and stamped with the versions
    of their questions; None keeps the answers `before`, re-checked (a submission needs the
    required ones)."""
    if given is None:
        given = {key: answer["value"] for key, answer in before.items()}
    if not isinstance(given, dict):
        raise InvalidReview({"answers": "must be answers by question key"})
    return questions.stamp_answers(conn, given, before, target.scope, status in SUBMITTED)


def create_review(engine: Engine, actor: User, target: Target | str, values: dict[str, Any]) -> Review:
    """The acting user's review of an item that exists now. One review per reviewer and item."""
    target = parse_target(target) if isinstance(target, str) else target
    base = {"sms_grade": None, "confidence": None, "relevance": None, "tags": [], "status": "unreviewed", "note": ""}
    values = dict(values)
    given = values.pop("answers", None)
    clean = _clean({**base, **values}, target.scope)
    if clean["status"] == "reconciled":
        raise InvalidReview({"status": "reconciled is set by an editor's reconciliation"})
    try:
        with writing(engine) as conn:
            actor = acting(conn, actor, "review.write")
            if not target_exists(conn, target):
                raise UnknownIdError(f"no case or evidence item {str(target)!r} in the current build")
            current = _find(conn, target, actor.name)
            if current is not None:
                raise _duplicate(target, current)
            clean["answers"] = _answers(conn, given, {}, target, clean["status"])
            stamp = now()
            row = {**clean, "case_id": target.case_id, "evidence_id": target.evidence_id, "reviewer": actor.name,
                   "version": 1, "created_at": stamp, "updated_at": stamp, "note_html": render_note(clean["note"])}
            review = Review(conn.execute(insert(reviews).values(**row)).inserted_primary_key[0], **row)
            record_independent(conn, review)
            audit.record(conn, actor.name, "review.create", str(target), None, _logged(review))
    except IntegrityError:  # the same reviewer created it concurrently: the unique key refused this one
        raise _duplicate(target, _find_in(engine, target, actor.name)) from None
    return review


def _duplicate(target: Target, current: Review | None) -> ConflictError:
    version = current.version if current else "?"
    return ConflictError(f"you already have a review of {target} (version {version}); reload it and edit that one",
                         current)


def update_review(engine: Engine, actor: User, review_id: int, values: dict[str, Any], version: int) -> Review:
    """Change the acting user's own review, based on `version`; refused if anyone saved since."""
    with writing(engine) as conn:
        actor = acting(conn, actor, "review.write")
        before = get_review(conn, review_id)
        if before.reviewer != actor.name:
            raise PermissionDenied(f"A review is changed only by its reviewer: this is {before.reviewer!r}'s review of "
                                   f"{before.target}, and you are signed in as {actor.name!r}")
        if values.get("status") == "reconciled" and before.status != "reconciled":
            raise InvalidReview({"status": "reconciled is set by an editor's reconciliation"})
        values = dict(values)
        given = values.pop("answers", None)
        clean = _clean({**{k: getattr(before, k) for k in REVIEW_VALUES if k != "answers"}, **values},
                       before.target.scope)
        clean["answers"] = _answers(conn, given, before.answers, before.target, clean["status"])
        _check_version(before, version)
        result = conn.execute(update(reviews).where(reviews.c.id == review_id, reviews.c.version == version)
                              .values(**clean, note_html=render_note(clean["note"]), version=version + 1,
                                      updated_at=now()))
        if result.rowcount != 1:
            _check_version(get_review(conn, review_id), version)
        after = get_review(conn, review_id)
        if not before.submitted:   # a submitted review has its independent grades already
            record_independent(conn, after)
        audit.record(conn, actor.name, "review.update", str(after.target), _logged(before), _logged(after))
    return after


@dataclass(frozen=True)
class IndependentGrade:
    """A review's grades as first submitted, before its reviewer could see anyone else's."""

    review_id: int
    sms_grade: int | None
    confidence: str | None
    relevance: str | None
    submitted_at: str
    blind: bool
    answers: dict | None = None

    def differs_from(self, review: Review) -> bool:
        return ((self.sms_grade, self.confidence, self.relevance, self.answers or {})
                != (review.sms_grade, review.confidence, review.relevance, review.answers))


def record_independent(conn: Connection, review: Review, grades: dict | None = None,
                       submitted_at: str | None = None) -> None:
    """Keep the grades of a review's first submission, once: a later submission changes nothing
    here. `grades` and `submitted_at` come from an import; otherwise the review's own, now."""
    if not review.submitted and grades is None:
        return
    if conn.execute(select(independent_grades.c.review_id).where(independent_grades.c.review_id == review.id)).first():
        return
    grades = grades or {k: getattr(review, k) for k in ("sms_grade", "confidence", "relevance", "answers")}
    conn.execute(insert(independent_grades).values(review_id=review.id, **grades, submitted_at=submitted_at or now(),
                                                   blind=blind_mode(conn)))


def independent_grades_of(bind: Engine | Connection, review_ids) -> dict[int, IndependentGrade]:
    ids = [i for i in review_ids if i is not None]
    if not ids:
        return {}
    with reading(bind) as conn:
        rows = conn.execute(select(independent_grades).where(independent_grades.c.review_id.in_(ids)))
        return {r.review_id: IndependentGrade(**r._mapping) for r in rows}


def _check_version(current: Review, version: int) -> None:
    if current.version != version:
        raise ConflictError(f"the review of {current.target} by {current.reviewer} was changed by someone else "
                            f"(you edited version {version}, it is now version {current.version} of "
                            f"{current.updated_at}); nothing was saved", current)


def _logged(item: Review | Reconciliation) -> dict:
    data = item.to_dict()
    data.pop("hidden", None)
    data.pop("note_html", None)   # derived from the note, which the log keeps
    return data


def get_review(bind: Engine | Connection, review_id: int) -> Review:
    with reading(bind) as conn:
        row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
    if row is None:
        raise UnknownIdError(f"no review with id {review_id}")
    return Review.from_row(row)


def _find(conn: Connection, target: Target, reviewer: str) -> Review | None:
    row = conn.execute(select(reviews).where(reviews.c.case_id == target.case_id,
                                             reviews.c.evidence_id == target.evidence_id,
                                             reviews.c.reviewer == reviewer)).first()
    return Review.from_row(row) if row else None


def _find_in(bind: Engine | Connection, target: Target, reviewer: str) -> Review | None:
    with reading(bind) as conn:
        return _find(conn, target, reviewer)


def reviews_of(bind: Engine | Connection, target: Target) -> list[Review]:
    """Every review of one target, unmasked (for code that has checked permissions)."""
    query = (select(reviews).where(reviews.c.case_id == target.case_id, reviews.c.evidence_id == target.evidence_id)
             .order_by(reviews.c.reviewer))
    with reading(bind) as conn:
        return [Review.from_row(r) for r in conn.execute(query)]


def visible_reviews(bind: Engine | Connection, target: Target | str, viewer: User) -> list[Review]:
    """The reviews of an item as `viewer` may see them. In blind mode a reviewer sees how many
    others there are but not their grades, tags or notes until their own review is submitted, so
    double grading stays independent. Editors see everything: they reconcile."""
    target = parse_target(target) if isinstance(target, str) else target
    with reading(bind) as conn:
        viewer = acting(conn, viewer, "review.read")
        found = reviews_of(conn, target)
        blind = blind_mode(conn)
    own = next((r for r in found if r.reviewer == viewer.name), None)
    seeded = is_calibration(bind, target, viewer.name)
    if (not blind and not seeded) or viewer.can("review.reconcile") or (own is not None and own.submitted):
        return found
    return [r if r.reviewer == viewer.name else _masked(r) for r in found]


def withheld(bind: Engine | Connection, target: Target, viewer: User) -> bool:
    """Whether the item's reconciliation and others' reviews are withheld from `viewer`: a
    calibration item assigned to them that they have not submitted yet (its grade is known)."""
    if viewer.can("review.reconcile") or not is_calibration(bind, target, viewer.name):
        return False
    own = _find_in(bind, target, viewer.name)
    return own is None or not own.submitted


def _masked(review: Review) -> Review:
    return Review(review.id, review.case_id, review.evidence_id, review.reviewer, None, None, None, [], review.status,
                  "", review.version, review.created_at, review.updated_at, note_html="", hidden=True, answers={})


def get_reconciliation(bind: Engine | Connection, target: Target) -> Reconciliation | None:
    with reading(bind) as conn:
        row = conn.execute(select(reconciliations).where(reconciliations.c.case_id == target.case_id,
                                                         reconciliations.c.evidence_id == target.evidence_id)).first()
    return Reconciliation.from_row(row) if row else None


def reconcile(engine: Engine, actor: User, target: Target | str, values: dict[str, Any], reason: str,
              version: int | None = None) -> Reconciliation:
    """An editor's decision on an item's grade, with the reason; the submitted reviews of the item
    become `reconciled`. `version` is that of the reconciliation being revised (None: a first one)."""
    target = parse_target(target) if isinstance(target, str) else target
    grades = {k: values.get(k) for k in ("sms_grade", "confidence", "relevance")}
    errors = value_errors({**grades, "reason": reason})
    if not errors and grades["sms_grade"] is None and target.scope != "outcome":
        errors["sms_grade"] = "is required for a reconciliation"
    if not errors and not reason.strip():
        errors["reason"] = "is required: say why this grade"
    if errors:
        raise InvalidReview(errors)
    try:
        with writing(engine) as conn:
            after = _write_reconciliation(conn, actor, target, grades, values.get("answers"), reason, version)
    except IntegrityError:  # another editor made the first reconciliation concurrently
        raise ConflictError(f"{target} was reconciled by someone else meanwhile; reload it",
                            get_reconciliation(engine, target)) from None
    return after


def _write_reconciliation(conn: Connection, actor: User, target: Target, grades: dict, answers: dict | None,
                          reason: str, version: int | None) -> Reconciliation:
    actor = acting(conn, actor, "review.reconcile")      # before anything about the questions is told
    if not target_exists(conn, target) and not reviews_of(conn, target):
        raise UnknownIdError(f"nothing to reconcile: {str(target)!r} is not in the build and has no reviews")
    before = get_reconciliation(conn, target)
    grades = {**grades, "answers": _answers(conn, answers, before.answers if before else {}, target, "reconciled")}
    stamp = now()
    if before is None and version is None:
        conn.execute(insert(reconciliations).values(
            case_id=target.case_id, evidence_id=target.evidence_id, editor=actor.name, **grades, reason=reason,
            version=1, created_at=stamp, updated_at=stamp))
    else:
        _check_reconciliation_version(before, version, target)
        result = conn.execute(update(reconciliations)
                              .where(reconciliations.c.id == before.id, reconciliations.c.version == version)
                              .values(editor=actor.name, **grades, reason=reason, version=version + 1, updated_at=stamp))
        if result.rowcount != 1:
            _check_reconciliation_version(get_reconciliation(conn, target), version, target)
    after = get_reconciliation(conn, target)
    audit.record(conn, actor.name, "reconcile", str(target), _logged(before) if before else None, _logged(after))
    _mark_reconciled(conn, actor, target)
    return after


def _check_reconciliation_version(current: Reconciliation | None, version: int | None, target: Target) -> None:
    if current is not None and version is None:
        raise ConflictError(f"{target} is already reconciled (version {current.version}, by {current.editor}); "
                            "reload it and revise that; nothing was saved", current)
    if current is None or current.version != version:
        now_at = f"version {current.version}" if current else "not reconciled"
        raise ConflictError(f"the reconciliation of {target} changed meanwhile (you edited version {version}, it is "
                            f"{now_at}); nothing was saved", current)


def _mark_reconciled(conn: Connection, actor: User, target: Target) -> None:
    for review in reviews_of(conn, target):
        if review.status in SUBMITTED and review.status != "reconciled":
            result = conn.execute(update(reviews).where(reviews.c.id == review.id, reviews.c.version == review.version)
                                  .values(status="reconciled", version=review.version + 1, updated_at=now()))
            if result.rowcount != 1:
                continue  # its reviewer saved it meanwhile; their status stands
            audit.record(conn, actor.name, "review.reconciled", str(target), _logged(review),
                         _logged(get_review(conn, review.id)))

