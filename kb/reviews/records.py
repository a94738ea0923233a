"""Review domain objects and field validation. No I/O: the service reads and writes the rows.

The same validation serves the service (a form's values) and the importer (a file's records), so
a value the web refuses can never come in through an import.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from typing import Any

from ..content import markup
from ..errors import KbError, shown
from ..fields import RESERVED_IDS
from .vocab import (
    CONFIDENCE,
    MAX_NOTE,
    MAX_QUESTIONS,
    MAX_REASON,
    MAX_TAGS,
    RELEVANCE,
    SLUG,
    SMS_GRADES,
    STATUSES,
    SUBMITTED,
    TAG,
    VALUE_FIELDS,
)


OUTCOME = "@"   # `@theme/outcome`: a theme's outcome, rated for GRADE certainty


@dataclass(frozen=True, order=True)
class Target:
    """What a review is about: an evidence item `case-id/evidence-id`, a whole case `case-id`, or
    a theme's harm outcome `@theme/outcome` (stored with case_id `@theme`)."""

    case_id: str
    evidence_id: str = ""

    def __str__(self) -> str:
        return f"{self.case_id}/{self.evidence_id}" if self.evidence_id else self.case_id

    @property
    def scope(self) -> str:
        if self.case_id.startswith(OUTCOME):
            return "outcome"
        return "evidence" if self.evidence_id else "case"

    @property
    def theme(self) -> str:
        return self.case_id[len(OUTCOME):] if self.scope == "outcome" else ""


def _slug(part: str) -> bool:
    return bool(SLUG.match(part)) and len(part) <= 200 and part not in RESERVED_IDS


def parse_target(text: str) -> Target:
    parts = str(text).strip().split("/")
    if len(parts) == 2 and parts[0].startswith(OUTCOME) and _slug(parts[0][1:]) and _slug(parts[1]):
        return Target(*parts)
    if len(parts) > 2 or not all(_slug(p) for p in parts):
        raise KbError(f"invalid target {shown(str(text))}: use case-id, case-id/evidence-id or @theme/outcome "
                      "([a-z0-9][a-z0-9-]*)")
    return Target(*parts)


@dataclass
class Review:
    id: int | None
    case_id: str
    evidence_id: str
    reviewer: str
    sms_grade: int | None = None
    confidence: str | None = None
    relevance: str | None = None
    tags: list[str] = field(default_factory=list)
    status: str = "unreviewed"
    note: str = ""
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    note_html: str = ""   # the note rendered and sanitised when it was saved
    hidden: bool = False  # blind mode masked the grades, tags and note of this review
    answers: dict = field(default_factory=dict)   # {question key: {"version": n, "value": ...}}

    @property
    def target(self) -> Target:
        return Target(self.case_id, self.evidence_id)

    @property
    def submitted(self) -> bool:
        return self.status in SUBMITTED

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dc_fields(self)}
        data["tags"] = list(self.tags)
        data["answers"] = dict(self.answers)
        data["target"] = str(self.target)
        return data

    @classmethod
    def from_row(cls, row) -> "Review":
        data = dict(row._mapping)
        data["tags"] = list(data.get("tags") or [])
        data["answers"] = dict(data.get("answers") or {})
        return cls(**data)


@dataclass
class Reconciliation:
    id: int | None
    case_id: str
    evidence_id: str
    editor: str
    sms_grade: int | None
    confidence: str | None
    relevance: str | None
    reason: str
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    answers: dict = field(default_factory=dict)

    @property
    def target(self) -> Target:
        return Target(self.case_id, self.evidence_id)

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in dc_fields(self)}, "answers": dict(self.answers),
                "target": str(self.target)}

    @classmethod
    def from_row(cls, row) -> "Reconciliation":
        data = dict(row._mapping)
        data["answers"] = dict(data.get("answers") or {})
        return cls(**data)


REVIEW_VALUES = ("sms_grade", "confidence", "relevance", "tags", "status", "note", "answers")


def _grade(value: Any) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value in SMS_GRADES):
        return None
    return f"must be an integer {SMS_GRADES[0]}-{SMS_GRADES[-1]}, not {shown(value)}"


def _choice(value: Any, choices: tuple) -> str | None:
    if value is None or value in choices:
        return None
    return f"{shown(value)} is not one of: {', '.join(choices)}"


def _tags(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        return f"must be a list of tags, not {shown(value)}"
    if len(set(value)) > MAX_TAGS:
        return f"{len(set(value))} tags; a review has at most {MAX_TAGS}"
    bad = [t for t in value if not TAG.match(t)]
    if bad:
        return f"invalid tag {shown(bad[0])}: use [a-z0-9][a-z0-9-]*, at most 64 characters"
    return None


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return f"must be text, not {shown(value)}"
    if len(value) > limit:
        return f"too long: {len(value)} characters, at most {limit}"
    depth = markup.too_deep(value)
    if depth:
        return f"quotes or lists nest {depth} levels deep; at most {markup.MAX_NESTING}"
    return None


def value_errors(values: dict[str, Any]) -> dict[str, str]:
    """Type and choice errors of a review's values, by field (also for reconciliations' grades)."""
    checks = {
        "sms_grade": _grade, "confidence": lambda v: _choice(v, CONFIDENCE),
        "relevance": lambda v: _choice(v, RELEVANCE), "tags": _tags,
        "status": lambda v: _choice(v, STATUSES) if v is not None else "is required",
        "note": lambda v: _text(v, MAX_NOTE), "reason": lambda v: _text(v, MAX_REASON),
        "answers": _answers_shape,
    }
    errors = {}
    for name, value in values.items():
        check = checks.get(name)
        problem = check(value) if check else f"unknown field; use: {', '.join(VALUE_FIELDS)}"
        if problem:
            errors[name] = problem
    return errors


def _answers_shape(value: Any) -> str | None:
    """Answers as stored: {key: {"version": n, "value": ...}} (what each value may be is checked
    against the questions by kb.reviews.questions)."""
    if not isinstance(value, dict):
        return f"must be an object of answers by question key, not {shown(value)}"
    if len(value) > MAX_QUESTIONS:
        return f"{len(value)} answers; at most {MAX_QUESTIONS}"
    for key, answer in value.items():
        if not isinstance(key, str) or not TAG.match(key):
            return f"invalid question key {shown(key)}"
        if not (isinstance(answer, dict) and set(answer) == {"version", "value"} and isinstance(answer["version"], int)
                and not isinstance(answer["version"], bool) and answer["version"] >= 1):
            return f"the answer to {key!r} must be {{\"version\": n, \"value\": ...}}, not {shown(answer)}"
    return None


def completeness_errors(values: dict[str, Any], scope: str = "evidence") -> dict[str, str]:
    """A submitted review of an item or case must say how strong the evidence is and how sure the
    reviewer is; a theme's outcome is rated by its coding questions (GRADE) instead."""
    errors = {}
    if values.get("status") in SUBMITTED and scope != "outcome":
        for name in ("sms_grade", "confidence"):
            if values.get(name) is None:
                errors[name] = f"is required when the status is {values['status']}"
    return errors


def dedupe(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))
