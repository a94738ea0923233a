"""Calibration: how far each reviewer's SMS grades sit from the grades editors reconciled.

For every item a reviewer graded and an editor reconciled, the difference is the reviewer's grade
minus the reconciled one: positive when the reviewer grades more generously. A reviewer's grade is
the one first submitted (`independent_grades`), so a revision made after seeing the others does not
pull the figure towards the reconciliation; reviews submitted before first grades were kept use
their current grade. Figures per reviewer: overall, by study design (from the evidence items, which
the caller supplies) and by month of submission, so an editor can see drift; and separately on the calibration items editors
seeded into reviewers' queues (kb.reviews.assign), whose reconciled grade was known beforehand.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection, Engine

from .roles import User, acting
from .tables import independent_grades, reading, reconciliations, review_assignments, reviews
from .vocab import SUBMITTED


@dataclass
class Drift:
    """Signed differences from the reconciled grade: their number, mean and mean size."""

    differences: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float | None:
        return sum(self.differences) / self.n if self.n else None

    @property
    def mean_absolute(self) -> float | None:
        return sum(abs(d) for d in self.differences) / self.n if self.n else None


@dataclass
class ReviewerCalibration:
    reviewer: str
    overall: Drift = field(default_factory=Drift)
    by_design: dict[str, Drift] = field(default_factory=dict)
    by_month: dict[str, Drift] = field(default_factory=dict)
    seeded: Drift = field(default_factory=Drift)   # calibration items editors seeded into their queue


def calibration(bind: Engine | Connection, viewer: User, designs: dict[tuple[str, str], str]) -> list[ReviewerCalibration]:
    """Each reviewer's drift from the reconciled SMS grades (editors only); `designs`: (case,
    evidence) -> the item's study design. Reviewers with no reconciled item are left out."""
    rev, rec, first = reviews, reconciliations, independent_grades
    query = (select(rev.c.reviewer, rev.c.case_id, rev.c.evidence_id, rev.c.sms_grade, rev.c.updated_at,
                    first.c.sms_grade.label("first_grade"), first.c.submitted_at, rec.c.sms_grade.label("reconciled"))
             .join(rec, and_(rec.c.case_id == rev.c.case_id, rec.c.evidence_id == rev.c.evidence_id))
             .outerjoin(first, first.c.review_id == rev.c.id)
             .where(rev.c.status.in_(SUBMITTED), rec.c.sms_grade.isnot(None))
             .order_by(rev.c.reviewer, rev.c.id))
    found: dict[str, ReviewerCalibration] = {}
    with reading(bind) as conn:
        acting(conn, viewer, "agreement.read")
        given = review_assignments
        seeded = {(r.case_id, r.evidence_id, r.reviewer) for r in conn.execute(
            select(given.c.case_id, given.c.evidence_id, given.c.reviewer).where(given.c.kind == "calibration"))}
        for row in conn.execute(query):
            grade = row.first_grade if row.submitted_at is not None else row.sms_grade
            if grade is None:
                continue
            difference = grade - row.reconciled
            entry = found.setdefault(row.reviewer, ReviewerCalibration(row.reviewer))
            entry.overall.differences.append(difference)
            design = designs.get((row.case_id, row.evidence_id), "unknown")
            entry.by_design.setdefault(design, Drift()).differences.append(difference)
            month = (row.submitted_at or row.updated_at)[:7]
            entry.by_month.setdefault(month, Drift()).differences.append(difference)
            if (row.case_id, row.evidence_id, row.reviewer) in seeded:
                entry.seeded.differences.append(difference)
    for entry in found.values():
        entry.by_month = dict(sorted(entry.by_month.items()))
    return sorted(found.values(), key=lambda e: e.reviewer)
