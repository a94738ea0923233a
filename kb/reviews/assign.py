"""Allocation: editors give items to named reviewers, who see them first in their queue.

An editor assigns single items, a whole case, a theme, or a random share of a theme's (or all)
items for double grading: each chosen item goes to `per_item` reviewers, the least loaded first,
so the work spreads evenly. A `calibration` assignment seeds an item an editor has already
reconciled into a reviewer's queue; the review pages do not tell the reviewer (kb.reviews.views),
and the calibration page compares the grade they give with the known one.

Assigning is idempotent (an item already assigned to that reviewer is skipped) and audited; an
assignment can be withdrawn, which is audited too and never touches a review.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from .. import storage
from ..errors import KbError
from . import audit
from .records import Target
from .roles import User, acting
from .tables import now, reading, reconciliations, review_assignments, reviews, users, writing
from .views import target_exists
from .vocab import ASSIGNMENT_KINDS, SUBMITTED

MAX_ASSIGN = 20_000      # assignments one request may create (each is a row and an audit entry)


@dataclass(frozen=True)
class Assignment:
    target: Target
    reviewer: str
    kind: str
    assigned_by: str
    assigned_at: str

    def to_dict(self) -> dict:
        return {"target": str(self.target), "reviewer": self.reviewer, "kind": self.kind,
                "assigned_by": self.assigned_by, "assigned_at": self.assigned_at}


@dataclass
class AssignReport:
    created: list[Assignment] = field(default_factory=list)
    skipped: int = 0             # already assigned to that reviewer


def _reviewers(conn: Connection, names: list[str]) -> list[str]:
    if not names:
        raise KbError("name at least one reviewer")
    found = {r.name: r for r in conn.execute(select(users.c.name, users.c.role, users.c.disabled)
                                             .where(users.c.name.in_(names)))}
    problems = [f"{name!r} is not a user" if name not in found else f"{name!r} is disabled"
                for name in names if name not in found or found[name].disabled]
    problems += [f"{name!r} is a reader and cannot review" for name in names
                 if name in found and found[name].role == "reader"]
    if problems:
        raise KbError("cannot assign: " + "; ".join(problems))
    return list(dict.fromkeys(names))


def items_of(conn: Connection, *, case: str | None = None, theme: str | None = None) -> list[Target]:
    """The evidence items of a case, of a theme's cases, or of the whole build, in id order."""
    ev, terms = storage.evidence_items, storage.case_terms
    query = select(ev.c.case_id, ev.c.id).order_by(ev.c.case_id, ev.c.id)
    if case:
        query = query.where(ev.c.case_id == case)
    if theme:
        query = query.where(ev.c.case_id.in_(select(terms.c.case_id).where(terms.c.kind == "theme",
                                                                            terms.c.name == theme)))
    return [Target(case_id, evidence_id) for case_id, evidence_id in conn.execute(query)]


def _reconciled(conn: Connection) -> set[Target]:
    return {Target(c, e) for c, e in conn.execute(select(reconciliations.c.case_id, reconciliations.c.evidence_id))}


def assign(engine: Engine, actor: User, reviewers: list[str], *, targets: list[Target] | None = None,
           case: str | None = None, theme: str | None = None, share: float | None = None, per_item: int = 2,
           calibration: int | None = None, seed: int | None = None) -> AssignReport:
    """Assign items to `reviewers`. Exactly one of: `targets` (single items), `case`, `theme` alone
    (every item of it to every reviewer), `share` (a fraction 0-1 of the theme's or of all items,
    drawn at random, each to `per_item` of the reviewers), or `calibration` (that many reconciled
    items, at random, to every reviewer who has not reviewed them)."""
    modes = [targets is not None, case is not None, share is not None, calibration is not None]
    if sum(modes) > 1 or not (any(modes) or theme):
        raise KbError("assign one of: items, a case, a theme, a share of items, or calibration items")
    if share is not None and not 0 < share <= 1:
        raise KbError(f"the share must be more than 0 and at most 1 (a fraction of the items), not {share}")
    rng = random.Random(seed)
    report = AssignReport()
    with writing(engine) as conn:
        actor = acting(conn, actor, "review.assign")
        names = _reviewers(conn, reviewers)
        if share is not None and not 1 <= per_item <= len(names):
            raise KbError(f"each item goes to {per_item} reviewer(s), but {len(names)} are named")
        existing = {(Target(r.case_id, r.evidence_id), r.reviewer) for r in conn.execute(select(review_assignments))}
        reviewed = {(Target(r.case_id, r.evidence_id), r.reviewer) for r in conn.execute(
            select(reviews.c.case_id, reviews.c.evidence_id, reviews.c.reviewer).where(reviews.c.status.in_(SUBMITTED)))}
        load = Counter(r for _, r in existing)
        wanted: list[tuple[Target, str, str]] = []
        if targets is not None:
            missing = [str(t) for t in targets if not target_exists(conn, t)]
            if missing:
                raise KbError(f"not in the current build: {', '.join(missing[:5])}")
            wanted = [(t, name, "single") for t in targets for name in names]
        elif case is not None:
            found = items_of(conn, case=case)
            if not found:
                raise KbError(f"case {case!r} has no evidence items in the current build")
            wanted = [(t, name, "case") for t in found for name in names]
        elif share is not None:
            pool = items_of(conn, theme=theme)
            chosen = sorted(rng.sample(pool, max(1, round(share * len(pool))) if pool else 0))
            for target in chosen:
                ranked = sorted(names, key=lambda n: (load[n], rng.random()))
                for name in ranked[:per_item]:
                    wanted.append((target, name, "share"))
                    load[name] += 1
        elif calibration is not None:
            pool = sorted(t for t in _reconciled(conn) if t.scope == "evidence")
            if not pool:
                raise KbError("no reconciled evidence item to seed: reconcile some first")
            chosen = sorted(rng.sample(pool, min(calibration, len(pool))))
            wanted = [(t, name, "calibration") for t in chosen for name in names if (t, name) not in reviewed]
        else:
            wanted = [(t, name, "theme") for t in items_of(conn, theme=theme) for name in names]
        if len(wanted) > MAX_ASSIGN:
            raise KbError(f"that would make {len(wanted):,} assignments; at most {MAX_ASSIGN:,} at once")
        stamp = now()
        for target, name, kind in wanted:
            if (target, name) in existing:
                report.skipped += 1
                continue
            existing.add((target, name))
            entry = Assignment(target, name, kind, actor.name, stamp)
            conn.execute(insert(review_assignments).values(case_id=target.case_id, evidence_id=target.evidence_id,
                                                           reviewer=name, kind=kind, assigned_by=actor.name,
                                                           assigned_at=stamp))
            audit.record(conn, actor.name, "assign", str(target), None, entry.to_dict())
            report.created.append(entry)
    return report


def unassign(engine: Engine, actor: User, target: Target, reviewer: str) -> bool:
    """Withdraw one assignment; the reviewer's review, if any, stays. False if there was none."""
    with writing(engine) as conn:
        actor = acting(conn, actor, "review.assign")
        row = conn.execute(select(review_assignments).where(
            review_assignments.c.case_id == target.case_id, review_assignments.c.evidence_id == target.evidence_id,
            review_assignments.c.reviewer == reviewer)).first()
        if row is None:
            return False
        conn.execute(delete(review_assignments).where(review_assignments.c.id == row.id))
        before = Assignment(target, reviewer, row.kind, row.assigned_by, row.assigned_at)
        audit.record(conn, actor.name, "unassign", str(target), before.to_dict(), None)
    return True


def assignments(bind: Engine | Connection, *, reviewer: str | None = None,
                target: Target | None = None) -> list[Assignment]:
    """Assignments, oldest first (no permission check: callers check, or show a user their own)."""
    query = select(review_assignments).order_by(review_assignments.c.id)
    if reviewer is not None:
        query = query.where(review_assignments.c.reviewer == reviewer)
    if target is not None:
        query = query.where(review_assignments.c.case_id == target.case_id,
                            review_assignments.c.evidence_id == target.evidence_id)
    with reading(bind) as conn:
        return [Assignment(Target(r.case_id, r.evidence_id), r.reviewer, r.kind, r.assigned_by, r.assigned_at)
                for r in conn.execute(query)]


@dataclass
class Load:
    reviewer: str
    assigned: int = 0
    done: int = 0                # assigned items they have submitted a review of

    @property
    def to_do(self) -> int:
        return self.assigned - self.done


def workload(bind: Engine | Connection, viewer: User) -> list[Load]:
    """Per reviewer: items assigned and how many of them they have submitted (editors)."""
    with reading(bind) as conn:
        acting(conn, viewer, "review.assign")
        submitted = {(r.case_id, r.evidence_id, r.reviewer) for r in conn.execute(
            select(reviews.c.case_id, reviews.c.evidence_id, reviews.c.reviewer).where(reviews.c.status.in_(SUBMITTED)))}
        found: dict[str, Load] = {}
        for r in conn.execute(select(review_assignments)):
            entry = found.setdefault(r.reviewer, Load(r.reviewer))
            entry.assigned += 1
            entry.done += int((r.case_id, r.evidence_id, r.reviewer) in submitted)
    return sorted(found.values(), key=lambda e: e.reviewer)


def is_calibration(bind: Engine | Connection, target: Target, reviewer: str) -> bool:
    with reading(bind) as conn:
        return conn.execute(select(review_assignments.c.id).where(
            review_assignments.c.case_id == target.case_id, review_assignments.c.evidence_id == target.evidence_id,
            review_assignments.c.reviewer == reviewer, review_assignments.c.kind == "calibration")).first() is not None


__all__ = ["ASSIGNMENT_KINDS", "Assignment", "AssignReport", "assign", "unassign", "assignments", "workload",
           "is_calibration", "items_of"]
