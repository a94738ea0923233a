"""Reviews whose case or evidence item the current build no longer has, and reviews that follow a
case to its new id.

Nothing here deletes: an orphaned review stays, listed, until its item comes back or an editor
decides what it means. Both functions take the build's Connection and never commit, so the lead
can call them inside the build transaction: a failed build moves nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import String, and_, exists, literal, not_, or_, select, update
from sqlalchemy.engine import Connection, Engine

from .. import storage
from ..hooks import BuildEvent, subscribe
from ..model import Case
from . import audit
from .records import OUTCOME, Reconciliation, Review, Target
from .tables import now, reconciliations, reviews


@dataclass(frozen=True)
class Move:
    """One review or reconciliation that followed its case from `old` to `new`, or could not
    (`moved` False, `reason` says why; it stays where it was, orphaned, for an editor)."""

    kind: str  # review | reconciliation
    id: int
    old: Target
    new: Target
    reviewer: str
    moved: bool = True
    reason: str = ""


def _orphan_condition(table):
    """A review (or reconciliation) is orphaned when its case or item left the build; one of a
    theme's outcome (`@theme/outcome`) when no case of the theme has evidence on the outcome."""
    cases, items, terms = storage.cases, storage.evidence_items, storage.case_terms
    of_outcome = table.c.case_id.startswith(OUTCOME)
    case_gone = and_(~of_outcome, not_(exists().where(cases.c.id == table.c.case_id)))
    item_gone = and_(~of_outcome, table.c.evidence_id != "",
                     not_(exists().where(items.c.case_id == table.c.case_id, items.c.id == table.c.evidence_id)))
    outcome_gone = and_(of_outcome, not_(exists().where(
        items.c.outcome == table.c.evidence_id, terms.c.case_id == items.c.case_id, terms.c.kind == "theme",
        (literal(OUTCOME, String) + terms.c.name) == table.c.case_id)))
    return or_(case_gone, item_gone, outcome_gone)


def orphaned_reviews(bind: Engine | Connection) -> list[Review]:
    """Reviews of a case or evidence item that is not in the current build, by target."""
    query = select(reviews).where(_orphan_condition(reviews)).order_by(reviews.c.case_id, reviews.c.evidence_id,
                                                                        reviews.c.reviewer)
    with storage.reading(bind) as conn:
        return [Review.from_row(r) for r in conn.execute(query)]


def orphaned_reconciliations(conn: Connection) -> list[Reconciliation]:
    query = select(reconciliations).where(_orphan_condition(reconciliations)).order_by(
        reconciliations.c.case_id, reconciliations.c.evidence_id)
    return [Reconciliation.from_row(r) for r in conn.execute(query)]


def follow_former_ids(conn: Connection, cases: Iterable[Case]) -> list[Move]:
    """Move reviews and reconciliations of each case's `former_ids` to its current id, keeping the
    evidence id, with an audit entry per move. A former id that is still a case of the build keeps
    its reviews; a reviewer who already reviewed the same item under the new id keeps both reviews
    apart (the old one is reported, not merged). Idempotent: a second call finds nothing to move."""
    current = set(conn.execute(select(storage.cases.c.id)).scalars())
    moves: list[Move] = []
    for case in cases:
        for old_id in case.former_ids:
            if old_id == case.id or old_id in current:
                continue
            moves += _move_reviews(conn, old_id, case.id)
            moves += _move_reconciliations(conn, old_id, case.id)
    return moves


def _move_reviews(conn: Connection, old_id: str, new_id: str) -> list[Move]:
    moves = []
    for review in [Review.from_row(r) for r in conn.execute(select(reviews).where(reviews.c.case_id == old_id))]:
        new = Target(new_id, review.evidence_id)
        taken = conn.execute(select(reviews.c.id).where(
            reviews.c.case_id == new_id, reviews.c.evidence_id == review.evidence_id,
            reviews.c.reviewer == review.reviewer)).first()
        if taken:
            moves.append(Move("review", review.id, review.target, new, review.reviewer, False,
                              f"{review.reviewer} already has a review of {new}"))
            continue
        conn.execute(update(reviews).where(reviews.c.id == review.id)
                     .values(case_id=new_id, version=review.version + 1, updated_at=now()))
        audit.record(conn, audit.BUILD_ACTOR, "review.move", str(new),
                     {"target": str(review.target), "version": review.version},
                     {"target": str(new), "version": review.version + 1})
        moves.append(Move("review", review.id, review.target, new, review.reviewer))
    return moves


def _move_reconciliations(conn: Connection, old_id: str, new_id: str) -> list[Move]:
    moves = []
    rows = conn.execute(select(reconciliations).where(reconciliations.c.case_id == old_id)).all()
    for rec in [Reconciliation.from_row(r) for r in rows]:
        new = Target(new_id, rec.evidence_id)
        taken = conn.execute(select(reconciliations.c.id).where(reconciliations.c.case_id == new_id,
                                                                reconciliations.c.evidence_id == rec.evidence_id)).first()
        if taken:
            moves.append(Move("reconciliation", rec.id, rec.target, new, rec.editor, False, f"{new} is already reconciled"))
            continue
        conn.execute(update(reconciliations).where(reconciliations.c.id == rec.id)
                     .values(case_id=new_id, version=rec.version + 1, updated_at=now()))
        audit.record(conn, audit.BUILD_ACTOR, "reconciliation.move", str(new),
                     {"target": str(rec.target), "version": rec.version}, {"target": str(new), "version": rec.version + 1})
        moves.append(Move("reconciliation", rec.id, rec.target, new, rec.editor))
    return moves


@subscribe("build.written")
def after_build(event: BuildEvent) -> None:
    """In the build's transaction: reviews follow renamed cases (never on a build that changed
    nothing), and orphans are reported, never deleted."""
    if not event.noop:
        event.results["moved"] = follow_former_ids(event.conn, event.cases)
    event.results["orphaned"] = orphaned_reviews(event.conn)
