"""An editor's discussion note on a disputed item: why the grades differ, what to look at again.

One note per item, written and revised by editors (versioned like a reconciliation, audited). Its
reviewers see it once they have submitted their own review, so it cannot steer a blind grade.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from . import audit
from .errors import ConflictError, InvalidReview
from .notes import render_note
from .records import Target, value_errors
from .roles import User, acting
from .tables import now, reading, review_discussions, reviews, writing
from .vocab import SUBMITTED


@dataclass(frozen=True)
class Discussion:
    target: Target
    editor: str
    note: str
    note_html: str
    version: int
    updated_at: str

    def to_dict(self) -> dict:
        return {"target": str(self.target), "editor": self.editor, "note": self.note, "version": self.version,
                "updated_at": self.updated_at}


def _row(conn: Connection, target: Target):
    return conn.execute(select(review_discussions).where(review_discussions.c.case_id == target.case_id,
                                                         review_discussions.c.evidence_id == target.evidence_id)).first()


def _discussion(row) -> Discussion:
    return Discussion(Target(row.case_id, row.evidence_id), row.editor, row.note, row.note_html, row.version,
                      row.updated_at)


def discussion_for(bind: Engine | Connection, target: Target, viewer: User) -> Discussion | None:
    """The note on `target` if `viewer` may read it now: editors always, a reviewer once their own
    review of the item is submitted; None otherwise (or when there is none)."""
    with reading(bind) as conn:
        viewer = acting(conn, viewer, "review.read")
        row = _row(conn, target)
        if row is None:
            return None
        if viewer.can("review.reconcile"):
            return _discussion(row)
        submitted = conn.execute(select(reviews.c.id).where(
            reviews.c.case_id == target.case_id, reviews.c.evidence_id == target.evidence_id,
            reviews.c.reviewer == viewer.name, reviews.c.status.in_(SUBMITTED))).first()
        return _discussion(row) if submitted else None


def set_discussion(engine: Engine, actor: User, target: Target, note: str, version: int | None) -> Discussion:
    """Write (version None) or revise (the version edited) the note; refused if it changed since."""
    errors = value_errors({"note": note})
    if not errors and not note.strip():
        errors = {"note": "is empty: write what the reviewers should discuss"}
    if errors:
        raise InvalidReview(errors)
    with writing(engine) as conn:
        actor = acting(conn, actor, "review.reconcile")
        row = _row(conn, target)
        before = _discussion(row) if row else None
        stamp, html = now(), render_note(note)
        if before is None and version is None:
            conn.execute(insert(review_discussions).values(case_id=target.case_id, evidence_id=target.evidence_id,
                                                           editor=actor.name, note=note, note_html=html, version=1,
                                                           updated_at=stamp))
        elif before is None or version != before.version:
            raise ConflictError(f"the discussion note on {target} changed meanwhile (you edited version {version}, "
                                f"it is {'gone' if before is None else f'version {before.version}'}); nothing was saved")
        else:
            conn.execute(update(review_discussions).where(review_discussions.c.case_id == target.case_id,
                                                          review_discussions.c.evidence_id == target.evidence_id,
                                                          review_discussions.c.version == version)
                         .values(editor=actor.name, note=note, note_html=html, version=version + 1, updated_at=stamp))
        after = _discussion(_row(conn, target))
        audit.record(conn, actor.name, "discussion", str(target), before.to_dict() if before else None, after.to_dict())
    return after
