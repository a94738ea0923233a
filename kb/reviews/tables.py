"""Tables of the reviewer workflow, on `kb.storage.metadata` so Alembic sees them.

Reviews have no foreign key to `cases` or `evidence_items`: the build rewrites those tables, and a
cascade would delete the most expensive data in the system. An empty `evidence_id` means a review
of the whole case (not NULL, so the unique key works the same on SQLite and PostgreSQL).
Timestamps are ISO 8601 strings in UTC: they sort, compare and round-trip through exports exactly.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from ..storage import metadata, reading, writing  # noqa: F401  (reading, writing: used by the whole package)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    # copied into each session at sign-in; increased to end every session of the user at once
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),
)

# failed sign-ins per key (account, address, or both) in the current window, shared by every
# worker and host: see kb/reviews/throttle.py
signin_failures = Table(
    "signin_failures", metadata,
    Column("key", String(80), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("count", Integer, nullable=False),
    Index("ix_signin_failures_window_start", "window_start"),
)

review_tags = Table(
    "review_tags", metadata,
    Column("name", String(64), primary_key=True),
    Column("label", Text, nullable=False),
    Column("help", Text, nullable=False, default=""),
    Column("public", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(200), nullable=False),
    Column("evidence_id", String(200), nullable=False, default=""),
    Column("reviewer", String(64), nullable=False),
    Column("sms_grade", Integer),
    Column("confidence", String(16)),
    Column("relevance", String(16)),
    Column("tags", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("note_html", Text, nullable=False, default="", server_default=""),  # rendered at save
    Column("answers", JSON),   # coding questions: {key: {"version": n, "value": ...}}; None = none
    UniqueConstraint("case_id", "evidence_id", "reviewer", name="uq_reviews_target_reviewer"),
    Index("ix_reviews_reviewer", "reviewer"),
)

# The grades of each review's first submission, written once (database triggers refuse UPDATE and
# DELETE): what agreement is computed on, whatever the reviewer changed after the reveal.
independent_grades = Table(
    "independent_grades", metadata,
    Column("review_id", Integer, primary_key=True, autoincrement=False),
    Column("sms_grade", Integer),
    Column("confidence", String(16)),
    Column("relevance", String(16)),
    Column("submitted_at", String(32), nullable=False),
    Column("blind", Boolean, nullable=False),   # blind mode was on when it was submitted
    Column("answers", JSON),                    # the coding questions' answers as first submitted
)

reconciliations = Table(
    "reconciliations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(200), nullable=False),
    Column("evidence_id", String(200), nullable=False, default=""),
    Column("editor", String(64), nullable=False),
    Column("sms_grade", Integer),
    Column("confidence", String(16)),
    Column("relevance", String(16)),
    Column("reason", Text, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("answers", JSON),
    UniqueConstraint("case_id", "evidence_id", name="uq_reconciliations_target"),
)

# An editor gives an item to a named reviewer. `kind`: how (vocab.ASSIGNMENT_KINDS); a
# `calibration` assignment is of an item already reconciled, shown to the reviewer like any other.
review_assignments = Table(
    "review_assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(200), nullable=False),
    Column("evidence_id", String(200), nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("assigned_by", String(80), nullable=False),
    Column("assigned_at", String(32), nullable=False),
    UniqueConstraint("case_id", "evidence_id", "reviewer", name="uq_review_assignments_target_reviewer"),
    Index("ix_review_assignments_reviewer", "reviewer"),
)

# Coding questions, versioned: an edit adds a row with the next version, so an answer keeps the
# wording it was given under. The current question is the highest version of its key.
review_questions = Table(
    "review_questions", metadata,
    Column("key", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("label", Text, nullable=False),
    Column("help", Text, nullable=False),
    Column("scope", String(16), nullable=False),        # evidence | case | outcome
    Column("kind", String(16), nullable=False),         # single | multiple | number | text
    Column("choices", JSON, nullable=False),            # [[value, label], ...] for single and multiple
    Column("ordinal", Boolean, nullable=False),         # choices are ordered: weighted kappa
    Column("required", Boolean, nullable=False),        # a submitted review must answer it
    Column("question_set", String(32), nullable=False), # "" or a built-in set (robins-i, grade)
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("created_at", String(32), nullable=False),
)

# An editor's discussion note on a disputed item, for its reviewers once they have submitted.
review_discussions = Table(
    "review_discussions", metadata,
    Column("case_id", String(200), primary_key=True),
    Column("evidence_id", String(200), primary_key=True),
    Column("editor", String(80), nullable=False),
    Column("note", Text, nullable=False),
    Column("note_html", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
)

review_settings = Table(
    "review_settings", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(420), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_log_target", "target"),
)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
