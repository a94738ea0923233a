"""Reads of a built knowledge base for pages and the API: cases, sources, counts, the evidence map.

Everything here is a query on the database the build wrote; nothing re-reads the Markdown files.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, and_, func, literal, select
from sqlalchemy.engine import Connection, Engine

from .. import storage
from ..facets import FACETS
from ..model import Case, Source

T = storage


@dataclass(frozen=True)
class CaseSummary:
    """What a list of cases shows."""

    id: str
    title: str
    summary: str
    themes: list[str]
    country: list[str]
    period: str
    period_start: int | None
    updated: str
    status: str


def _summary(row) -> CaseSummary:
    data = row.data
    return CaseSummary(row.id, row.title, row.summary, data.get("themes", []), data.get("country", []),
                       row.period, row.period_start, row.updated, row.status)


def _visible(drafts: bool):
    return T.cases.c.status != "draft" if not drafts else T.cases.c.id.isnot(None)


def case(bind: Engine | Connection, case_id: str, drafts: bool = False) -> Case | None:
    found = full_cases(bind, [case_id], drafts)
    return found[0] if found else None


def full_cases(bind: Engine | Connection, ids: list[str] | None = None, drafts: bool = False) -> list[Case]:
    """Whole cases (body and evidence) in one query: in title order, or in the order of `ids`."""
    query = select(T.cases.c.id, T.cases.c.data, T.cases.c.body).where(_visible(drafts)).order_by(T.cases.c.title)
    if ids is not None:
        query = query.where(T.cases.c.id.in_(ids))
    found = {}
    with storage.reading(bind) as conn:
        for row in conn.execute(query):
            found[row.id] = Case.from_dict(row.data)
            found[row.id].body = row.body
    return list(found.values()) if ids is None else [found[i] for i in ids if i in found]


def cases(bind: Engine | Connection, *, drafts: bool = False, kind: str | None = None, name: str | None = None,
          ids: list[str] | None = None, order: str = "title", limit: int | None = None) -> list[CaseSummary]:
    """Cases, optionally those with a term (kind 'theme', 'concept', 'country', ...) or given ids."""
    query = select(T.cases.c.id, T.cases.c.title, T.cases.c.summary, T.cases.c.data, T.cases.c.period,
                   T.cases.c.period_start, T.cases.c.updated, T.cases.c.status).where(_visible(drafts))
    if kind:
        query = query.where(T.cases.c.id.in_(select(T.case_terms.c.case_id).where(
            and_(T.case_terms.c.kind == kind, T.case_terms.c.name == name))))
    if ids is not None:
        query = query.where(T.cases.c.id.in_(ids))
    orders = {"title": [T.cases.c.title], "updated": [T.cases.c.updated.desc(), T.cases.c.title],
              "period": [T.cases.c.period_start, T.cases.c.title]}
    query = query.order_by(*orders[order])
    if limit:
        query = query.limit(limit)
    with storage.reading(bind) as conn:
        return [_summary(row) for row in conn.execute(query)]


def term_counts(bind: Engine | Connection, kind: str, drafts: bool = False) -> dict[str, int]:
    query = (select(T.case_terms.c.name, func.count()).join(T.cases, T.cases.c.id == T.case_terms.c.case_id)
             .where(and_(T.case_terms.c.kind == kind, _visible(drafts))).group_by(T.case_terms.c.name))
    with storage.reading(bind) as conn:
        return dict(conn.execute(query).all())


def sources(bind: Engine | Connection, keys: list[str] | None = None) -> dict[str, Source]:
    query = select(T.sources.c.key, T.sources.c.entry_type, T.sources.c.fields, T.sources.c.raw).order_by(T.sources.c.position)
    if keys is not None:
        query = query.where(T.sources.c.key.in_(keys))
    with storage.reading(bind) as conn:
        return {row.key: Source(row.key, row.entry_type, row.fields, row.raw) for row in conn.execute(query)}


@dataclass(frozen=True)
class Citing:
    case_id: str
    case_title: str
    evidence_id: str | None
    locator: str


def citing(bind: Engine | Connection, key: str, drafts: bool = False) -> list[Citing]:
    """Every case body and evidence item citing `key`, in case-title order (source backlinks)."""
    query = (select(T.citations.c.case_id, T.cases.c.title, T.citations.c.evidence_id, T.citations.c.locator)
             .join(T.cases, T.cases.c.id == T.citations.c.case_id)
             .where(and_(T.citations.c.source_key == key, _visible(drafts)))
             .order_by(T.cases.c.title, T.citations.c.position))
    with storage.reading(bind) as conn:
        seen: dict[tuple, Citing] = {}
        for row in conn.execute(query):
            seen.setdefault((row.case_id, row.evidence_id, row.locator), Citing(*row))
    return list(seen.values())


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence item with what a list of evidence shows of its case."""

    case_id: str
    case_title: str
    period: str
    country: tuple[str, ...]
    id: str
    position: int
    claim: str
    cite: str
    outcome: str
    direction: str
    design: str
    strength: int | None
    keys: tuple[str, ...]      # the sources it cites, in order
    effect: dict | None = None   # kb.fields.EFFECT_FIELDS
    studies: int | None = None
    change: str = ""


def evidence_rows(bind: Engine | Connection, drafts: bool = False,
                  this_year: int | None = None) -> tuple[list[EvidenceRow], dict[str, dict[str, tuple[str, ...]]]]:
    """Every evidence item of the visible cases, in case-title and then file order, and each
    case's values of every facet (URL parameter -> values, from kb.facets): two queries."""
    E, C = T.evidence_items, T.cases
    query = (select(E.c.case_id, C.c.title, C.c.period, E.c.id, E.c.position, E.c.claim, E.c.cite,
                    E.c.outcome, E.c.direction, E.c.design, E.c.strength)
             .join(C, C.c.id == E.c.case_id).where(_visible(drafts)).order_by(C.c.title, C.c.id, E.c.position))
    cited = (select(T.citations.c.case_id, T.citations.c.evidence_id, T.citations.c.source_key)
             .where(T.citations.c.evidence_id.isnot(None)).order_by(T.citations.c.position))
    year = this_year or dt.date.today().year
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    countries: dict[str, tuple[str, ...]] = {}
    measures: dict[tuple[str, str], tuple] = {}     # (case, item) -> effect, studies, change
    rows = []
    with storage.reading(bind) as conn:
        # each case's data once (evidence_items has several rows per case)
        for case_id, data in conn.execute(select(C.c.id, C.c.data).where(
                and_(_visible(drafts), C.c.id.in_(select(E.c.case_id).distinct())))):
            case = Case.from_dict(data)
            values[case_id] = {f.param: tuple(f.values(case, year)) for f in FACETS if f.indexed and f.values}
            countries[case_id] = tuple(case.country)
            for item in case.evidence:
                if item.effect or item.studies or item.change:
                    measures[(case_id, item.id)] = (item.effect, item.studies, item.change)
        keys: dict[tuple[str, str], list[str]] = {}
        for case_id, evidence_id, key in conn.execute(cited):
            found = keys.setdefault((case_id, evidence_id), [])
            if key not in found:
                found.append(key)
        for r in conn.execute(query):
            rows.append(EvidenceRow(r.case_id, r.title, r.period, countries.get(r.case_id, ()), r.id, r.position,
                                    r.claim, r.cite, r.outcome, r.direction, r.design, r.strength,
                                    tuple(keys.get((r.case_id, r.id), ())),
                                    *measures.get((r.case_id, r.id), (None, None, ""))))
    return rows, values


def evidence_citations(bind: Engine | Connection, case_ids: list[str], style: str, renderer: str) -> dict[str, list[str]]:
    """case id -> the formatted in-text citations of its evidence items, from the rendered pages of
    the cases' current versions (cases without one are left out)."""
    R, C = T.rendered, T.cases
    query = (select(R.c.case_id, R.c.data).join(C, C.c.id == R.c.case_id)
             .where(and_(R.c.case_id.in_(case_ids), R.c.style == style,
                         R.c.version == literal(renderer + ":", String) + C.c.sha256)))
    with storage.reading(bind) as conn:
        return {case_id: data.get("evidence_citations", []) for case_id, data in conn.execute(query)}

