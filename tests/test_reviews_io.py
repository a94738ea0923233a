"""Export and import of reviews (round trips, idempotence, all or nothing) and `kb backup`.
Storage tests run on SQLite and PostgreSQL (`db_url`)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text
from test_reviews import GRADED, PASSWORD, USERS, cheap_hashing, env  # noqa: F401  (fixtures)

from kb import storage
from kb.cli import main
from kb.errors import KbError
from kb.reviews import accounts, audit
from kb.reviews.backup import backup
from kb.reviews.errors import ImportFailed, PermissionDenied
from kb.reviews.io import dumps, export_records, import_records, load_file
from kb.reviews.roles import system_actor
from kb.reviews.service import create_review, reconcile, update_review
from kb.reviews.tables import audit_log, reviews

NOTE = 'Line one, with "quotes";\nline two — ünïcode\r\n=SUM(A1) stays text\n\n- a list'


@pytest.fixture
def reviewed(env):  # noqa: F811
    create_review(env.engine, env["alice"], "first/overdose-deaths", {**GRADED, "note": NOTE, "tags": ["a", "b-c"]})
    bob = create_review(env.engine, env["bob"], "first/overdose-deaths", {**GRADED, "sms_grade": 4})
    update_review(env.engine, env["bob"], bob.id, {"confidence": "low", "relevance": None}, bob.version)
    create_review(env.engine, env["alice"], "second", {"status": "in-review"})
    reconcile(env.engine, env["ed"], "first/overdose-deaths", {"sms_grade": 3, "confidence": "moderate"},
              "Reason, with a comma\nand a second line")
    return env


@pytest.fixture
def fresh(db_url, tmp_path, cheap_hashing):  # noqa: F811
    """A second, empty database on the same backend, with the same accounts."""
    if db_url.startswith("sqlite"):
        url, admin, name = f"sqlite:///{tmp_path / 'fresh.sqlite3'}", None, None
    else:
        admin = create_engine(os.environ["KB_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
        name = f"kbfresh_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = db_url.rsplit("/", 1)[0] + "/" + name
    engine = storage.make_engine(url)
    storage.upgrade(engine)
    for user, role in USERS.items():
        accounts.add_user(engine, system_actor(), user, role, PASSWORD)
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_round_trip_into_a_fresh_database(reviewed, fresh, tmp_path, fmt):
    exported = dumps(export_records(reviewed.engine, reviewed["ed"]), fmt)
    path = tmp_path / f"reviews.{fmt}"
    path.write_text(exported, encoding="utf-8", newline="")
    report = import_records(fresh, reviewed["ed"], load_file(path))
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    assert dumps(export_records(fresh), fmt) == exported
    assert export_records(fresh) == export_records(reviewed.engine)
    again = import_records(fresh, reviewed["ed"], load_file(path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_export_shape(reviewed):
    records = export_records(reviewed.engine)
    assert [(r["record"], r["case_id"], r["evidence_id"], r["reviewer"]) for r in records] == [
        ("reconciliation", "first", "overdose-deaths", "ed"),
        ("review", "first", "overdose-deaths", "alice"), ("review", "first", "overdose-deaths", "bob"),
        ("review", "second", "", "alice")]
    assert records[0]["note"] == "Reason, with a comma\nand a second line" and records[0]["status"] == "reconciled"
    bob = records[2]
    assert (bob["sms_grade"], bob["confidence"], bob["relevance"], bob["status"], bob["version"]) == (
        4, "low", None, "reconciled", 3)
    assert records[1]["note"] == NOTE and records[1]["tags"] == ["a", "b-c"]
    data = json.loads(dumps(records, "json"))
    assert (data["format"], data["version"], data["records"]) == ("kb-reviews", 3, records)


def test_importing_the_same_export_twice_changes_nothing(reviewed, tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text(dumps(export_records(reviewed.engine), "json"), encoding="utf-8")
    before = (count(reviewed.engine, audit_log), export_records(reviewed.engine))
    for _ in range(2):
        report = import_records(reviewed.engine, reviewed["ed"], load_file(path))
        assert (report.created, report.updated, report.unchanged) == (0, 0, 4)
    assert (count(reviewed.engine, audit_log), export_records(reviewed.engine)) == before


def test_a_newer_version_updates_and_an_older_one_is_refused(reviewed):
    records = export_records(reviewed.engine)
    newer = {**records[1], "sms_grade": 2, "version": records[1]["version"] + 1}
    report = import_records(reviewed.engine, reviewed["ed"], [newer])
    assert (report.created, report.updated) == (0, 1)
    assert export_records(reviewed.engine)[1] == newer
    entry = audit.entries(reviewed.engine)[-1]
    assert (entry.action, entry.before["sms_grade"], entry.after["sms_grade"]) == ("review.import", 3, 2)
    older = {**records[1], "sms_grade": 5}
    with pytest.raises(ImportFailed) as caught:
        import_records(reviewed.engine, reviewed["ed"], [older])
    assert caught.value.problems == [
        f"record 1: field 'version': value {older['version']}: the database holds version {newer['version']} of "
        "this review, which differs; not overwriting newer work"]


def test_a_bad_record_means_nothing_is_imported(reviewed, fresh):
    good = export_records(reviewed.engine)
    bad = [
        good[0], good[1],
        {**good[2], "sms_grade": 7},
        {**good[3], "reviewer": "mallory", "confidence": "sure", "created_at": "yesterday"},
        {**good[1]},
        {"record": "comment", **{k: v for k, v in good[1].items() if k != "record"}},
        {**good[0], "note": " ", "tags": ["x"]},
        {k: v for k, v in good[1].items() if k != "note"} | {"extra": 1},
        "not a record",
    ]
    before = (count(fresh, reviews), count(fresh, audit_log))
    with pytest.raises(ImportFailed, match="11 problem\\(s\\) found; nothing was imported") as caught:
        import_records(fresh, reviewed["ed"], bad)
    assert caught.value.problems == [
        "record 3: field 'sms_grade': value 7: must be an integer 1-5, not 7",
        "record 4: field 'reviewer': value 'mallory': is not a user; add it first with `kb user add`",
        "record 4: field 'confidence': value 'sure': 'sure' is not one of: high, moderate, low, very-low",
        "record 4: field 'created_at': value 'yesterday': must be an ISO 8601 date and time",
        "record 5: duplicate of record 2 (review of first/overdose-deaths by alice)",
        "record 6: field 'record': value 'comment': must be one of: review, reconciliation, question",
        "record 7: field 'note': value ' ': a reconciliation needs its reason here",
        "record 7: field 'tags': value ['x']: a reconciliation has no tags",
        "record 8: field 'extra': value 1: unknown column",
        "record 8: field 'note': value None: is missing",
        "record 9: a record must be an object with the columns record, case_id, evidence_id, reviewer, sms_grade, "
        "confidence, relevance, tags, status, note, version, created_at, updated_at, independent_sms_grade, "
        "independent_confidence, independent_relevance, submitted_at, answers, independent_answers",
    ]
    assert (count(fresh, reviews), count(fresh, audit_log)) == before


def test_readers_and_reviewers_cannot_import_or_export(reviewed):
    for who in ("rita", "alice"):
        with pytest.raises(PermissionDenied):
            export_records(reviewed.engine, reviewed[who])
        with pytest.raises(PermissionDenied):
            import_records(reviewed.engine, reviewed[who], [])


@pytest.mark.parametrize("name, content, message", [
    ("r.txt", "", "cannot tell the format from the extension; use --format json or csv"),
    ("r.json", "{oops", "r.json:1: not valid JSON"),
    ("r.json", '{"records": []}', 'not a reviews export (expected an object with "format": "kb-reviews"'),
    ("r.json", '{"format": "kb-reviews", "version": 9, "records": []}', "export format version 9 is not supported"),
    ("r.csv", "record,case_id\n", "CSV header lacks column(s) evidence_id, reviewer"),
])
def test_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KbError, match=message.replace("(", "\\(").replace(")", "\\)")):
        load_file(path)


def test_export_and_import_commands(reviewed, runner, tmp_path):
    root = ["--root", str(reviewed.root)]
    for fmt in ("json", "csv"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(main, [*root, "reviews", "export", "--format", fmt, "--output", str(out)])
        written = out.read_bytes().decode("utf-8")
        assert result.exit_code == 0 and written == dumps(export_records(reviewed.engine), fmt)
        stdout = runner.invoke(main, [*root, "reviews", "export", "--format", fmt]).stdout_bytes
        assert stdout.decode("utf-8") == written  # not .output, which folds a note's \r\n
        imported = runner.invoke(main, [*root, "reviews", "import", str(out)])
        assert (imported.exit_code, imported.output) == (0, f"imported {out}: 0 created, 0 updated, 4 unchanged\n")
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    data["records"][1]["sms_grade"] = 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(main, [*root, "reviews", "import", str(bad)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{bad}: record 2: field 'sms_grade': value 0: must be an integer 1-5, not 0" in result.output
    assert "Error: 1 problem(s) found; nothing was imported" in result.output
    missing = runner.invoke(main, [*root, "reviews", "import", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_orphans_command(reviewed, runner):
    (reviewed.root / "case_studies/second.md").unlink()
    from kb.storage.build import build
    build(reviewed.root)
    result = runner.invoke(main, ["--root", str(reviewed.root), "reviews", "orphans", "--format", "json"])
    assert [(r["target"], r["reviewer"]) for r in json.loads(result.output)] == [("second", "alice")]
    text_out = runner.invoke(main, ["--root", str(reviewed.root), "reviews", "orphans"]).output
    assert text_out.split()[:3] == ["second", "alice", "in-review"] and "1 orphaned review(s)" in text_out


def test_backup(reviewed, tmp_path, runner):
    report = backup(reviewed.engine, tmp_path / "backups")
    assert report.folder.parent == tmp_path / "backups" and report.folder.name.startswith("kb-backup-")
    assert not [p for p in report.folder.parent.iterdir() if p.name.startswith(".")]
    manifest = json.loads((report.folder / "manifest.json").read_text())
    assert manifest["schema_revision"] == storage.head_revision() and manifest["review_records"] == 4
    assert json.loads((report.folder / "reviews.json").read_text())["records"] == export_records(reviewed.engine)
    assert (report.folder / "reviews.csv").read_bytes().decode() == dumps(export_records(reviewed.engine), "csv")
    if reviewed.engine.dialect.name == "sqlite":
        with sqlite3.connect(report.folder / "kb.sqlite3") as copy:
            assert copy.execute("SELECT count(*) FROM reviews").fetchone()[0] == 3
            assert copy.execute("SELECT count(*) FROM audit_log").fetchone()[0] == count(reviewed.engine, audit_log)
        copy.close()
    else:
        tables = json.loads((report.folder / "database.json").read_text())
        assert len(tables["reviews"]) == 3 and {"cases", "users", "audit_log", "alembic_version"} <= set(tables)
        assert ("database.pgdump" in report.files) == (shutil.which("pg_dump") is not None) or report.warnings
    result = runner.invoke(main, ["--root", str(reviewed.root), "backup", "--to", str(tmp_path / "cli")])
    assert result.exit_code == 0 and result.output.startswith(f"backup written to {tmp_path / 'cli'}/kb-backup-")
