"""`kb reviews export` and `kb reviews import`: reviews and reconciliations as JSON or CSV.

One flat record shape serves both formats and both kinds of record, so a CSV opens as one table
for analysis: `record` is `review` or `reconciliation`; for a reconciliation `reviewer` is the
editor and `note` the reason. The coding questions' answers are in `answers` (and, as first
submitted, `independent_answers`): {key: {"version": n, "value": ...}}, JSON text in a CSV cell.
The questions themselves travel in the same file, every version, as `question` records (in a CSV:
`case_id` is the key, `version` the version, and `note` the rest of the definition as JSON), so
answers always arrive with the wording they were given under. Exports are deterministic (sorted, no
timestamp of their own), so two exports of the same data are byte-identical.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from .. import storage
from ..errors import KbError, shown
from ..fields import RESERVED_IDS
from . import audit
from .accounts import add_disabled_account
from .errors import ConflictError, ImportFailed
from .notes import render_note
from .questions import ROBINS_JUDGEMENTS, Question, question_versions, spec_errors, stored_answer_errors
from .records import OUTCOME, Review, Target, completeness_errors, value_errors
from .roles import User, acting
from .service import record_independent
from .tables import independent_grades, reading, reconciliations, review_questions, reviews, users, writing
from .vocab import SLUG, TAG, USER_NAME

FORMATS = ("json", "csv")
V1_COLUMNS = ("record", "case_id", "evidence_id", "reviewer", "sms_grade", "confidence", "relevance", "tags",
              "status", "note", "version", "created_at", "updated_at")
# version 2: a review's grades as first submitted (write-once; agreement uses them), None if unstated
INDEPENDENT = ("independent_sms_grade", "independent_confidence", "independent_relevance", "submitted_at")
# version 3: the coding questions' answers, now and as first submitted (None: none were kept)
ANSWERS = ("answers", "independent_answers")
COLUMNS = V1_COLUMNS + INDEPENDENT + ANSWERS
KINDS = ("review", "reconciliation")
QUESTION_COLUMNS = ("record", *Question("k", "l").to_dict())
FORMAT_NAME = "kb-reviews"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
_REC_MAP = {"reviewer": "editor", "note": "reason"}  # record column -> reconciliations column


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accounts: list[str] = field(default_factory=list)   # disabled accounts made for unknown reviewers


def _review_record(row) -> dict[str, Any]:
    data = dict(row._mapping)
    record = {"record": "review", **{c: data[c] for c in V1_COLUMNS[1:]}, "tags": list(data["tags"] or [])}
    return {**record, **{c: data[c] for c in INDEPENDENT}, "answers": dict(data["answers"] or {}),
            "independent_answers": data["independent_answers"]}


def _reviews_with_independent_grades():
    grades = independent_grades
    return (select(reviews, grades.c.sms_grade.label("independent_sms_grade"),
                   grades.c.confidence.label("independent_confidence"),
                   grades.c.relevance.label("independent_relevance"), grades.c.submitted_at,
                   grades.c.answers.label("independent_answers"))
            .select_from(reviews.outerjoin(grades, grades.c.review_id == reviews.c.id)))


def _reconciliation_record(row) -> dict[str, Any]:
    data = dict(row._mapping)
    return {"record": "reconciliation", **{c: data[_REC_MAP.get(c, c)] for c in V1_COLUMNS[1:] if c not in ("tags", "status")},
            "tags": [], "status": "reconciled", **dict.fromkeys(INDEPENDENT), "answers": dict(data["answers"] or {}),
            "independent_answers": None}


def _question_record(question: Question) -> dict[str, Any]:
    return {"record": "question", **question.to_dict()}


def export_records(bind: Engine | Connection, viewer: User | None = None) -> list[dict[str, Any]]:
    """Every review and reconciliation, sorted by kind and key. `viewer` None: the caller checked
    (the backup reads a copy of the database)."""
    with reading(bind) as conn:
        if viewer is not None:
            acting(conn, viewer, "review.export")
        found = [_review_record(r) for r in conn.execute(_reviews_with_independent_grades())]
        found += [_reconciliation_record(r) for r in conn.execute(select(reconciliations))]
        found += [_question_record(q) for q in question_versions(conn)]
    return sorted(found, key=_key)


def _key(record: dict[str, Any]) -> tuple:
    if record.get("record") == "question":
        return ("question", str(record.get("key")), f"{record.get('version')!s:>12}", "")
    reviewer = record.get("reviewer") if record.get("record") == "review" else ""
    return (str(record.get("record")), str(record.get("case_id")), str(record.get("evidence_id")), str(reviewer))


def dumps(records: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "records": records},
                          indent=2, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise KbError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")  # RFC 4180; and a lone \r in a note is then quoted
    writer.writeheader()
    for record in records:
        if record["record"] == "question":
            definition = {k: v for k, v in record.items() if k not in ("record", "key", "version")}
            writer.writerow({"record": "question", "case_id": record["key"], "version": record["version"],
                             "note": json.dumps(definition, ensure_ascii=False, sort_keys=True)})
            continue
        writer.writerow({**record, "tags": ";".join(record["tags"]),
                         **{k: "" for k in ("sms_grade", "confidence", "relevance", *INDEPENDENT) if record[k] is None},
                         **{k: "" if record[k] is None else json.dumps(record[k], ensure_ascii=False, sort_keys=True)
                            for k in ANSWERS}})
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
    if data.get("version") not in READABLE_VERSIONS:
        raise KbError(f"{path}: export format version {shown(data.get('version'))} is not supported "
                      f"(this kb reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    return data["records"] if data["version"] == FORMAT_VERSION else [_from_v1(r) for r in data["records"]]


def _from_v1(record: Any) -> Any:
    """A version 1 record states no independent grades (None: taken from the review if submitted);
    a version 1 or 2 record no answers."""
    if not isinstance(record, dict) or record.get("record") == "question":
        return record
    return {**record, **{c: None for c in INDEPENDENT if c not in record},
            **({} if "answers" in record else {"answers": {}}),
            **({} if "independent_answers" in record else {"independent_answers": None})}


def _parse_csv(path: Path, text: str) -> list[Any]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = [c for c in V1_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise KbError(f"{path}: CSV header lacks column(s) {', '.join(missing)}; expected: {','.join(COLUMNS)}")
        return [_from_v1(_from_csv(row)) for row in reader]
    except csv.Error as exc:
        raise KbError(f"{path}:{reader.line_num}: not a valid CSV export: {exc}") from None


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    if row.get("record") == "question":
        return _question_from_csv(row)
    record: dict[str, Any] = dict(row)
    for name in ("sms_grade", "version", "independent_sms_grade"):   # columns a version 1 file lacks stay
        if name in row:                                              # absent; _from_v1 fills them
            value = (row[name] or "").strip()
            record[name] = _integer(value) if value else None
    for name in ("confidence", "relevance", "independent_confidence", "independent_relevance", "submitted_at"):
        if name in row:
            record[name] = row[name] or None
    record["tags"] = [t for t in (row.get("tags") or "").split(";") if t]
    for name in ANSWERS:
        if name in row:
            record[name] = _json_cell(row[name]) if row[name] else None
    if None in record:  # more cells than columns
        record["<extra cells>"] = record.pop(None)
    return record


def _json_cell(text: str) -> Any:
    """A cell holding JSON (answers, a question's definition); text that is not JSON stays text,
    so the problem report shows it."""
    if len(text) > 1_000_000:
        return text[:80]
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _question_from_csv(row: dict[str, str]) -> dict[str, Any]:
    definition = _json_cell(row.get("note") or "")
    version = (row.get("version") or "").strip()
    record = {"record": "question", "key": row.get("case_id"), "version": _integer(version) if version else None}
    if isinstance(definition, dict):
        return {**record, **definition}
    return {**record, "note": definition}


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
    if record.get("record") == "question":
        return question_problems(record)
    problems = [(k, record[k], "unknown column") for k in record if k not in COLUMNS]
    problems += [(c, None, "is missing") for c in COLUMNS if c not in record]
    if problems:
        return problems
    kind = record["record"]
    if kind not in KINDS:
        return [("record", kind, f"must be one of: {', '.join(KINDS)}, question")]
    case_id = record["case_id"]
    if isinstance(case_id, str) and case_id.startswith(OUTCOME) and record["evidence_id"]:
        case_id = case_id[len(OUTCOME):]        # a theme's outcome: @theme / outcome
    if not isinstance(case_id, str) or not SLUG.match(case_id) or case_id in RESERVED_IDS:
        problems.append(("case_id", record["case_id"], "must be an id [a-z0-9][a-z0-9-]*, not history or reconcile "
                                                       "(or @theme for a theme's outcome)"))
    if not isinstance(record["evidence_id"], str) or record["evidence_id"] in RESERVED_IDS or not (
            record["evidence_id"] == "" or SLUG.match(record["evidence_id"])):
        problems.append(("evidence_id", record["evidence_id"],
                         "must be an id [a-z0-9][a-z0-9-]*, or empty for a whole case"))
    if not isinstance(record["reviewer"], str) or record["reviewer"] not in known_users:
        problems.append(("reviewer", record["reviewer"], "is not a user; add it first with `kb user add`"))
    values = {k: record[k] for k in ("sms_grade", "confidence", "relevance", "tags", "status", "note", "answers")}
    if kind == "reconciliation":
        values["reason"] = values.pop("note")
    scope = _scope(record)
    # a reconciliation needs a grade and a reason (below), not the confidence a submitted review needs:
    # the reconcile form leaves it optional, so its export must import
    errors = value_errors(values) or (completeness_errors(values, scope) if kind == "review" else {})
    problems += [("note" if name == "reason" else name, record["note" if name == "reason" else name], message)
                 for name, message in errors.items()]
    if kind == "reconciliation":
        problems += _reconciliation_problems(record)
    problems += _independent_problems(record)
    if record["independent_answers"] is not None:
        message = value_errors({"answers": record["independent_answers"]}).get("answers")
        if message:
            problems.append(("independent_answers", record["independent_answers"], message))
        elif kind == "reconciliation":
            problems.append(("independent_answers", record["independent_answers"], "a reconciliation has none"))
    if not (isinstance(record["version"], int) and not isinstance(record["version"], bool) and record["version"] >= 1):
        problems.append(("version", record["version"], "must be a whole number, 1 or more"))
    problems += [(name, record[name], "must be an ISO 8601 date and time") for name in ("created_at", "updated_at")
                 if not _timestamp(record[name])]
    return problems


def _independent_problems(record: dict[str, Any]) -> list[tuple[str, Any, str]]:
    values = {"sms_grade": record["independent_sms_grade"], "confidence": record["independent_confidence"],
              "relevance": record["independent_relevance"]}
    problems = [(f"independent_{name}", values[name], message) for name, message in value_errors(values).items()]
    if _stated(record) and record["record"] == "reconciliation":
        problems.append(("submitted_at", record["submitted_at"], "a reconciliation has no independent grades"))
    elif _stated(record) and not _timestamp(record["submitted_at"]):
        problems.append(("submitted_at", record["submitted_at"], "must be an ISO 8601 date and time with the grades"))
    return problems


def _scope(record: dict[str, Any]) -> str:
    case_id = record.get("case_id")
    return Target(case_id if isinstance(case_id, str) else "", record.get("evidence_id") or "").scope


def question_problems(record: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(field, value, message) for a question record: its columns and its definition."""
    problems = [(k, record[k], "unknown column of a question") for k in record if k not in QUESTION_COLUMNS]
    problems += [(c, None, "is missing") for c in QUESTION_COLUMNS if c not in record]
    if problems:
        return problems
    if not (isinstance(record["version"], int) and not isinstance(record["version"], bool) and record["version"] >= 1):
        return [("version", record["version"], "must be a whole number, 1 or more")]
    for name in ("ordinal", "required", "active"):
        if not isinstance(record[name], bool):
            problems.append((name, record[name], "must be true or false"))
    if not isinstance(record["choices"], list) or not all(isinstance(c, list) and len(c) == 2 for c in record["choices"]):
        problems.append(("choices", record["choices"], "must be a list of [value, label] pairs"))
    for name in ("label", "help", "scope", "kind", "question_set", "created_by", "created_at"):
        if not isinstance(record[name], str):
            problems.append((name, record[name], "must be text"))
    if problems:
        return problems
    if not _timestamp(record["created_at"]):
        problems.append(("created_at", record["created_at"], "must be an ISO 8601 date and time"))
    if record["question_set"] and not TAG.match(record["question_set"]):
        problems.append(("question_set", record["question_set"], "must be empty or [a-z0-9][a-z0-9-]*"))
    question = _question(record)
    problems += [(name, record.get(name), message) for name, message in spec_errors(question).items()]
    return problems


def _question(record: dict[str, Any]) -> Question:
    data = {k: v for k, v in record.items() if k != "record"}
    return Question(**{**data, "choices": tuple(tuple(c) for c in data["choices"])})


def _reconciliation_problems(record: dict[str, Any]) -> list[tuple[str, Any, str]]:
    problems = []
    if record["sms_grade"] is None and _scope(record) != "outcome":
        problems.append(("sms_grade", None, "is required for a reconciliation"))
    if isinstance(record["note"], str) and not record["note"].strip():
        problems.append(("note", record["note"], "a reconciliation needs its reason here"))
    if record["status"] != "reconciled":
        problems.append(("status", record["status"], "must be reconciled for a reconciliation"))
    if record["tags"]:
        problems.append(("tags", record["tags"], "a reconciliation has no tags"))
    return problems


def _existing(conn: Connection) -> dict[tuple, dict[str, Any]]:
    found = [_review_record(r) for r in conn.execute(_reviews_with_independent_grades())]
    found += [_reconciliation_record(r) for r in conn.execute(select(reconciliations))]
    found += [_question_record(q) for q in question_versions(conn)]
    return {_key(r): r for r in found}


def _answer_problems(record: dict[str, Any], versions: dict[tuple[str, int], Question]) -> list[tuple[str, Any, str]]:
    scope = _scope(record)
    problems = stored_answer_errors(record["answers"], versions, scope)
    if record["independent_answers"]:
        problems += [(f"independent_{name}", value, message) for name, value, message
                     in stored_answer_errors(record["independent_answers"], versions, scope)]
    return problems


def plan(conn: Connection, records: list[Any], *, new_accounts: set[str] | None = None
         ) -> tuple[list[tuple[str, dict, dict | None]], list[str]]:
    """What importing would do: ("create"|"update"|"same", record, existing), and every problem.
    With `new_accounts` (an admin imports), an unknown reviewer is not a problem: its name is
    added to the set, for a disabled account to be made."""
    known = set(conn.execute(select(users.c.name)).scalars())
    if new_accounts is not None:
        wanted = {r.get("reviewer") for r in records if isinstance(r, dict)}
        new_accounts.update(name for name in wanted if isinstance(name, str) and name not in known
                            and USER_NAME.match(name))
        known |= new_accounts
    existing, seen, steps, problems = _existing(conn), {}, [], []
    # the questions answers may name: the database's, and the file's (valid ones)
    versions = {(r["key"], r["version"]): _question(r) for r in existing.values() if r["record"] == "question"}
    versions.update({(r["key"], r["version"]): _question(r) for r in records
                     if isinstance(r, dict) and r.get("record") == "question" and not record_problems(r, known)})
    for number, record in enumerate(records, start=1):
        found = record_problems(record, known)
        if not found and record["record"] != "question":
            found = _answer_problems(record, versions)
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
        if record["record"] == "question":
            if current is None:
                steps.append(("create", record, None))
            elif current == record:
                steps.append(("same", record, current))
            else:
                problems.append(f"record {number}: question {record['key']!r} version {record['version']} differs from "
                                "the database's; a question's versions are never rewritten (give the change a new version)")
            continue
        if current is not None and record["independent_answers"] is None:
            record = {**record, "independent_answers": current["independent_answers"]}
        if current is not None and not _stated(record):   # unstated: keep what the database knows
            record = {**record, **{c: current[c] for c in INDEPENDENT}}
        elif current is not None and _stated(current) and _independent(current) != _independent(record):
            problems.append(f"record {number}: field 'independent_sms_grade': the grades first submitted are written "
                            f"once; the database holds {shown(_independent(current))}, the file {shown(_independent(record))}")
            continue
        if current == record:
            steps.append(("same", record, current))
        elif current is None or record["version"] > current["version"]:
            steps.append(("update" if current else "create", record, current))
        else:
            problems.append(f"record {number}: field 'version': value {shown(record['version'])}: the database holds "
                            f"version {current['version']} of this {key[0]}, which differs; not overwriting newer work")
    return steps, problems


def _stated(record: dict[str, Any]) -> bool:
    return any(record[c] is not None for c in INDEPENDENT)


def _independent(record: dict[str, Any]) -> tuple:
    return tuple(record[c] for c in INDEPENDENT)


def import_records(engine: Engine, actor: User, records: list[Any]) -> ImportReport:
    """All or nothing: any problem raises ImportFailed listing them all, and nothing is written."""
    report = ImportReport()
    with writing(engine) as conn:
        actor = acting(conn, actor, "review.import")
        new_accounts: set[str] | None = set() if actor.can("account.manage") else None
        steps, problems = plan(conn, records, new_accounts=new_accounts)
        if problems:
            raise ImportFailed(problems)
        editors = {r["reviewer"] for _, r, _ in steps if r["record"] == "reconciliation"}
        for name in sorted(new_accounts or ()):
            add_disabled_account(conn, actor, name, "editor" if name in editors else "reviewer")
            report.accounts.append(name)
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
    if record["record"] == "question":
        return f"question:{record['key']}"
    return f"{record['case_id']}/{record['evidence_id']}" if record["evidence_id"] else record["case_id"]


def _write(conn: Connection, record: dict[str, Any], current: dict | None) -> None:
    if record["record"] == "question":     # only ever created: versions are not rewritten
        conn.execute(insert(review_questions).values(**{k: v for k, v in record.items() if k != "record"}))
        return
    if record["record"] == "review":
        table, values = reviews, {c: record[c] for c in V1_COLUMNS[1:]}
        values["answers"] = record["answers"] or None
        values["note_html"] = render_note(record["note"])
        where = [reviews.c.reviewer == record["reviewer"]]
    else:
        table = reconciliations
        values = {_REC_MAP.get(c, c): record[c] for c in V1_COLUMNS[1:] if c not in ("tags", "status")}
        values["answers"] = record["answers"] or None
        where = []
    if current is None:
        conn.execute(insert(table).values(**values))
    else:
        result = conn.execute(update(table).where(table.c.case_id == record["case_id"],
                                                  table.c.evidence_id == record["evidence_id"],
                                                  table.c.version == current["version"], *where).values(**values))
        if result.rowcount != 1:
            raise ConflictError(f"{_target(record)} changed during the import; nothing was imported; run it again")
    if record["record"] == "review":
        row = conn.execute(select(reviews).where(reviews.c.case_id == record["case_id"],
                                                 reviews.c.evidence_id == record["evidence_id"], *where)).one()
        grades = ({"sms_grade": record["independent_sms_grade"], "confidence": record["independent_confidence"],
                   "relevance": record["independent_relevance"], "answers": record["independent_answers"]}
                  if _stated(record) else None)
        record_independent(conn, Review.from_row(row), grades, record["submitted_at"])


# --- robvis ------------------------------------------------------------------------------------

ROBVIS_COLUMNS = ("Study", "D1", "D2", "D3", "D4", "D5", "D6", "D7", "Overall", "Weight")
ROBVIS_KEYS = (*(f"robins-d{n}" for n in range(1, 8)), "robins-overall")


def robvis_rows(bind: Engine | Connection, viewer: User | None = None) -> list[dict[str, Any]]:
    """One row per evidence item an editor reconciled with ROBINS-I answers, in the column order of
    robvis's ROBINS-I template (`Study, D1..D7, Overall, Weight`): the judgements in its words
    (Low, Moderate, Serious, Critical, No information), an unanswered domain empty, Weight 1
    (each item counts once). Study is "case title: evidence id"."""
    labels = dict(ROBINS_JUDGEMENTS)
    with reading(bind) as conn:
        if viewer is not None:
            acting(conn, viewer, "review.export")
        titles = dict(conn.execute(select(storage.cases.c.id, storage.cases.c.title)).all())
        rows = []
        for rec in conn.execute(select(reconciliations).order_by(reconciliations.c.case_id,
                                                                 reconciliations.c.evidence_id)):
            answers = rec.answers or {}
            if not rec.evidence_id or not any(key in answers for key in ROBVIS_KEYS):
                continue
            values = [labels.get(answers[key]["value"], "") if key in answers else "" for key in ROBVIS_KEYS]
            study = f"{titles.get(rec.case_id, rec.case_id)}: {rec.evidence_id}"
            rows.append(dict(zip(ROBVIS_COLUMNS, [study, *values, 1])))
    return rows


def robvis_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ROBVIS_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
