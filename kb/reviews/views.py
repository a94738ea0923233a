"""What people look at: the review queue, a reviewer's to-do list, and the public view.

The public view is all a reader ever gets: reconciled grades, and the public tags of reviews of
items an editor has reconciled. Nothing of an unreconciled review reaches it (not its grades, not
its tags, not its note; a blind reviewer could otherwise read another's tags on the public case
page before submitting), so case pages, search facets and the evidence map can use it without a
permission check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.engine import Connection, Engine

from .. import storage
from .records import OUTCOME, Review, Target
from .roles import User, acting
from .tables import reading, reconciliations, review_assignments, reviews
from .taglist import public_tag_names
from .vocab import OPEN, SUBMITTED


@dataclass(frozen=True)
class QueueItem:
    target: Target
    title: str       # the claim of an evidence item, the title of a case
    reviews: int     # submitted reviews so far (none shown for a calibration item)
    mine: bool       # the viewer has a review of it (draft or submitted)
    assigned: bool = False   # an editor assigned it to the viewer, who has not submitted it yet

    def to_dict(self) -> dict:
        return {"target": str(self.target), "title": self.title, "reviews": self.reviews, "mine": self.mine,
                "assigned": self.assigned}


@dataclass
class PublicGrade:
    target: Target
    sms_grade: int | None = None
    confidence: str | None = None
    relevance: str | None = None
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"target": str(self.target), "sms_grade": self.sms_grade, "confidence": self.confidence,
                "relevance": self.relevance, "tags": self.tags}


def _items(theme: str | None, include_cases: bool, outcomes: tuple[str, ...] = ()):
    """Reviewable items of the current build: evidence items, whole cases if asked, and each
    theme's harm `outcomes` with evidence (`@theme/outcome`, titled by the outcome) if given."""
    ev, cases, terms = storage.evidence_items, storage.cases, storage.case_terms
    themed = select(terms.c.case_id).where(terms.c.kind == "theme", terms.c.name == theme)
    query = select(ev.c.case_id.label("case_id"), ev.c.id.label("evidence_id"), ev.c.claim.label("title"))
    if theme:
        query = query.where(ev.c.case_id.in_(themed))
    parts = [query]
    if include_cases:
        whole = select(cases.c.id.label("case_id"), literal("").label("evidence_id"), cases.c.title.label("title"))
        parts.append(whole.where(cases.c.id.in_(themed)) if theme else whole)
    if outcomes:
        pair = (select((literal(OUTCOME, String) + terms.c.name).label("case_id"), ev.c.outcome.label("evidence_id"),
                       ev.c.outcome.label("title"))
                .join(terms, and_(terms.c.case_id == ev.c.case_id, terms.c.kind == "theme"))
                .where(ev.c.outcome.in_(outcomes)).distinct())
        parts.append(pair.where(terms.c.name == theme) if theme else pair)
    return (union_all(*parts) if len(parts) > 1 else query).subquery("items")


def review_queue(bind: Engine | Connection, viewer: User, *, theme: str | None = None, include_cases: bool = False,
                 outcomes: tuple[str, ...] = (), limit: int | None = None) -> list[QueueItem]:
    """Items assigned to the viewer that they have not submitted, first; then items with fewer
    than two submitted reviews and no reconciliation, fewest reviews first: where a second,
    independent grade is still missing. A calibration item (already reconciled) looks like any
    other assigned item: no count of the reviews it has."""
    items = _items(theme, include_cases, outcomes)
    counted = (select(reviews.c.case_id, reviews.c.evidence_id, func.count().label("n"))
               .where(reviews.c.status.in_(SUBMITTED)).group_by(reviews.c.case_id, reviews.c.evidence_id).subquery())
    same = lambda t: and_(t.c.case_id == items.c.case_id, t.c.evidence_id == items.c.evidence_id)  # noqa: E731
    mine = select(reviews.c.id).where(same(reviews), reviews.c.reviewer == viewer.name).exists()
    handed_in = select(reviews.c.id).where(same(reviews), reviews.c.reviewer == viewer.name,
                                           reviews.c.status.in_(SUBMITTED)).exists()
    given = review_assignments
    assigned = and_(select(given.c.id).where(same(given), given.c.reviewer == viewer.name).exists(), ~handed_in)
    seeded = select(given.c.id).where(same(given), given.c.reviewer == viewer.name, given.c.kind == "calibration").exists()
    reconciled = select(reconciliations.c.id).where(same(reconciliations)).exists()
    n = func.coalesce(counted.c.n, 0)
    query = (select(items.c.case_id, items.c.evidence_id, items.c.title, n.label("n"), mine.label("mine"),
                    assigned.label("assigned"), seeded.label("seeded"))
             .select_from(items.outerjoin(counted, same(counted)))
             .where(or_(and_(n < 2, ~reconciled), assigned))
             .order_by(case((assigned, 0), else_=1), n, items.c.case_id, items.c.evidence_id).limit(limit))
    with reading(bind) as conn:
        acting(conn, viewer, "review.read")
        return [QueueItem(Target(r.case_id, r.evidence_id), r.title, 0 if r.seeded else r.n, bool(r.mine),
                          bool(r.assigned)) for r in conn.execute(query)]


def target_exists(conn: Connection, target: Target) -> bool:
    if target.scope == "outcome":    # a theme's outcome exists while some case of the theme has evidence on it
        items, terms = storage.evidence_items, storage.case_terms
        themed = select(terms.c.case_id).where(terms.c.kind == "theme", terms.c.name == target.theme)
        query = exists().where(items.c.outcome == target.evidence_id, items.c.case_id.in_(themed))
    elif target.evidence_id:
        items = storage.evidence_items
        query = exists().where(items.c.case_id == target.case_id, items.c.id == target.evidence_id)
    else:
        query = exists().where(storage.cases.c.id == target.case_id)
    return bool(conn.execute(select(query)).scalar())


def todo_list(bind: Engine | Connection, viewer: User) -> list[Review]:
    """The viewer's own reviews still open (unreviewed, in review or disputed), oldest change first."""
    query = (select(reviews).where(reviews.c.reviewer == viewer.name, reviews.c.status.in_(OPEN))
             .order_by(reviews.c.updated_at, reviews.c.id))
    with reading(bind) as conn:
        acting(conn, viewer, "review.read")
        return [Review.from_row(r) for r in conn.execute(query)]


def public_view(bind: Engine | Connection, case_id: str | None = None) -> dict[str, PublicGrade]:
    """Reconciled grades and public tags by target (`case` or `case/evidence`), for everyone."""
    rec, rev = reconciliations, reviews
    rec_query = select(rec.c.case_id, rec.c.evidence_id, rec.c.sms_grade, rec.c.confidence, rec.c.relevance)
    tag_query = select(rev.c.case_id, rev.c.evidence_id, rev.c.tags).where(rev.c.status.in_(SUBMITTED))
    if case_id is not None:
        rec_query, tag_query = rec_query.where(rec.c.case_id == case_id), tag_query.where(rev.c.case_id == case_id)
    view: dict[str, PublicGrade] = {}
    with reading(bind) as conn:
        for r in conn.execute(rec_query):
            target = Target(r.case_id, r.evidence_id)
            view[str(target)] = PublicGrade(target, r.sms_grade, r.confidence, r.relevance)
        public = public_tag_names(conn) if view else set()   # tags show on reconciled items only
        if public:
            for r in conn.execute(tag_query.order_by(rev.c.id)):
                grade = view.get(str(Target(r.case_id, r.evidence_id)))
                if grade is not None:
                    grade.tags.extend(t for t in (r.tags or []) if t in public and t not in grade.tags)
    for grade in view.values():
        grade.tags.sort()
    return dict(sorted(view.items()))


REVIEW_STATES = ("reconciled", "reviewed", "in-review", "unreviewed")
PUBLIC_REVIEW_STATES = ("reconciled", "unreviewed")   # what readers see: reconciled or not (yet)


def review_state_by_case(bind: Engine | Connection, *, public: bool = False) -> dict[str, str]:
    """Each case with any review: `reconciled` (an editor decided on it or one of its items),
    `reviewed` (a submitted review), or `in-review`. Cases not listed are `unreviewed`. For the
    review-status facet; with `public` (readers) only reconciled cases are listed, so nothing
    about unreconciled reviews shows, not even that there are some."""
    state: dict[str, str] = {}
    with reading(bind) as conn:
        if public:
            return {case_id: "reconciled" for (case_id,) in conn.execute(select(reconciliations.c.case_id))}
        for case_id, status in conn.execute(select(reviews.c.case_id, reviews.c.status)):
            current = state.get(case_id, "in-review")
            state[case_id] = "reviewed" if status in SUBMITTED or current == "reviewed" else current
        for (case_id,) in conn.execute(select(reconciliations.c.case_id)):
            state[case_id] = "reconciled"
    return state


def reconciled_certainty(bind: Engine | Connection, theme: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """outcome -> (GRADE certainty, reasons for downgrading) that editors reconciled for a theme's
    outcomes (the built-in `grade` questions), for the summary of findings; public like any
    reconciled grade."""
    query = select(reconciliations.c.evidence_id, reconciliations.c.answers).where(
        reconciliations.c.case_id == OUTCOME + theme)
    found = {}
    with reading(bind) as conn:
        for outcome, answers in conn.execute(query):
            level = ((answers or {}).get("grade-certainty") or {}).get("value")
            if level:
                reasons = ((answers or {}).get("grade-downgrades") or {}).get("value") or []
                found[outcome] = (level, tuple(reasons))
    return found
