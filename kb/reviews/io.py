"""`kb reviews export` and `kb reviews import`: reviews and reconciliations as JSON or CSV.

One flat record shape serves both formats and both kinds of record, so a CSV opens as one table
for analysis: `record` is `review` or `reconciliation`; for a reconciliation `reviewer` is the
editor and `note` the reason. Exports are deterministic (sorted, no timestamp of their own), so two
exports of the same data are byte-identical.

Import validates every record first and reports every problem (record number, field, value), then
writes all records or none, in one transaction with an audit entry per change. It is idempotent:
a record equal to the database's is skipped. A record that differs replaces the database's only
if its version is newer; otherwise that is a problem, because it would overwrite later work.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..errors import KbError
from . import audit
from .errors import ConflictError, ImportFailed
from .notes import render_note
from .records import completeness_errors, value_errors
from .roles import User, acting
from .tables import reading, reconciliations, reviews, users, writing
from .vocab import SLUG

FORMATS = ("json", "csv")
COLUMNS = ("record", "case_id", "evidence_id", "reviewer", "sms_grade", "confidence", "relevance", "tags", "status",
           "note", "version", "created_at", "updated_at")
KINDS = ("review", "reconciliation")
FORMAT_NAME = "kb-reviews"
FORMAT_VERSION = 1
_REC_MAP = {"reviewer": "editor", "note": "reason"}  # record column -> reconciliations column


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _review_record(row) -> dict[str, Any]:
    data = dict(row._mapping)
    return {"record": "review", **{c: data[c] for c in COLUMNS[1:]}, "tags": list(data["tags"] or [])}


def _reconciliation_record(row) -> dict[str, Any]:
    data = dict(row._mapping)
    return {"record": "reconciliation", **{c: data[_REC_MAP.get(c, c)] for c in COLUMNS[1:] if c not in ("tags", "status")},
            "tags": [], "status": "reconciled"}


def export_records(bind: Engine | Connection, viewer: User | None = None) -> list[dict[str, Any]]:
    """Every review and reconciliation, sorted by kind and key. `viewer` None: the caller checked
    (the backup reads a copy of the database)."""
    with reading(bind) as conn:
        if viewer is not None:
            acting(conn, viewer, "review.export")
        found = [_review_record(r) for r in conn.execute(select(reviews))]
        found += [_reconciliation_record(r) for r in conn.execute(select(reconciliations))]
    return sorted(found, key=_key)


def _key(record: dict[str, Any]) -> tuple:
    reviewer = record.get("reviewer") if record.get("record") == "review" else ""
    return (str(record.get("record")), str(record.get("case_id")), str(record.get("evidence_id")), str(reviewer))


def dumps(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "records": records},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise KbError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "tags": ";".join(record["tags"]),
                         **{k: "" for k in ("sms_grade", "confidence", "relevance") if record[k] is None}})
    return out.getvalue()


MAX_IMPORT_BYTES = 256 * 1024 * 1024   # an export of 100,000 reviews with notes is about 60 MB


def load_file(path: Path, fmt: str | None = None) -> list[Any]:
    """The records of an export file; the format comes from the extension unless given. Every
    way a file can be unreadable is a KbError naming the file and, where there is one, the line."""
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise KbError(f"{path}: cannot tell the format from the extension; use --format {' or '.join(FORMATS)}")
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise KbError(f"{path}: the file is {path.stat().st_size:,} bytes, more than the {MAX_IMPORT_BYTES:,} an "
                          "import may have; split it")
        raw = path.read_bytes()
    except OSError as exc:
        raise KbError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")   # a note's \r\n is kept as written
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise KbError(f"{path}:{line}: byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8; "
                      "exports are UTF-8: re-export the file or save it as UTF-8") from None
    return _parse_json(path, text) if fmt == "json" else _parse_csv(path, text)


def _parse_json(path: Path, text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KbError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise KbError(f"{path}: the JSON is nested too deeply to be an export (records are flat objects)") from None
    except ValueError as exc:   # e.g. an integer of more than 4,300 digits
        raise KbError(f"{path}: not a reviews export: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME or not isinstance(data.get("records"), list):
        raise KbError(f'{path}: not a reviews export (expected an object with "format": "{FORMAT_NAME}" '
                      'and "records")')
    if data.get("version") != FORMAT_VERSION:
        raise KbError(f"{path}: export format version {shown(data.get('version'))} is not supported "
                      f"(expected {FORMAT_VERSION})")
    return data["records"]


def _parse_csv(path: Path, text: str) -> list[Any]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise KbError(f"{path}: CSV header lacks column(s) {', '.join(missing)}; expected: {','.join(COLUMNS)}")
        return [_from_csv(row) for row in reader]
    except csv.Error as exc:
        raise KbError(f"{path}:{reader.line_num}: not a valid CSV export: {exc}") from None


def shown(value: Any, limit: int = 120) -> str:
    """A value for a message, cut short: a hostile file must not make its report huge."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = dict(row)
    for name in ("sms_grade", "version"):
        value = (row.get(name) or "").strip()
        record[name] = _integer(value) if value else None
    for name in ("confidence", "relevance"):
        record[name] = row.get(name) or None
    record["tags"] = [t for t in (row.get("tags") or "").split(";") if t]
    if None in record:  # more cells than columns
        record["<extra cells>"] = record.pop(None)
    return record


def _integer(value: str) -> int | str:
    """The cell as an integer when it is one of a sane length (ASCII digits only), else as text."""
    return int(value) if re.fullmatch(r"-?[0-9]{1,18}", value) else value


def _timestamp(value: Any) -> bool:
    try:
        return isinstance(value, str) and dt.datetime.fromisoformat(value) is not None
    except ValueError:
        return False


def record_problems(record: Any, known_users: set[str]) -> list[tuple[str, Any, str]]:
    """(field, value, message) for everything wrong with one record, in column order."""
    if not isinstance(record, dict):
        return [("", record, "a record must be an object with the columns " + ", ".join(COLUMNS))]
    problems = [(k, record[k], "unknown column") for k in record if k not in COLUMNS]
    problems += [(c, None, "is missing") for c in COLUMNS if c not in record]
    if problems:
        return problems
    kind = record["record"]
    if kind not in KINDS:
        return [("record", kind, f"must be one of: {', '.join(KINDS)}")]
    if not isinstance(record["case_id"], str) or not SLUG.match(record["case_id"]):
        problems.append(("case_id", record["case_id"], "must be an id [a-z0-9][a-z0-9-]*"))
    if not isinstance(record["evidence_id"], str) or not (record["evidence_id"] == "" or SLUG.match(record["evidence_id"])):
        problems.append(("evidence_id", record["evidence_id"],
                         "must be an id [a-z0-9][a-z0-9-]*, or empty for a whole case"))
    if not isinstance(record["reviewer"], str) or record["reviewer"] not in known_users:
        problems.append(("reviewer", record["reviewer"], "is not a user; add it first with `kb user add`"))
    values = {k: record[k] for k in ("sms_grade", "confidence", "relevance", "tags", "status", "note")}
    if kind == "reconciliation":
        values["reason"] = values.pop("note")
    errors = value_errors(values) or completeness_errors(values)
    problems += [("note" if name == "reason" else name, record["note" if name == "reason" else name], message)
                 for name, message in errors.items()]
    if kind == "reconciliation":
        problems += _reconciliation_problems(record)
    if not (isinstance(record["version"], int) and not isinstance(record["version"], bool) and record["version"] >= 1):
        problems.append(("version", record["version"], "must be a whole number, 1 or more"))
    problems += [(name, record[name], "must be an ISO 8601 date and time") for name in ("created_at", "updated_at")
                 if not _timestamp(record[name])]
    return problems


def _reconciliation_problems(record: dict[str, Any]) -> list[tuple[str, Any, str]]:
    problems = []
    if record["sms_grade"] is None:
        problems.append(("sms_grade", None, "is required for a reconciliation"))
    if isinstance(record["note"], str) and not record["note"].strip():
        problems.append(("note", record["note"], "a reconciliation needs its reason here"))
    if record["status"] != "reconciled":
        problems.append(("status", record["status"], "must be reconciled for a reconciliation"))
    if record["tags"]:
        problems.append(("tags", record["tags"], "a reconciliation has no tags"))
    return problems


def _existing(conn: Connection) -> dict[tuple, dict[str, Any]]:
    found = [_review_record(r) for r in conn.execute(select(reviews))]
    found += [_reconciliation_record(r) for r in conn.execute(select(reconciliations))]
    return {_key(r): r for r in found}


def plan(conn: Connection, records: list[Any]) -> tuple[list[tuple[str, dict, dict | None]], list[str]]:
    """What importing would do: ("create"|"update"|"same", record, existing), and every problem."""
    known = set(conn.execute(select(users.c.name)).scalars())
    existing, seen, steps, problems = _existing(conn), {}, [], []
    for number, record in enumerate(records, start=1):
        found = record_problems(record, known)
        problems += [f"record {number}: field {shown(name)}: value {shown(value)}: {message}" if name else
                     f"record {number}: {message}" for name, value, message in found]
        if found:
            continue
        key = _key(record)
        if key in seen:
            problems.append(f"record {number}: duplicate of record {seen[key]} ({key[0]} of {key[1]}"
                            f"{'/' + key[2] if key[2] else ''}{' by ' + key[3] if key[3] else ''})")
            continue
        seen[key] = number
        current = existing.get(key)
        if current == record:
            steps.append(("same", record, current))
        elif current is None or record["version"] > current["version"]:
            steps.append(("update" if current else "create", record, current))
        else:
            problems.append(f"record {number}: field 'version': value {shown(record['version'])}: the database holds "
                            f"version {current['version']} of this {key[0]}, which differs; not overwriting newer work")
    return steps, problems


def import_records(engine: Engine, actor: User, records: list[Any]) -> ImportReport:
    """All or nothing: any problem raises ImportFailed listing them all, and nothing is written."""
    report = ImportReport()
    with writing(engine) as conn:
        actor = acting(conn, actor, "review.import")
        steps, problems = plan(conn, records)
        if problems:
            raise ImportFailed(problems)
        for action, record, current in steps:
            if action == "same":
                report.unchanged += 1
                continue
            _write(conn, record, current)
            audit.record(conn, actor.name, f"{record['record']}.import", _target(record), current, record)
            if action == "create":
                report.created += 1
            else:
                report.updated += 1
    return report


def _target(record: dict[str, Any]) -> str:
    return f"{record['case_id']}/{record['evidence_id']}" if record["evidence_id"] else record["case_id"]


def _write(conn: Connection, record: dict[str, Any], current: dict | None) -> None:
    if record["record"] == "review":
        table, values = reviews, {c: record[c] for c in COLUMNS[1:]}
        values["note_html"] = render_note(record["note"])
        where = [reviews.c.reviewer == record["reviewer"]]
    else:
        table = reconciliations
        values = {_REC_MAP.get(c, c): record[c] for c in COLUMNS[1:] if c not in ("tags", "status")}
        where = []
    if current is None:
        conn.execute(insert(table).values(**values))
        return
    result = conn.execute(update(table).where(table.c.case_id == record["case_id"],
                                              table.c.evidence_id == record["evidence_id"],
                                              table.c.version == current["version"], *where).values(**values))
    if result.rowcount != 1:
        raise ConflictError(f"{_target(record)} changed during the import; nothing was imported; run it again")
