"""`kb backup`: a timestamped folder with a consistent copy of the database and the reviews exports.

SQLite: the sqlite3 online backup API copies a consistent snapshot while the server keeps
writing (WAL included), and the exports are taken from that copy, so both describe one moment.
PostgreSQL: every table is dumped to JSON in one REPEATABLE READ transaction (a snapshot) together
with the exports, and `pg_dump` adds a restorable custom-format dump when it is on PATH.
The folder is written under a temporary name and renamed when complete: a folder with the final
name is never half-written. It is readable by its owner only (0700, files 0600).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection, Engine

from .. import storage
from ..errors import KbError
from .io import dumps, export_records

SQLITE_COPY = "kb.sqlite3"
TABLES_JSON = "database.json"
PG_DUMP = "database.pgdump"


@dataclass
class BackupReport:
    folder: Path
    files: list[str] = field(default_factory=list)
    records: int = 0
    warnings: list[str] = field(default_factory=list)


def backup(engine: Engine, to: Path) -> BackupReport:
    """Write `to/kb-backup-<UTC time>/` and return what is in it."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    to.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = to / f"kb-backup-{stamp}"
    partial = to / f".kb-backup-{stamp}.partial"
    partial.mkdir(mode=0o700)     # owner only from the first byte: hashes, notes and blind grades
    os.chmod(partial, 0o700)      # whatever the umask
    try:
        report = BackupReport(folder)
        if engine.dialect.name == "sqlite":
            _sqlite(engine, partial, report)
        else:
            _postgresql(engine, partial, report)
        _manifest(partial, report, engine)
        for path in partial.iterdir():
            os.chmod(path, 0o600)
        os.replace(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return report


def _write_exports(conn: Connection, folder: Path, report: BackupReport) -> None:
    records = export_records(conn)
    report.records = len(records)
    for fmt in ("json", "csv"):
        (folder / f"reviews.{fmt}").write_text(dumps(records, fmt), encoding="utf-8", newline="")
        report.files.append(f"reviews.{fmt}")


def _sqlite(engine: Engine, folder: Path, report: BackupReport) -> None:
    target = folder / SQLITE_COPY
    raw, copy = engine.raw_connection(), sqlite3.connect(target)
    try:
        raw.driver_connection.backup(copy)
    finally:
        copy.close()
        raw.close()
    check = sqlite3.connect(target)
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
        check.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        check.close()
    if verdict != "ok":
        raise KbError(f"the database copy failed its integrity check: {verdict}")
    report.files.append(SQLITE_COPY)
    copy_engine = storage.make_engine(f"sqlite:///{target}")
    try:
        with copy_engine.connect() as conn:
            _write_exports(conn, folder, report)
    finally:
        copy_engine.dispose()


def _postgresql(engine: Engine, folder: Path, report: BackupReport) -> None:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            tables = MetaData()
            tables.reflect(conn)
            dump = {name: [dict(r._mapping) for r in conn.execute(select(table))]
                    for name, table in sorted(tables.tables.items())}
            _write_exports(conn, folder, report)
    (folder / TABLES_JSON).write_text(json.dumps(dump, ensure_ascii=False, default=str, indent=1), encoding="utf-8")
    report.files.append(TABLES_JSON)
    _pg_dump(engine, folder, report)


def _pg_dump(engine: Engine, folder: Path, report: BackupReport) -> None:
    """A restorable dump too, when the tool is there. The password goes in the environment, not
    on the command line where `ps` would show it."""
    tool = shutil.which("pg_dump")
    if tool is None:
        report.warnings.append("pg_dump is not on PATH: only the JSON export of the tables was written")
        return
    url = engine.url.set(drivername="postgresql")
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    command = [tool, "--format=custom", f"--file={folder / PG_DUMP}", url.set(password=None).render_as_string()]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        report.warnings.append(f"pg_dump failed: {exc}")
        return
    if done.returncode != 0:
        (folder / PG_DUMP).unlink(missing_ok=True)
        report.warnings.append(f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()[:500]}")
        return
    report.files.append(PG_DUMP)


def _manifest(folder: Path, report: BackupReport, engine: Engine) -> None:
    with engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    manifest = {"created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "database": engine.dialect.name, "schema_revision": revision, "files": report.files,
                "review_records": report.records, "warnings": report.warnings}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    report.files.append("manifest.json")
