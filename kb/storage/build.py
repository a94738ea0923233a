"""`kb build`: validate, then write the database and the search index, atomically and incrementally.

Order of work: read files (reusing the parsed form of every file whose content hash is unchanged),
validate, write a new index generation beside the current one, then write the database in one
transaction whose last act is to name the new generation current. A crash at any point leaves the
previous build complete: the database still names the previous generation, which is still on disk.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import errno
import fcntl
import gc
import os
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from .. import hooks, search, storage
from ..content.collection import Collection, ParsedBibliography, ParsedFile
from ..content.loader import BIB_FILE, load_collection
from ..errors import WARNING, KbError, Problem, ValidationFailed
from ..model import Case, Source
from ..settings import Settings
from .documents import ROWS_VERSION, case_rows, index_doc, source_row

FULL_REINDEX_SHARE = 0.3  # past this share of changed cases (and FULL_REINDEX_MIN), a fresh index
FULL_REINDEX_MIN = 200    # beats an incremental one


@dataclass
class BuildReport:
    cases: int = 0
    sources: int = 0
    parsed: int = 0
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reindexed: int = 0
    full_index: bool = False
    generation: str = ""
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rendered: int = 0                               # case pages rendered (all styles)
    moved: list = field(default_factory=list)      # reviews that followed a case's former_ids
    orphaned: list = field(default_factory=list)   # reviews whose case or evidence item is gone

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started

    @property
    def noop(self) -> bool:
        return not self.changed and not self.removed and not self.reindexed


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while loading: with tens of thousands of new objects per
    second on a heap of millions, its full collections tripled the time to load the build cache."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_held_lock: int | None = None   # the build lock's descriptor while this process holds it


def _after_fork_in_child() -> None:
    """A process forked during a build (Whoosh's index writers, the render pool) must neither keep
    the build lock (a `kill -9` of the build used to leave its writers holding it, so every later
    build refused to run) nor outlive the build: it closes its copy of the lock and asks the
    kernel to kill it when its parent dies."""
    global _held_lock
    if _held_lock is None:
        return
    os.close(_held_lock)
    _held_lock = None
    _die_with_parent()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass   # not available: the lock is still closed, so the next build can run


PR_SET_PDEATHSIG = 1
os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def build_lock(data_dir: Path):
    """One build at a time per data folder. The kernel releases the lock when its holder dies, and
    no child keeps it (see `_after_fork_in_child`); the file says who holds it."""
    global _held_lock
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "build.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
        os.close(fd)
        raise KbError(_lock_message(data_dir, holder)) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}\n".encode(), 0)
    _held_lock = fd
    try:
        yield
    finally:
        _held_lock = None
        os.close(fd)


@contextmanager
def database_lock(conn: Connection):
    """One build at a time per database: on PostgreSQL, shared by hosts with data folders of their
    own, a session advisory lock (released when the build's connection ends, or its host dies)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    if not conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({storage.BUILD_LOCK})").scalar():
        conn.rollback()
        raise KbError("another `kb build` is writing to this database (from this host or another that shares it); "
                      "wait for it to finish, then run `kb build` again")
    conn.commit()
    try:
        yield
    finally:
        try:
            if conn.in_transaction():
                conn.rollback()
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({storage.BUILD_LOCK})")
            conn.commit()
        except Exception:   # the connection is gone: so is its lock
            pass


def _lock_message(data_dir: Path, holder: list[str]) -> str:
    pid = int(holder[0]) if holder and holder[0].isascii() and holder[0].isdigit() else None
    since = f", started {holder[1]}" if len(holder) > 1 else ""
    if pid is not None and not _alive(pid):
        return (f"the build lock of {data_dir} is held, but the build that took it (pid {pid}{since}) is gone: "
                f"a process it left behind still holds it; find it with `fuser {data_dir / 'build.lock'}` and stop it")
    who = f" (pid {pid}{since})" if pid is not None else ""
    return f"another kb build{who} is running on {data_dir}; wait for it to finish"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)   # PermissionError: alive, another user's
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _cached_files(conn: Connection) -> tuple[dict[str, ParsedFile], ParsedBibliography | None]:
    """The parse of every file from the last build (case files, and the bibliography)."""
    rows = conn.execute(select(storage.files.c.path, storage.files.c.sha256, storage.files.c.parsed)).all()
    cached, bib = {}, None
    for path, sha, parsed in rows:
        problems = [Problem(**p) for p in parsed.get("problems", [])]
        if path == BIB_FILE:
            sources = {row[0]: Source(*row) for row in parsed["sources"]}
            bib = ParsedBibliography(sha, sources, problems)
            continue
        case = Case.from_dict(parsed["case"]) if parsed.get("case") else None
        cached[path] = ParsedFile(path, sha, case, problems)
    return cached, bib


def _file_row(parsed: ParsedFile) -> dict:
    case = None
    if parsed.case is not None:
        case = parsed.case.to_dict()
        case["body"] = ""
    return {"path": parsed.path, "sha256": parsed.sha256,
            "parsed": {"case": case, "problems": [p.to_dict() for p in parsed.problems]}}


def _bib_row(collection: Collection) -> dict:
    problems = [p.to_dict() for p in collection.problems if p.path == BIB_FILE and p.code != "uncited"]
    sources = [[s.key, s.entry_type, s.fields, s.raw, s.line] for s in collection.sources.values()]
    return {"path": BIB_FILE, "sha256": collection.bib_sha256, "parsed": {"sources": sources, "problems": problems}}


def build(settings: Settings | Path, data: Path | str | None = None, *, procs: int | None = None, full: bool = False,
          strict: bool = False, progress: Callable[[Iterable], Iterable] = lambda it: it) -> BuildReport:
    """Build the collection of `settings` (or of a root folder, with the environment's settings)."""
    started = time.perf_counter()
    if not isinstance(settings, Settings):
        settings = Settings.for_root(settings, data)
    data_dir = settings.data_dir
    with build_lock(data_dir):
        engine = None
        try:
            engine = storage.open_database(settings, create=True)
            with engine.connect() as conn:   # one connection for the build's reads and its transaction
                with database_lock(conn):
                    report = _build(settings, conn, procs=procs, full=full, strict=strict, progress=progress)
        except OSError as exc:           # a full disk, a quota, a read-only folder: one clear message
            raise KbError(_write_error(data_dir, exc)) from None
        except OperationalError as exc:  # SQLite's "database or disk is full" and kin
            raise KbError(_write_error(data_dir, exc.orig)) from None
        finally:
            if engine is not None:
                engine.dispose()
    report.seconds = time.perf_counter() - started
    return report


def _write_error(data_dir: Path, exc: BaseException) -> str:
    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
    code = getattr(exc, "errno", None)
    name = f" ({errno.errorcode.get(code, code)})" if isinstance(code, int) else ""
    return (f"cannot write the build in {data_dir}: {reason}{name}; free some space (or fix the folder's "
            "permissions) and run `kb build` again. The previous build is unchanged and what this one had written "
            "was removed")


def _build(settings: Settings, conn: Connection, *, procs, full, strict, progress) -> BuildReport:
    report = BuildReport()
    root = settings.root
    current_generation = storage.get_meta(conn, "index_generation")
    # what a build killed or failed mid-way left behind (kill -9 leaves no chance to clean up)
    backend = search.backend(settings, lambda: conn)
    backend.remove_stale(
                        keep={current_generation, storage.get_meta(conn, "previous_generation")} - {""})
    with gc_paused():
        with report.phase("cache"):
            cached, cached_bib = ({}, None) if full else _cached_files(conn)
        with report.phase("read"):
            collection = load_collection(root, cached=cached, cached_bib=cached_bib, progress=progress)
            problems = collection.all_problems()
    if collection.has_errors() or (strict and any(p.severity == WARNING for p in problems)):
        raise ValidationFailed(problems)
    report.cases, report.sources, report.problems = len(collection.cases), len(collection.sources), problems
    report.parsed = sum(1 for f in collection.files if cached.get(f.path) is not f)
    stored = _stored_cases(conn, cached)
    bib_changed = storage.get_meta(conn, "bib_sha256") != collection.bib_sha256
    have_index = (backend.has_generation(current_generation)
                  and storage.get_meta(conn, "index_schema") == backend.schema_version)
    cases = {case.id: case for case in collection.cases}
    report.changed = sorted(cid for cid, case in cases.items() if stored.get(cid) != (case.sha256, case.path))
    # this code stores rows differently: every case's rows anew (pages and reviews are unaffected)
    rows_stale = storage.get_meta(conn, "rows_schema") != ROWS_VERSION
    report.removed = sorted(set(stored) - set(cases))
    files_changed = {f.path for f in collection.files if cached.get(f.path) is not f} | (set(cached) - {f.path for f in collection.files})
    if not (report.changed or report.removed or bib_changed or files_changed or full or not have_index or rows_stale):
        report.generation = current_generation
        _announce("build.written", settings, collection, report, conn=conn)
        return report
    reindex_all = full or bib_changed or not have_index or len(report.changed) > max(FULL_REINDEX_MIN, FULL_REINDEX_SHARE * len(cases))
    report.full_index = reindex_all
    to_index = list(cases) if reindex_all else report.changed
    report.reindexed = len(to_index)
    this_year = dt.date.today().year
    with report.phase("documents"):
        _restore_bodies(conn, [cases[cid] for cid in to_index if not cases[cid].body])
        docs = [index_doc(cases[cid], collection.sources, this_year) for cid in to_index]
    conn.commit()   # end what the reads began: no snapshot is held while the index is written
    generation = f"g{time.time_ns()}"
    workers = procs or (2 if len(docs) >= 2000 and (os.cpu_count() or 1) > 1 else 1)

    def write_index(conn=None):
        with report.phase("index"), (gc_paused() if not reindex_all else nullcontext()):
            backend.build_generation(generation, docs, base=None if reindex_all else current_generation,
                                     removed=report.removed, procs=workers, conn=conn)
    try:
        if not backend.in_database:
            write_index()
        with report.phase("database"):
            _write_database(settings, conn, collection, cases, report, bib_changed or full,
                            (current_generation, generation), files_changed, sorted(cases) if rows_stale else [],
                            write_index if backend.in_database else None)
    except BaseException:
        backend.drop(generation)  # the previous build stays current
        raise
    backend.remove_stale(keep={generation, current_generation})
    report.generation = generation
    with report.phase("pages"):
        _announce("build.committed", settings, collection, report, full=reindex_all, procs=procs)
    return report


def _announce(event: str, settings: Settings, collection: Collection, report: BuildReport, **options) -> None:
    """Tell the subscribers (kb.hooks) what this build did; reviews that moved or are orphaned
    come back in the report."""
    done = hooks.announce(event, hooks.BuildEvent(settings, collection.cases, report.changed, report.removed,
                                                  report.generation, **options))
    report.moved += done.results.get("moved", [])
    report.rendered += done.results.get("pages", 0)
    if "orphaned" in done.results:
        report.orphaned = done.results["orphaned"]


def _stored_cases(conn: Connection, cached: dict[str, ParsedFile]) -> dict[str, tuple[str, str]]:
    """id -> (sha256, path) of the cases the last build stored. The cache of parsed files was
    written in the same transaction as the cases table, so it answers without a second query."""
    if cached:
        return {f.case.id: (f.case.sha256, f.path) for f in cached.values() if f.case is not None}
    return {cid: (sha, path) for cid, sha, path in
            conn.execute(select(storage.cases.c.id, storage.cases.c.sha256, storage.cases.c.path))}


def _restore_bodies(conn: Connection, cached_cases: list[Case]) -> None:
    """Cached parses leave the body out (it is in the cases table); put it back for re-indexing."""
    by_id = {case.id: case for case in cached_cases}
    for start in range(0, len(cached_cases), 500):
        chunk = list(by_id)[start:start + 500]
        for case_id, body in conn.execute(select(storage.cases.c.id, storage.cases.c.body)
                                          .where(storage.cases.c.id.in_(chunk))):
            by_id[case_id].body = body


def _write_database(settings: Settings, conn: Connection, collection: Collection, cases: dict[str, Case], report: BuildReport,
                    write_sources: bool, generations: tuple[str, str], files_changed: set[str],
                    restored: list[str] = (), write_index=None) -> None:
    """`generations`: (the current index generation, the new one this build names current);
    `restored`: unchanged cases whose rows are written anew too (kb.storage.documents.ROWS_VERSION);
    `write_index(conn)`: a backend in the database writes its rows here, in this transaction."""
    previous, generation = generations
    rewritten = sorted(set(report.changed) | set(restored))
    rewrite = rewritten + report.removed
    with conn.begin():
        _restore_bodies(conn, [cases[cid] for cid in rewritten if not cases[cid].body])
        rows = [case_rows(cases[cid]) for cid in rewritten]
        for table in (storage.citations, storage.evidence_items, storage.case_terms):
            _delete_in(conn, table, table.c.case_id, rewrite)
        _delete_in(conn, storage.cases, storage.cases.c.id, rewrite)
        if write_sources:
            conn.execute(delete(storage.sources))
            _insert(conn, storage.sources, [source_row(s, n) for n, s in enumerate(collection.sources.values())])
            conn.execute(delete(storage.terms))
            _insert(conn, storage.terms, [{"kind": kind, "name": t.name, "label": t.label, "help": t.help}
                                          for kind, terms in collection.vocab.kinds.items() for t in terms.values()])
        _insert(conn, storage.cases, [r["case"] for r in rows])
        _insert(conn, storage.case_terms, [t for r in rows for t in r["terms"]])
        _insert(conn, storage.evidence_items, [e for r in rows for e in r["evidence"]])
        _insert(conn, storage.citations, [c for r in rows for c in r["citations"]])
        if write_index is not None:
            write_index(conn)
        _delete_in(conn, storage.files, storage.files.c.path, sorted(files_changed))
        _insert(conn, storage.files, [_file_row(f) for f in collection.files if f.path in files_changed])
        if write_sources:
            _delete_in(conn, storage.files, storage.files.c.path, [BIB_FILE])
            _insert(conn, storage.files, [_bib_row(collection)])
        storage.set_meta(conn, "bib_sha256", collection.bib_sha256)
        storage.set_meta(conn, "built_at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        report.generation = generation
        _announce("build.written", settings, collection, report, conn=conn, full=write_sources)
        _drop_pages(conn, None if write_sources else report.changed + report.removed)
        conn.execute(delete(storage.related).where(storage.related.c.generation != generation))
        storage.set_meta(conn, "index_schema", search.backend(settings).schema_version)
        storage.set_meta(conn, "rows_schema", ROWS_VERSION)
        storage.set_meta(conn, "previous_generation", previous)
        storage.set_meta(conn, "index_generation", generation)


def _drop_pages(conn, rewritten: list[str] | None) -> None:
    """Rendered pages of the cases this build rewrote go (all of them when the bibliography
    changed: a reference may read differently); the pages of unchanged cases stay valid."""
    if rewritten is None:
        conn.execute(delete(storage.rendered))
    else:
        _delete_in(conn, storage.rendered, storage.rendered.c.case_id, rewritten)


def _delete_in(conn, table, column, values: list[str], chunk: int = 500) -> None:
    for start in range(0, len(values), chunk):
        conn.execute(delete(table).where(column.in_(values[start:start + chunk])))


def _insert(conn, table, rows: list[dict], chunk: int = 2000) -> None:
    for start in range(0, len(rows), chunk):
        conn.execute(insert(table), rows[start:start + chunk])
