"""Triggers that make the database refuse to rewrite history, for migrations to create.

`create_guards(dialect, [(table, "UPDATE" | "DELETE", message), ...])`: on SQLite a BEFORE
trigger that raises; on PostgreSQL a plpgsql function and a row trigger, plus a TRUNCATE trigger
for DELETE guards (TRUNCATE deletes without firing row triggers).
"""
from __future__ import annotations

from alembic import op


def create_guards(dialect: str, guarded) -> None:
    for table, event, message in guarded:
        name = f"{table}_no_{event.lower()}"
        if dialect == "sqlite":
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END")
            continue
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{message}'; END $$")
        op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")
        if event == "DELETE":
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")


def drop_guards(dialect: str, guarded) -> None:
    for table, event, _ in guarded:
        name = f"{table}_no_{event.lower()}"
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            continue
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        if event == "DELETE":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
