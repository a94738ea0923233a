"""Coding questions editors define without a code change, and the answers reviews give them.

A question has a key, a label, help text, a scope (what it is asked of: an evidence item, a whole
case, or a theme's outcome), an answer kind (single choice, multiple choice, number, text) and
choices. Questions are versioned: an edit adds the next version and never touches the old rows, so
an answer keeps the version it was given under (`{"version": n, "value": ...}`) and can always be
read with the wording its reviewer saw. Retiring a question is an edit too (`active` false).

Two optional sets are built in and added by an editor: ROBINS-I (Sterne et al., BMJ 2016;355:i4919:
seven bias domains and an overall judgement, for non-randomised studies) and a GRADE-style
certainty per theme x outcome with the reasons for downgrading, which the summary of findings uses
once an editor has reconciled it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ..errors import KbError, shown
from . import audit
from .errors import ConflictError, InvalidReview
from .roles import User, acting
from .tables import now, reading, review_questions, writing
from .vocab import MAX_ANSWER_TEXT, MAX_CHOICES, MAX_QUESTIONS, QUESTION_KINDS, SCOPES, SLUG, TAG

MAX_LABEL, MAX_HELP, MAX_NUMBER = 300, 2_000, 1e12
EDITABLE = ("label", "help", "choices", "ordinal", "required", "position", "active")


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    scope: str = "evidence"
    kind: str = "single"
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    ordinal: bool = False
    required: bool = False
    question_set: str = ""
    position: int = 0
    active: bool = True
    version: int = 1
    created_by: str = ""
    created_at: str = ""

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def label_of(self, value: Any) -> str:
        """An answer in words: a choice's label (a retired choice as its value), a list joined."""
        labels = dict(self.choices)
        if isinstance(value, list):
            return ", ".join(labels.get(v, str(v)) for v in value)
        return labels.get(value, "" if value is None else str(value))

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version": self.version, "label": self.label, "help": self.help,
                "scope": self.scope, "kind": self.kind, "choices": [list(c) for c in self.choices],
                "ordinal": self.ordinal, "required": self.required, "question_set": self.question_set,
                "position": self.position, "active": self.active, "created_by": self.created_by,
                "created_at": self.created_at}

    @classmethod
    def from_row(cls, row) -> "Question":
        data = dict(row._mapping)
        data["choices"] = tuple(tuple(c) for c in data["choices"] or ())
        return cls(**data)


def _c(*pairs: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.lower().replace(" ", "-"), p) for p in pairs)


ROBINS_JUDGEMENTS = _c("Low", "Moderate", "Serious", "Critical", "No information")
ROBINS_DOMAINS = (
    ("confounding", "Bias due to confounding"),
    ("selection", "Bias in selection of participants into the study"),
    ("classification", "Bias in classification of interventions"),
    ("deviations", "Bias due to deviations from intended interventions"),
    ("missing-data", "Bias due to missing data"),
    ("measurement", "Bias in measurement of outcomes"),
    ("reporting", "Bias in selection of the reported result"),
)
GRADE_LEVELS = (("high", "High"), ("moderate", "Moderate"), ("low", "Low"), ("very-low", "Very low"))
GRADE_REASONS = (("risk-of-bias", "Risk of bias"), ("inconsistency", "Inconsistency"),
                 ("indirectness", "Indirectness"), ("imprecision", "Imprecision"),
                 ("publication-bias", "Publication bias"))

QUESTION_SETS: dict[str, tuple[Question, ...]] = {
    "robins-i": (
        *(Question(f"robins-d{n}", f"ROBINS-I D{n}: {label}", "evidence", "single", ROBINS_JUDGEMENTS,
                   f"Risk of bias in domain {n} ({key}) for a non-randomised study: low, moderate, serious, critical, "
                   "or no information.", ordinal=True, question_set="robins-i", position=100 + n)
          for n, (key, label) in enumerate(ROBINS_DOMAINS, start=1)),
        Question("robins-overall", "ROBINS-I overall risk of bias", "evidence", "single", ROBINS_JUDGEMENTS,
                 "The overall judgement: at least as severe as the most severe domain.", ordinal=True,
                 question_set="robins-i", position=108),
    ),
    "grade": (
        Question("grade-certainty", "GRADE certainty of the evidence on this outcome", "outcome", "single",
                 GRADE_LEVELS, "How sure we are of the direction of the effect on this outcome across the theme's "
                 "cases: high, moderate, low or very low.", ordinal=True, required=True, question_set="grade",
                 position=200),
        Question("grade-downgrades", "Reasons for downgrading", "outcome", "multiple", GRADE_REASONS,
                 "GRADE's five reasons to rate certainty down; tick every one that applies.", question_set="grade",
                 position=201),
    ),
}
UNORDERED = frozenset({"no-information"})   # a choice outside an ordinal scale (weighted kappa leaves it out)


def spec_errors(spec: Question) -> dict[str, str]:
    """What is wrong with a question's definition, by field."""
    errors = {}
    if not (isinstance(spec.key, str) and TAG.match(spec.key)):
        errors["key"] = f"{shown(spec.key)} is not a key: use [a-z0-9][a-z0-9-]*, at most 64 characters"
    if not isinstance(spec.label, str) or not spec.label.strip() or len(spec.label) > MAX_LABEL:
        errors["label"] = f"is required, at most {MAX_LABEL} characters"
    if not isinstance(spec.help, str) or len(spec.help) > MAX_HELP:
        errors["help"] = f"at most {MAX_HELP} characters"
    if spec.scope not in SCOPES:
        errors["scope"] = f"{shown(spec.scope)} is not one of: {', '.join(SCOPES)}"
    if spec.kind not in QUESTION_KINDS:
        errors["kind"] = f"{shown(spec.kind)} is not one of: {', '.join(QUESTION_KINDS)}"
    elif spec.kind in ("single", "multiple"):
        values = [c[0] if isinstance(c, (tuple, list)) and len(c) == 2 else None for c in spec.choices]
        if not 2 <= len(values) <= MAX_CHOICES:
            errors["choices"] = f"a choice question needs 2 to {MAX_CHOICES} choices, not {len(values)}"
        elif any(not (isinstance(v, str) and SLUG.match(v) and len(v) <= 64) for v in values):
            errors["choices"] = "each choice is a value [a-z0-9][a-z0-9-]* and a label"
        elif len(set(values)) != len(values):
            errors["choices"] = "two choices have the same value"
        elif any(not isinstance(c[1], str) or not c[1].strip() or len(c[1]) > 200 for c in spec.choices):
            errors["choices"] = "each choice needs a label of at most 200 characters"
    elif spec.choices:
        errors["choices"] = f"a {spec.kind} question has no choices"
    if spec.ordinal and spec.kind != "single":
        errors["ordinal"] = "only a single-choice question can be ordinal"
    if not isinstance(spec.position, int) or isinstance(spec.position, bool) or not 0 <= spec.position <= 10 ** 6:
        errors["position"] = "must be a whole number from 0 to 1,000,000"
    return errors


def parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    """Choices as an editor types them, one per line: `value = Label`, or a label alone (its value
    is made from it: "No information" -> no-information)."""
    found = []
    for line in (line.strip() for line in str(text).splitlines()):
        if not line:
            continue
        value, _, label = line.partition("=") if "=" in line else ("", "", line)
        label = label.strip()
        value = value.strip() or "-".join("".join(ch if ch.isalnum() else " " for ch in label.lower()).split())
        found.append((value, label))
    return tuple(found)


def _current_query():
    latest = (select(review_questions.c.key, func.max(review_questions.c.version).label("version"))
              .group_by(review_questions.c.key).subquery())
    return (select(review_questions)
            .join(latest, (latest.c.key == review_questions.c.key) & (latest.c.version == review_questions.c.version))
            .order_by(review_questions.c.position, review_questions.c.key))


def list_questions(bind: Engine | Connection, scope: str | None = None, *, include_retired: bool = False) -> list[Question]:
    """The current version of every question (active ones unless asked), in position order."""
    with reading(bind) as conn:
        found = [Question.from_row(r) for r in conn.execute(_current_query())]
    return [q for q in found if (include_retired or q.active) and (scope is None or q.scope == scope)]


def question_versions(bind: Engine | Connection, key: str | None = None) -> list[Question]:
    """Every version of one question (or of all), oldest first: answers name these."""
    query = select(review_questions).order_by(review_questions.c.key, review_questions.c.version)
    if key is not None:
        query = query.where(review_questions.c.key == key)
    with reading(bind) as conn:
        return [Question.from_row(r) for r in conn.execute(query)]


def get_question(bind: Engine | Connection, key: str) -> Question:
    versions = question_versions(bind, key)
    if not versions:
        raise KbError(f"no coding question {key!r}; `kb reviews questions list` shows them")
    return versions[-1]


def add_question(engine: Engine, actor: User, spec: Question) -> Question:
    """A new question, version 1; its key must be new."""
    errors = spec_errors(spec)
    if errors:
        raise InvalidReview(errors)
    try:
        with writing(engine) as conn:
            actor = acting(conn, actor, "question.manage")
            if conn.execute(select(review_questions.c.key).where(review_questions.c.key == spec.key)).first():
                raise ConflictError(f"a question with the key {spec.key!r} exists; edit it (a new version) instead")
            if len(list_questions(conn)) >= MAX_QUESTIONS:
                raise InvalidReview({"key": f"there are {MAX_QUESTIONS} questions already; retire one first"})
            question = replace(spec, version=1, created_by=actor.name, created_at=now())
            _insert(conn, question)
            audit.record(conn, actor.name, "question.add", f"question:{spec.key}", None, question.to_dict())
    except IntegrityError:
        raise ConflictError(f"a question with the key {spec.key!r} was added meanwhile") from None
    return question


def edit_question(engine: Engine, actor: User, key: str, changes: dict[str, Any], version: int) -> Question:
    """The next version of a question, from `version` (refused if someone edited it since). Its
    scope and kind stay: answers of another kind would not compare; add a new question instead."""
    unknown = [name for name in changes if name not in EDITABLE]
    if unknown:
        raise InvalidReview({unknown[0]: f"cannot be changed; a question's {', '.join(EDITABLE)} can "
                                         "(for another scope or kind, add a new question)"})
    try:
        with writing(engine) as conn:
            actor = acting(conn, actor, "question.manage")
            before = get_question(conn, key)
            if before.version != version:
                raise ConflictError(f"question {key!r} was edited meanwhile (you edited version {version}, it is now "
                                    f"version {before.version}); nothing was saved", before)
            after = replace(before, **changes, version=before.version + 1, created_by=actor.name, created_at=now())
            errors = spec_errors(after)
            if errors:
                raise InvalidReview(errors)
            _insert(conn, after)
            audit.record(conn, actor.name, "question.edit", f"question:{key}", before.to_dict(), after.to_dict())
    except IntegrityError:
        raise ConflictError(f"question {key!r} was edited meanwhile; reload it") from None
    return after


def install_set(engine: Engine, actor: User, name: str) -> list[Question]:
    """Add a built-in question set; questions already there (by key) are left as they are."""
    if name not in QUESTION_SETS:
        raise KbError(f"no question set {name!r}; the built-in sets are: {', '.join(QUESTION_SETS)}")
    added = []
    with writing(engine) as conn:
        actor = acting(conn, actor, "question.manage")
        have = set(conn.execute(select(review_questions.c.key)).scalars())
        for spec in QUESTION_SETS[name]:
            if spec.key in have:
                continue
            question = replace(spec, version=1, created_by=actor.name, created_at=now())
            _insert(conn, question)
            audit.record(conn, actor.name, "question.add", f"question:{spec.key}", None, question.to_dict())
            added.append(question)
    return added


def _insert(conn: Connection, question: Question) -> None:
    conn.execute(insert(review_questions).values(**{**question.to_dict(), "choices": [list(c) for c in question.choices]}))


# --- answers -----------------------------------------------------------------------------------

def _value_error(question: Question, value: Any) -> str | None:
    if question.kind == "single":
        return None if value in question.choice_values else \
            f"{shown(value)} is not one of: {', '.join(question.choice_values)}"
    if question.kind == "multiple":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"must be a list of choices, not {shown(value)}"
        bad = [v for v in value if v not in question.choice_values]
        return f"{shown(bad[0])} is not one of: {', '.join(question.choice_values)}" if bad else None
    if question.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or abs(value) > MAX_NUMBER:
            return f"must be a finite number of at most {MAX_NUMBER:,.0f} in size, not {shown(value)}"
        return None
    if not isinstance(value, str) or len(value) > MAX_ANSWER_TEXT:
        return f"must be text of at most {MAX_ANSWER_TEXT:,} characters"
    return None


def empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def stamp_answers(conn: Connection, given: dict[str, Any], before: dict[str, dict], scope: str,
                  submitted: bool) -> dict[str, dict]:
    """The answers to store, `{key: {"version": n, "value": v}}`, from the values `given` by key.
    An unchanged answer keeps the version it was given under; a changed or new one takes the
    question's current version. Raises InvalidReview naming each bad answer (`answers.<key>`)."""
    current = {q.key: q for q in list_questions(conn, include_retired=True)}
    errors, stored = {}, {}
    for key, value in given.items():
        question = current.get(key)
        if question is None or question.scope != scope:
            errors[f"answers.{key}"] = (f"there is no question {key!r} for a {scope}" if question is None
                                        else f"{key!r} is asked of a {question.scope}, not of a {scope}")
            continue
        if empty(value):
            continue
        if isinstance(value, list):
            value = list(dict.fromkeys(value))
        problem = _value_error(question, value)
        if problem:
            errors[f"answers.{key}"] = problem
            continue
        old = before.get(key)
        version = old["version"] if old and old["value"] == value else question.version
        stored[key] = {"version": version, "value": value}
    for key, old in before.items():         # a retired question's answer, not sent back by the form, stays
        if key not in given and key in current and not current[key].active:
            stored[key] = old
    if submitted:
        for question in current.values():
            if (question.active and question.required and question.scope == scope and question.key not in stored
                    and f"answers.{question.key}" not in errors):
                errors[f"answers.{question.key}"] = "is required when the review is submitted"
    if errors:
        raise InvalidReview(errors)
    return stored


def stored_answer_errors(answers: dict[str, dict], versions: dict[tuple[str, int], Question],
                         scope: str) -> list[tuple[str, Any, str]]:
    """Problems of stored answers (an import's) against the question versions they name."""
    problems = []
    for key, answer in answers.items():
        question = versions.get((key, answer["version"]))
        if question is None:
            problems.append((f"answers.{key}", answer, f"there is no version {answer['version']} of question {key!r}"))
            continue
        if question.scope != scope:
            problems.append((f"answers.{key}", answer, f"{key!r} is asked of a {question.scope}, not of a {scope}"))
            continue
        problem = _value_error(question, answer["value"])
        if problem:
            problems.append((f"answers.{key}", answer["value"], problem))
    return problems


@dataclass
class AnswerView:
    """One answer as a page shows it: the question's wording at the answer's version."""

    question: Question
    value: Any
    current: bool = True        # answered under the current version of the question
    words: str = field(default="")


def answer_views(answers: dict[str, dict], versions: dict[tuple[str, int], Question],
                 latest: dict[str, Question]) -> list[AnswerView]:
    views = []
    for key, answer in answers.items():
        question = versions.get((key, answer["version"])) or latest.get(key)
        if question is None:
            continue
        views.append(AnswerView(question, answer["value"], latest.get(key, question).version == answer["version"],
                                question.label_of(answer["value"])))
    return sorted(views, key=lambda v: (v.question.position, v.question.key))


def versions_by_key(bind: Engine | Connection) -> dict[tuple[str, int], Question]:
    return {(q.key, q.version): q for q in question_versions(bind)}
