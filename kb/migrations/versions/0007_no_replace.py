"""the append-only promise against every statement that can change a row

SQLite's `INSERT OR REPLACE`, `REPLACE` and `UPDATE OR REPLACE` delete the conflicting row
without firing DELETE triggers (unless `recursive_triggers` is on), so they rewrote audit entries
and replaced reviews despite migration 0002. These triggers refuse them at the source: an insert
whose key already exists, and an update that would collide with another row's key or change a
row's id. `kb.storage` also turns `recursive_triggers` on for every connection it opens. On
PostgreSQL, which has no REPLACE, row ids may not change either, and accounts are never deleted.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table, key columns other than the id, message
KEYED = (("reviews", "id", ("case_id", "evidence_id", "reviewer"), "reviews are never replaced"),
         ("reconciliations", "id", ("case_id", "evidence_id"), "reconciliations are never replaced"),
         ("audit_log", "id", (), "audit_log is append-only: entries cannot be replaced"),
         ("independent_grades", "review_id", (), "independent grades are written once: they cannot be replaced"),
         ("users", "id", ("name",), "accounts are never replaced"))
SQLITE_NAMES = [f"{table}_{what}" for table, *_ in KEYED for what in ("no_replace", "no_key_change")]


def _same_key(table: str, ident: str, columns: tuple, row: str) -> str:
    keyed = " OR ".join(["(" + " AND ".join(f"{c} = {row}.{c}" for c in columns) + ")"] if columns else [])
    return f"SELECT 1 FROM {table} WHERE {ident} = {row}.{ident}" + (f" OR {keyed}" if keyed else "")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table, ident, columns, message in KEYED:
            op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                       f"WHEN EXISTS ({_same_key(table, ident, columns, 'NEW')}) "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
            collide = " AND ".join(f"{c} = NEW.{c}" for c in columns)
            other = f"OR EXISTS (SELECT 1 FROM {table} WHERE {ident} != OLD.{ident} AND {collide})" if columns else ""
            op.execute(f"CREATE TRIGGER {table}_no_key_change BEFORE UPDATE ON {table} "
                       f"WHEN NEW.{ident} IS NOT OLD.{ident} {other} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        op.execute("CREATE TRIGGER users_no_delete BEFORE DELETE ON users "
                   "BEGIN SELECT RAISE(ABORT, 'accounts are never deleted, only disabled'); END")
        return
    for table, ident, _, message in KEYED:
        op.execute(f"CREATE FUNCTION {table}_no_id_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"IF NEW.{ident} IS DISTINCT FROM OLD.{ident} THEN RAISE EXCEPTION '{message}'; END IF; "
                   f"RETURN NEW; END $$")
        op.execute(f"CREATE TRIGGER {table}_no_id_change BEFORE UPDATE ON {table} FOR EACH ROW "
                   f"EXECUTE FUNCTION {table}_no_id_change()")
    op.execute("CREATE FUNCTION users_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
               "BEGIN RAISE EXCEPTION 'accounts are never deleted, only disabled'; END $$")
    op.execute("CREATE TRIGGER users_no_delete BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_no_delete()")
    op.execute("CREATE TRIGGER users_no_truncate BEFORE TRUNCATE ON users FOR EACH STATEMENT "
               "EXECUTE FUNCTION users_no_delete()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_NAMES + ["users_no_delete"]:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    for table, *_ in KEYED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_id_change ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_no_id_change()")
    op.execute("DROP TRIGGER IF EXISTS users_no_delete ON users")
    op.execute("DROP TRIGGER IF EXISTS users_no_truncate ON users")
    op.execute("DROP FUNCTION IF EXISTS users_no_delete()")
