"""Inter-rater agreement between reviewers who graded the same items, per theme and overall.

For each pair of reviewers and each graded field: the share of shared items they rated alike, and
Cohen's kappa (agreement beyond chance). Grades are those of each review's first submission (see `independent_grades`). The SMS grade is ordinal, so it also gets a weighted kappa
over the fixed categories 1-5: linear weights by default (a 2 against a 3 is half as bad as a 2
against a 4), quadratic as an option (comparable to an intraclass correlation). Confidence and
relevance are treated as nominal, as the issue asks.

Several reviewers make several pairs. The summary kappa of a field is Light's kappa, the mean of
the pairwise kappas that are defined (a pair that used one same category throughout has none);
the summary percentage pools every pair's comparisons.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Hashable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from .. import storage
from .records import Target
from .roles import User, acting
from .questions import UNORDERED, list_questions
from .tables import independent_grades, reading, reconciliations, reviews
from .vocab import FIELDS, GRADED_FIELDS, SMS_GRADES, SUBMITTED

WEIGHTS = ("linear", "quadratic")
Pair = tuple[Hashable, Hashable]


def percent_agreement(pairs: Sequence[Pair]) -> float | None:
    return sum(1 for a, b in pairs if a == b) / len(pairs) if pairs else None


def cohen_kappa(pairs: Sequence[Pair]) -> float | None:
    """(p_o - p_e) / (1 - p_e), p_e from each rater's own marginals; None when p_e is 1."""
    if not pairs:
        return None
    n = len(pairs)
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    p_o = sum(1 for a, b in pairs if a == b) / n
    p_e = sum(first[c] * second[c] for c in first) / (n * n)
    return None if p_e == 1 else (p_o - p_e) / (1 - p_e)


def weighted_kappa(pairs: Sequence[Pair], categories: Sequence = SMS_GRADES, weights: str = "linear") -> float | None:
    """Agreement weights w = 1 - |i-j|/(k-1) (linear) or 1 - (i-j)^2/(k-1)^2 (quadratic) over the
    ordered `categories`; kappa_w = (sum w p_ij - sum w p_i. p_.j) / (1 - sum w p_i. p_.j)."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, not {weights!r}")
    if not pairs:
        return None
    rank = {c: i for i, c in enumerate(categories)}
    span = len(categories) - 1
    power = 1 if weights == "linear" else 2

    def w(a, b) -> float:
        return 1 - (abs(rank[a] - rank[b]) / span) ** power

    n = len(pairs)
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    p_o = sum(w(a, b) for a, b in pairs) / n
    p_e = sum(w(a, b) * first[a] * second[b] for a in first for b in second) / (n * n)
    return None if p_e == 1 else (p_o - p_e) / (1 - p_e)


@dataclass
class PairAgreement:
    reviewers: tuple[str, str]
    items: int
    percent: float | None
    kappa: float | None
    weighted_kappa: float | None = None


@dataclass
class FieldAgreement:
    field: str
    items: int = 0          # items with at least two ratings of this field
    comparisons: int = 0    # pairs of ratings of the same item
    percent: float | None = None
    kappa: float | None = None           # Light's: mean of the pairwise kappas
    weighted_kappa: float | None = None  # ordinal fields only, mean of the pairwise weighted kappas
    pairs: list[PairAgreement] = field(default_factory=list)
    mean_absolute_difference: float | None = None   # number questions: kappa means nothing there


@dataclass
class Disagreement:
    target: str
    field: str                  # a graded field, or `answers.<question key>`
    values: dict[str, object]
    reconciled: bool = False    # an editor has reconciled the item since


@dataclass
class AgreementReport:
    weights: str
    overall: dict[str, FieldAgreement]
    themes: dict[str, dict[str, FieldAgreement]]
    disagreements: list[Disagreement]
    revised: list[dict] = field(default_factory=list)   # grades changed after the reveal
    questions: dict[str, FieldAgreement] = field(default_factory=dict)   # coding questions, overall

    @property
    def open(self) -> list[Disagreement]:
        return [d for d in self.disagreements if not d.reconciled]

    @property
    def settled(self) -> list[Disagreement]:
        return [d for d in self.disagreements if d.reconciled]

    def to_dict(self) -> dict:
        return asdict(self)


def _mean(values: list[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def field_agreement(name: str, ratings: dict[Target, dict[str, object]], weights: str = "linear",
                    categories: Sequence | None = None) -> FieldAgreement:
    """Agreement on one field; `ratings` maps each item to {reviewer: value} (None = not rated).
    `categories`: the ordered scale of an ordinal field other than the review's own (a coding
    question's choices); pairs with a value off the scale ("no information") are left out of the
    weighted kappa only."""
    by_pair: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    result = FieldAgreement(name)
    for values in ratings.values():
        rated = {r: v for r, v in values.items() if v is not None}
        result.items += int(len(rated) >= 2)
        for a, b in combinations(sorted(rated), 2):
            by_pair[(a, b)].append((rated[a], rated[b]))
    ordinal = categories is not None or (name in FIELDS and FIELDS[name].ordinal)
    scale = categories if categories is not None else FIELDS[name].choices if name in FIELDS else ()
    for reviewers, pairs in sorted(by_pair.items()):
        on_scale = [(a, b) for a, b in pairs if a in scale and b in scale]
        result.pairs.append(PairAgreement(reviewers, len(pairs), percent_agreement(pairs), cohen_kappa(pairs),
                                          weighted_kappa(on_scale, scale, weights) if ordinal else None))
    all_pairs = [p for pairs in by_pair.values() for p in pairs]
    result.comparisons, result.percent = len(all_pairs), percent_agreement(all_pairs)
    result.kappa = _mean([p.kappa for p in result.pairs])
    result.weighted_kappa = _mean([p.weighted_kappa for p in result.pairs]) if ordinal else None
    return result


def _ratings(conn: Connection) -> dict[Target, dict[str, dict[str, object]]]:
    """Submitted reviews by item, {target: {reviewer: {field: value}}}, with the grades each
    reviewer gave at their first submission, before they could see the others' (blind mode):
    an edit made after the reveal is a revision, not independent agreement."""
    query = (select(reviews.c.case_id, reviews.c.evidence_id, reviews.c.reviewer,
                    *(independent_grades.c[name] for name in GRADED_FIELDS), independent_grades.c.answers)
             .join(independent_grades, independent_grades.c.review_id == reviews.c.id)
             .where(reviews.c.status.in_(SUBMITTED)))
    found: dict[Target, dict[str, dict[str, object]]] = defaultdict(dict)
    for row in conn.execute(query):
        values = {name: row._mapping[name] for name in GRADED_FIELDS}
        for key, answer in (row.answers or {}).items():
            value = answer.get("value")
            values[f"answers.{key}"] = tuple(sorted(value)) if isinstance(value, list) else value
        found[Target(row.case_id, row.evidence_id)][row.reviewer] = values
    return found


def revised_after_reveal(conn: Connection) -> list[dict]:
    """Submitted reviews whose grades now differ from their independent ones: for editors."""
    query = (select(reviews.c.case_id, reviews.c.evidence_id, reviews.c.reviewer,
                    *(reviews.c[name] for name in GRADED_FIELDS), reviews.c.answers,
                    *(independent_grades.c[name].label(f"first_{name}") for name in GRADED_FIELDS),
                    independent_grades.c.answers.label("first_answers"))
             .join(independent_grades, independent_grades.c.review_id == reviews.c.id)
             .order_by(reviews.c.case_id, reviews.c.evidence_id, reviews.c.reviewer))
    revised = []
    for row in conn.execute(query):
        now_, first = ({n: row._mapping[n] for n in GRADED_FIELDS},
                       {n: row._mapping[f"first_{n}"] for n in GRADED_FIELDS})
        if row.first_answers is not None:     # answers kept with the first submission (since migration 0010)
            now_.update({f"answers.{k}": a.get("value") for k, a in (row.answers or {}).items()})
            first.update({f"answers.{k}": a.get("value") for k, a in (row.first_answers or {}).items()})
        if now_ != first:
            revised.append({"target": str(Target(row.case_id, row.evidence_id)), "reviewer": row.reviewer,
                            "independent": first, "now": now_})
    return revised


def _themes(conn: Connection) -> dict[str, list[str]]:
    terms = storage.case_terms
    themes: dict[str, list[str]] = defaultdict(list)
    for case_id, name in conn.execute(select(terms.c.case_id, terms.c.name).where(terms.c.kind == "theme")):
        themes[case_id].append(name)
    return themes


def _scope(found: dict, weights: str) -> dict[str, FieldAgreement]:
    return {name: field_agreement(name, {t: {r: v[name] for r, v in by.items()} for t, by in found.items()}, weights)
            for name in GRADED_FIELDS}


def agreement(bind: Engine | Connection, viewer: User, *, theme: str | None = None,
              weights: str = "linear") -> AgreementReport:
    """Overall and per-theme agreement (only `theme` when given), and every disagreement. Items of
    a case with several themes count in each; orphaned items count only overall."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, not {weights!r}")
    with reading(bind) as conn:
        acting(conn, viewer, "agreement.read")
        found, themes_of, revised = _ratings(conn), _themes(conn), revised_after_reveal(conn)
        settled = {Target(c, e) for c, e in conn.execute(select(reconciliations.c.case_id,
                                                                reconciliations.c.evidence_id))}
        asked = [q for q in list_questions(conn, include_retired=True) if q.kind != "text"]
    by_theme: dict[str, dict] = defaultdict(dict)
    for target, by in found.items():
        for name in themes_of.get(target.case_id, []):
            by_theme[name][target] = by
        if target.scope == "outcome":     # a theme's outcome counts in its theme
            by_theme[target.theme][target] = by
    if theme is not None:
        found = by_theme.get(theme, {})
        by_theme = {theme: found}
    questions = {}
    for question in asked:
        name = f"answers.{question.key}"
        ratings = {t: {r: v.get(name) for r, v in by.items()} for t, by in found.items()}
        if any(v is not None for by in ratings.values() for v in by.values()):
            scale = [c for c in question.choice_values if c not in UNORDERED] if question.ordinal else None
            found_here = field_agreement(name, ratings, weights, scale)
            if question.kind == "number":
                found_here = _numbers(found_here, ratings)
            questions[question.key] = found_here
    names = [*GRADED_FIELDS, *(f"answers.{q.key}" for q in asked)]
    return AgreementReport(weights, _scope(found, weights),
                           {name: _scope(items, weights) for name, items in sorted(by_theme.items())},
                           disagreements(found, names, settled), revised, questions)


def _numbers(result: FieldAgreement, ratings: dict[Target, dict[str, object]]) -> FieldAgreement:
    """A number question: the share of identical answers and the mean absolute difference of the
    pairs, no kappa (answers are not categories)."""
    gaps = [abs(a - b) for by in ratings.values() for a, b in combinations([v for v in by.values() if v is not None], 2)]
    result.kappa = None
    for pair in result.pairs:
        pair.kappa = None
    result.mean_absolute_difference = sum(gaps) / len(gaps) if gaps else None
    return result


def disagreements(found: dict[Target, dict[str, dict[str, object]]], names=GRADED_FIELDS,
                  settled: set[Target] = frozenset()) -> list[Disagreement]:
    listed = []
    for target in sorted(found):
        by = found[target]
        for name in names:
            values = {r: v.get(name) for r, v in sorted(by.items()) if v.get(name) is not None}
            if len(set(values.values())) > 1:
                listed.append(Disagreement(str(target), name, values, target in settled))
    return listed
