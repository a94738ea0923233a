"""Relational storage (SQLAlchemy 2.0): the tables, the engine, and the opening of a database.

SQLite in the data folder by default, or the `DATABASE_URL` setting. The build writes everything
in one transaction; the schema is created and upgraded by Alembic, only by `kb build`, the
commands that make a first database, and `kb db upgrade`, never when a database is opened to read.
Submodules: `build` writes a build, `documents` turns cases into rows and index documents,
`catalog` reads them back, `pages` keeps rendered case pages.
"""
from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote, unquote

import orjson
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from ..errors import Unavailable
from ..settings import DB_FILE  # noqa: F401  (storage.DB_FILE: the file backups copy)

if TYPE_CHECKING:
    from ..settings import Settings

metadata = MetaData()

meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))

terms = Table(
    "terms", metadata,
    Column("kind", String(32), primary_key=True), Column("name", String(128), primary_key=True),
    Column("label", Text, nullable=False), Column("help", Text, nullable=False, default=""),
)

cases = Table(
    "cases", metadata,
    Column("id", String(200), primary_key=True),
    Column("path", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("locality", Text, nullable=False, default=""),
    Column("period", String(16), nullable=False),
    Column("period_start", Integer), Column("period_end", Integer),
    Column("status", String(16), nullable=False, index=True),
    Column("updated", String(10), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", JSON, nullable=False),
)

case_terms = Table(
    "case_terms", metadata,
    Column("case_id", String(200), ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("name", String(128), primary_key=True, index=True),
)

evidence_items = Table(
    "evidence_items", metadata,
    Column("case_id", String(200), ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("claim", Text, nullable=False), Column("cite", Text, nullable=False),
    Column("outcome", String(64), nullable=False, index=True),
    Column("direction", String(32), nullable=False), Column("design", String(32), nullable=False),
    Column("strength", Integer),
)

sources = Table(
    "sources", metadata,
    Column("key", String(200), primary_key=True),
    Column("entry_type", String(32), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("authors", Text, nullable=False, default=""),
    Column("year", String(16), nullable=False, default=""),
    Column("doi", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("fields", JSON, nullable=False),
    Column("raw", Text, nullable=False),
    Column("position", Integer, nullable=False),
)

citations = Table(
    "citations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(200), ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("evidence_id", String(200)),
    Column("source_key", String(200), nullable=False, index=True),
    Column("locator", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False),
)

files = Table(
    "files", metadata,
    Column("path", Text, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("parsed", JSON, nullable=False),
)

# Case pages rendered by the build and shared by every web worker (see kb/storage/pages.py), keyed
# by the version of the case they were made from (its content hash and the renderer's version).
rendered = Table(
    "rendered", metadata,
    Column("case_id", String(200), primary_key=True),
    Column("style", String(64), primary_key=True),
    Column("version", String(80), primary_key=True),
    Column("data", JSON, nullable=False),
)

# The related cases of each published case, per index generation (they depend on the whole
# index): computed by the first request that shows the case, read by every worker after it.
related = Table(
    "related", metadata,
    Column("generation", String(64), primary_key=True),
    Column("case_id", String(200), primary_key=True),
    Column("data", JSON, nullable=False),
)

CREATED_MARKER = "database.created"   # written beside a SQLite database when it is first made


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA recursive_triggers=ON")   # REPLACE's implicit deletes fire DELETE triggers
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, must_exist: bool = False) -> Engine:
    """orjson (de)serialises the JSON columns: decoding 10,000 cached parses was a third of a
    no-op rebuild with the standard library. `must_exist`: SQLite opens the file read-write but
    never creates it, so a database deleted under a running server is an error, not a new file."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if must_exist and path is not None:
            url = f"sqlite:///file:{quote(str(path))}?mode=rw&uri=true"
        engine = create_engine(url, json_serializer=_dumps, json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, json_serializer=_dumps, json_deserializer=orjson.loads, pool_pre_ping=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a plain `sqlite:///path` URL (None for other databases and for memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):
        return Path(unquote(parsed.database[5:].split("?", 1)[0]))
    return Path(parsed.database)


def create_private(path: Path) -> None:
    """An empty file only its owner can read: SQLite keeps the mode for its -wal and -shm files."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def make_private(path: Path) -> None:
    """Database files hold password hashes, private notes and blinded grades: owner only."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.stat().st_mode & 0o077:
                os.chmod(candidate, 0o600)
        except OSError:
            pass   # absent, or not ours to change
    try:
        if path.parent.stat().st_mode & 0o077:
            os.chmod(path.parent, 0o700)
    except OSError:
        pass


def check_readable(engine: Engine) -> None:
    """One query, so that a missing or damaged database is a clear error at open, not a 500 later."""
    try:
        with engine.connect() as conn:   # SQLite reads a page only when asked about its tables
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master" if engine.dialect.name == "sqlite"
                                 else "SELECT 1").scalar()
    except DBAPIError as exc:
        raise Unavailable(f"cannot read the database {engine.url.render_as_string(hide_password=True)}: "
                          f"{' '.join(str(exc.orig).split())}; if the file is damaged, restore it from a backup "
                          "(`kb backup`)") from None


def has_schema(engine: Engine) -> bool:
    with engine.connect() as conn:
        return inspect(conn).has_table("alembic_version")


def _dumps(value) -> str:
    return orjson.dumps(value).decode("utf-8")


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "kb:migrations")
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The schema revision this code expects (the newest migration)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


UPGRADE_LOCK = 0x6B620001   # PostgreSQL advisory lock keys: the schema's upgrade, and the build
BUILD_LOCK = 0x6B620002


def upgrade(engine: Engine) -> tuple[str, str]:
    """Create or upgrade the schema with Alembic (the migrations live in kb/migrations):
    (revision before, revision after). On PostgreSQL the upgrade holds an advisory lock in its
    transaction, so two hosts upgrading at once take turns and the second finds nothing to do."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})")
        before = schema_revision(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head_revision()


def schema_revision(bind: Engine | Connection) -> str:
    """The revision the database's schema is at ("" for a database without tables)."""
    with reading(bind) as conn:
        if not inspect(conn).has_table("alembic_version"):
            return ""
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() or ""


def check_revision(engine: Engine, data_dir: Path) -> None:
    """A database behind the code (or ahead of it) is a clear error naming what to run."""
    revision, head = schema_revision(engine), head_revision()
    if revision == head:
        return
    if not revision:
        raise Unavailable(f"no build found in {data_dir}: the database has no tables; run `kb build` first", NOT_BUILT)
    from alembic.script import ScriptDirectory
    known = {script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}
    if revision in known:
        also = "" if engine.dialect.name == "postgresql" else " (or `kb build`)"
        raise Unavailable(f"the database {_shown_url(engine)} is at schema revision {revision}, and this version "
                          f"of kb needs {head}; run `kb db upgrade`{also}", UPGRADING)
    raise Unavailable(f"the database {_shown_url(engine)} is at schema revision {revision}, which this version of "
                      "kb does not know: it was upgraded by a newer kb; install that version", UPGRADING)


def _shown_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


NOT_BUILT = "the knowledge base has not been built yet; its operator must run `kb build` first"
UPGRADING = "the knowledge base is being upgraded; its operator has been told"


def open_database(settings: "Settings", *, create: bool = False, migrate: bool = False) -> Engine:
    """The database of `settings`. With `create` (kb build, kb user add, kb reviews import,
    kb db upgrade) a first database is made and the schema upgraded; a database that was made here
    once and has since gone is never silently replaced by an empty one. On PostgreSQL, which
    several hosts may share, an existing schema is upgraded only with `migrate` (`kb db upgrade`,
    run once, from one host): a host with newer code does not move every other host's schema
    under it. Without `create` (everything that reads) a missing database, or one whose schema is
    not this code's, is an error that says what to run; nothing is written."""
    data_dir, url = settings.data_dir, settings.database_url
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_file(data_dir, path, create)
    engine = make_engine(url, must_exist=not create)
    try:
        check_readable(engine)
        if create and (migrate or engine.dialect.name != "postgresql" or not schema_revision(engine)):
            upgrade(engine)
        else:
            check_revision(engine, data_dir)
    except BaseException:
        engine.dispose()
        raise
    if path is not None:
        make_private(path)
    return engine


def _check_sqlite_file(data_dir: Path, path: Path, create: bool) -> None:
    marker = data_dir / CREATED_MARKER
    if path.exists():
        return
    if marker.exists():
        raise Unavailable(f"the database {path} is missing, but one was created in {data_dir} on "
                          f"{marker.read_text(encoding='utf-8').strip() or 'an earlier date'}; restore it from a backup "
                          f"(`kb backup` folders hold kb.sqlite3), or delete {marker} to start an empty one",
                          "the knowledge base's database is missing; its operator has been told")
    if not create:
        raise Unavailable(f"no build found in {data_dir}; run `kb build` first", NOT_BUILT)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_private(path)
    marker.write_text(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds") + "\n", encoding="utf-8")


@contextmanager
def reading(bind: Engine | Connection) -> Iterator[Connection]:
    """Read functions take an Engine (a test, a script) or a Connection (a request's, a command's,
    the build's): with a Connection they use it, so a request opens one connection in all."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    else:
        yield bind


@contextmanager
def writing(bind: Engine | Connection) -> Iterator[Connection]:
    """One transaction for a change and its audit entry.

    - an Engine: a connection of its own, committed at the end;
    - a request's or command's connection (`info["shared"]`, see kb.knowledgebase): what its
      earlier reads began is ended, and the change is committed at the end of the outermost block;
    - any other Connection already in a transaction (the build's) is used as it is and not
      committed: the caller owns that transaction.
    """
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
    elif bind.info.get("shared") and not bind.info.get("writing"):
        if bind.in_transaction():
            bind.commit()
        bind.info["writing"] = True
        bind.info.pop("kept", None)      # reads kept for the request (KnowledgeBase._per_session)
        try:
            with bind.begin():
                yield bind
        finally:
            bind.info["writing"] = False
            bind.info.pop("kept", None)
    elif bind.in_transaction():
        yield bind
    else:
        with bind.begin():
            yield bind


def get_meta(bind: Engine | Connection, key: str, default: str = "") -> str:
    with reading(bind) as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    return default if value is None else value


def set_meta(conn, key: str, value: str) -> None:
    conn.execute(meta.delete().where(meta.c.key == key))
    conn.execute(meta.insert().values(key=key, value=value))
