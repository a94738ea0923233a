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
