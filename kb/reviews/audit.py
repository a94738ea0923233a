"""The append-only audit log: who did what to which target, when, with the state before and after.

Every change is recorded by `record` on the connection of the change itself, so the entry and the
change commit or roll back together. The database refuses UPDATE and DELETE on the table
(triggers in migration 0002), so not even a bug here can rewrite history.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from .roles import User, acting
from .tables import audit_log, now, reading

BUILD_ACTOR = "kb build"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    before: Any
    after: Any

    def to_dict(self) -> dict:
        return dict(vars(self))

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field the entry changed, in the record's order; the
        bookkeeping fields (ids, versions, times, rendered HTML) left out."""
        return changed_fields(self.before, self.after)

    @property
    def reviewer(self) -> str:
        """Whose review the entry is about (a review's own `reviewer`), else the actor."""
        record = self.after if isinstance(self.after, dict) else self.before if isinstance(self.before, dict) else {}
        return str(record.get("reviewer") or self.actor)


# what a reader of a history does not need to see changing
BOOKKEEPING = frozenset({"id", "version", "created_at", "updated_at", "submitted_at", "note_html", "case_id",
                         "evidence_id", "reviewer", "editor", "at"})
ACTION_WORDS = {"review.create": "started a review", "review.update": "changed a review",
                "review.reconciled": "marked the review reconciled", "reconcile": "reconciled the grades",
                "setting.change": "changed a setting", "tag.add": "added a tag", "tag.update": "changed a tag",
                "user.add": "added an account", "user.rehash": "renewed a password hash"}


def changed_fields(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """The fields whose value differs between two records (a missing record is all None)."""
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    if not isinstance(before, dict) and not isinstance(after, dict):
        return [] if before == after else [("value", before, after)]
    old, new = _flat(old), _flat(new)
    names = list(dict.fromkeys([*new, *old]))
    return [(name, old.get(name), new.get(name)) for name in names
            if name not in BOOKKEEPING and old.get(name) != new.get(name)]


def _flat(record: dict) -> dict:
    """A record with its coding answers as one field per question (`answers.<key>`: the value)."""
    answers = record.get("answers")
    if not isinstance(answers, dict):
        return {k: v for k, v in record.items() if k != "answers"}
    flat = {k: v for k, v in record.items() if k != "answers"}
    for key, answer in answers.items():
        flat[f"answers.{key}"] = answer.get("value") if isinstance(answer, dict) else answer
    return flat


def record(conn: Connection, actor: str, action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Append one entry. `actor` is a user name, `cli:<login>` or `kb build`."""
    conn.execute(insert(audit_log).values(at=now(), actor=actor, action=action, target=target,
                                          before=before, after=after))


def history(bind: Engine | Connection, viewer: User, target: str) -> list[AuditEntry]:
    """Every entry about one target, oldest first; the history is shown to editors."""
    with reading(bind) as conn:
        acting(conn, viewer, "review.history")
        return entries(conn, target=target)


def entries(bind: Engine | Connection, *, target: str | None = None, actor: str | None = None,
            action: str | None = None) -> list[AuditEntry]:
    """The log, oldest first, optionally narrowed (no permission check: for the CLI, tests and
    code that already checked)."""
    query = select(audit_log).order_by(audit_log.c.id)
    for column, value in ((audit_log.c.target, target), (audit_log.c.actor, actor), (audit_log.c.action, action)):
        if value is not None:
            query = query.where(column == value)
    with reading(bind) as conn:
        return [AuditEntry(**row._mapping) for row in conn.execute(query)]
