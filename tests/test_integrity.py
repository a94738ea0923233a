"""Nothing is ever lost and independence holds: the append-only promise against every SQL
statement that can change a row (SQLite and PostgreSQL), blind grades that cannot be edited into
agreement, nothing of an unreconciled review in public, every export importing back into an empty
database (a property over generated reviews), and private files."""
from __future__ import annotations

import os
import stat

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from test_reviews import FIRST, GRADED, PASSWORD, USERS, cheap_hashing, env  # noqa: F401  (fixtures)
from test_reviews_io import fresh  # noqa: F401  (fixture)

from kb import storage
from kb.reviews import accounts, questions
from kb.reviews.agreement import agreement
from kb.reviews.backup import backup
from kb.reviews.io import dumps, export_records, import_records, load_file
from kb.reviews.roles import system_actor
from kb.reviews.service import create_review, independent_grades_of, public_view, reconcile, update_review
from kb.reviews.tables import audit_log, independent_grades, reconciliations, reviews, users

TABLES = (audit_log, reviews, reconciliations, independent_grades, users)

# (name, dialects, SQL): every statement kind that can change or remove a row of a guarded table
STATEMENTS = [
    ("UPDATE audit_log", "*", "UPDATE audit_log SET actor = 'mallory'"),
    ("DELETE audit_log", "*", "DELETE FROM audit_log"),
    ("DELETE reviews", "*", "DELETE FROM reviews"),
    ("DELETE reconciliations", "*", "DELETE FROM reconciliations"),
    ("DELETE independent_grades", "*", "DELETE FROM independent_grades"),
    ("UPDATE independent_grades", "*", "UPDATE independent_grades SET sms_grade = 5"),
    ("DELETE users", "*", "DELETE FROM users WHERE name = 'alice'"),
    ("UPDATE reviews id", "*", "UPDATE reviews SET id = id + 1000"),
    ("UPDATE audit_log via upsert", "*",
     "INSERT INTO audit_log (id, at, actor, action, target) SELECT id, at, 'mallory', action, target FROM audit_log "
     "WHERE true ON CONFLICT (id) DO UPDATE SET actor = 'mallory'"),
    ("TRUNCATE audit_log", "postgresql", "TRUNCATE audit_log"),
    ("TRUNCATE reviews", "postgresql", "TRUNCATE reviews CASCADE"),
    ("TRUNCATE independent_grades", "postgresql", "TRUNCATE independent_grades"),
    ("TRUNCATE users", "postgresql", "TRUNCATE users CASCADE"),
    ("INSERT OR REPLACE audit_log", "sqlite",
     "INSERT OR REPLACE INTO audit_log (id, at, actor, action, target) SELECT id, at, 'mallory', action, target "
     "FROM audit_log"),
    ("REPLACE audit_log", "sqlite",
     "REPLACE INTO audit_log (id, at, actor, action, target) SELECT id, at, 'mallory', action, target FROM audit_log"),
    ("REPLACE reviews by id", "sqlite",
     "REPLACE INTO reviews (id, case_id, evidence_id, reviewer, tags, status, note, version, created_at, updated_at) "
     "SELECT id, case_id, evidence_id, reviewer, '[]', 'unreviewed', '', 1, created_at, updated_at FROM reviews"),
    ("INSERT OR REPLACE reviews by key", "sqlite",
     "INSERT OR REPLACE INTO reviews (case_id, evidence_id, reviewer, tags, status, note, version, created_at, "
     "updated_at) SELECT case_id, evidence_id, reviewer, '[]', 'unreviewed', '', 1, created_at, updated_at FROM reviews"),
    ("UPDATE OR REPLACE reviews", "sqlite", "UPDATE OR REPLACE reviews SET reviewer = 'alice'"),
    ("REPLACE reconciliations", "sqlite",
     "REPLACE INTO reconciliations (case_id, evidence_id, editor, sms_grade, reason, version, created_at, updated_at) "
     "SELECT case_id, evidence_id, 'mallory', 1, 'x', 1, created_at, updated_at FROM reconciliations"),
    ("REPLACE independent_grades", "sqlite",
     "REPLACE INTO independent_grades (review_id, sms_grade, submitted_at, blind) "
     "SELECT review_id, 5, submitted_at, 0 FROM independent_grades"),
    ("INSERT OR REPLACE users", "sqlite",
     "INSERT OR REPLACE INTO users (name, password_hash, role, disabled, created_at, updated_at, session_epoch) "
     "VALUES ('alice', 'x', 'admin', 0, '', '', 0)"),
]


def everything(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(sorted(tuple(map(str, row)) for row in conn.execute(select(table))) for table in TABLES)


CASES = [(dialect, name, sql) for name, dialects, sql in STATEMENTS for dialect in ("sqlite", "postgresql")
         if dialects in ("*", dialect)]


@pytest.mark.parametrize("db_url,name,sql", CASES, ids=[f"{d}-{n}" for d, n, _ in CASES], indirect=["db_url"])
def test_no_statement_rewrites_history(env, name, sql):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    create_review(env.engine, env["bob"], FIRST, {**GRADED, "sms_grade": 4})
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3}, "agreed")
    before = everything(env.engine)
    with pytest.raises(DBAPIError, match="append-only|never|written once"):
        with env.engine.begin() as conn:
            conn.execute(text(sql))
    assert everything(env.engine) == before


# --- blind grading --------------------------------------------------------------------------------

def test_a_placeholder_edited_after_the_reveal_is_not_agreement(env):
    """alice submits a placeholder 1, sees bob's 4 (blind mode lifts), edits hers to 4."""
    alice = create_review(env.engine, env["alice"], FIRST, {**GRADED, "sms_grade": 1, "confidence": "low"})
    create_review(env.engine, env["bob"], FIRST, {**GRADED, "sms_grade": 4})
    update_review(env.engine, env["alice"], alice.id, {"sms_grade": 4, "confidence": "moderate"}, alice.version)
    report = agreement(env.engine, env["ed"])
    assert report.overall["sms_grade"].percent == 0.0            # 1 against 4, as first submitted
    assert [d.values for d in report.disagreements if d.field == "sms_grade"] == [{"alice": 1, "bob": 4}]
    assert report.revised == [{"target": str(FIRST), "reviewer": "alice",
                               "independent": {"sms_grade": 1, "confidence": "low", "relevance": "high"},
                               "now": {"sms_grade": 4, "confidence": "moderate", "relevance": "high"}}]
    first = independent_grades_of(env.engine, [alice.id])[alice.id]
    assert (first.sms_grade, first.confidence, first.blind) == (1, "low", True)


def test_only_the_first_submission_counts(env):
    draft = create_review(env.engine, env["alice"], FIRST, {"status": "in-review", "sms_grade": 2})
    assert independent_grades_of(env.engine, [draft.id]) == {}            # a draft is not a submission
    submitted = update_review(env.engine, env["alice"], draft.id, {**GRADED, "sms_grade": 3}, draft.version)
    back = update_review(env.engine, env["alice"], draft.id, {"status": "in-review"}, submitted.version)
    update_review(env.engine, env["alice"], draft.id, {**GRADED, "sms_grade": 5}, back.version)
    assert independent_grades_of(env.engine, [draft.id])[draft.id].sms_grade == 3


def test_the_item_page_shows_the_revision(env, app_factory):
    alice = create_review(env.engine, env["alice"], FIRST, {**GRADED, "sms_grade": 1})
    create_review(env.engine, env["bob"], FIRST, GRADED)
    update_review(env.engine, env["alice"], alice.id, {"sms_grade": 3}, alice.version)
    client = app_factory({"ROOT": str(env.root), "WTF_CSRF_ENABLED": False}).test_client()
    client.post("/signin", data={"name": "ed", "password": PASSWORD})
    page = BeautifulSoup(client.get(f"/reviews/item/{FIRST}").data, "html.parser")
    revised = page.select(".revised")
    assert len(revised) == 1 and "revised after the reveal" in revised[0].get_text() and "SMS 1" in revised[0].get_text()
    agreement_page = client.get("/reviews/agreement").get_data(as_text=True)
    assert "Grades revised after the reveal" in agreement_page and "SMS grade 1 → 3" in agreement_page


def test_nothing_of_an_unreconciled_review_is_public(env, app_factory):
    from kb.reviews.service import add_tag
    add_tag(env.engine, env["ed"], "small-sample", "Small sample", public=True)
    create_review(env.engine, env["alice"], FIRST, {**GRADED, "tags": ["small-sample"]})
    create_review(env.engine, env["bob"], FIRST, {**GRADED, "tags": ["small-sample"]})
    assert public_view(env.engine) == {}
    client = app_factory({"ROOT": str(env.root)}).test_client()
    page = client.get("/cases/first").get_data(as_text=True)
    assert "small-sample" not in page and "Small sample" not in page
    assert client.get("/search?review=reviewed").status_code == 400      # readers see reconciled or not
    assert client.get("/search?review=in-review").status_code == 400
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3}, "agreed")
    assert public_view(env.engine)[str(FIRST)].tags == ["small-sample"]
    facet = client.get("/api/search").get_json()
    page = BeautifulSoup(client.get("/search").data, "html.parser")
    review_facet = [s for s in page.select(".facet") if s.h2.get_text() == "Review"][0]
    assert {a.get_text() for a in review_facet.select("a")} == {"reconciled", "unreviewed"}
    assert facet["total"] == 2


# --- every export imports back into an empty database ---------------------------------------------

GRADES = st.one_of(st.none(), st.integers(1, 5))
CONFIDENCES = st.one_of(st.none(), st.sampled_from(["high", "moderate", "low", "very-low"]))
RELEVANCES = st.one_of(st.none(), st.sampled_from(["high", "moderate", "low", "none"]))
NOTES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
TARGETS = ["first/overdose-deaths", "first/referrals", "first", "second", "second/overdose-deaths"]
STEP = st.fixed_dictionaries({
    "reviewer": st.sampled_from(["alice", "bob", "carol", "ed"]), "target": st.sampled_from(TARGETS),
    "sms_grade": GRADES, "confidence": CONFIDENCES, "relevance": RELEVANCES, "note": NOTES,
    "tags": st.lists(st.sampled_from(["a", "b-c", "small-sample"]), max_size=3),
    "status": st.sampled_from(["unreviewed", "in-review", "reviewed", "disputed"]),
    "reconcile": st.booleans(),
    # coding questions (issue 14): a ROBINS-I domain of an item; a number and a multiple choice of a case
    "answers": st.fixed_dictionaries({
        "robins-d1": st.one_of(st.none(), st.sampled_from(["low", "moderate", "serious", "critical", "no-information"])),
        "count": st.one_of(st.none(), st.integers(-5, 10 ** 6), st.floats(allow_nan=False, allow_infinity=False)),
        "kinds": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3)}),
})
CASE_QUESTIONS = ("count", "kinds")


def _apply(env, step) -> None:
    from kb.reviews.errors import ConflictError, InvalidReview
    from kb.reviews.records import parse_target
    from kb.reviews.service import get_reconciliation, reviews_of
    actor, target = env[step["reviewer"]], parse_target(step["target"])
    values = {k: step[k] for k in ("sms_grade", "confidence", "relevance", "note", "tags", "status")}
    values["answers"] = {k: v for k, v in step.get("answers", {}).items()
                         if (k in CASE_QUESTIONS) == (target.scope == "case")}
    try:
        mine = [r for r in reviews_of(env.engine, target) if r.reviewer == actor.name]
        if mine:
            update_review(env.engine, actor, mine[0].id, values, mine[0].version)
        else:
            create_review(env.engine, actor, target, values)
        if step["reconcile"] and step["sms_grade"]:
            current = get_reconciliation(env.engine, target)
            reconcile(env.engine, env["ed"], target, {"sms_grade": step["sms_grade"], "confidence": step["confidence"],
                                                      "answers": values["answers"]},
                      step["note"].strip() or "reason", version=current.version if current else None)
    except (InvalidReview, ConflictError):
        pass   # refused by the service, as the form would be: nothing to export


def _empty_database(tmp_path, name: str):
    engine = storage.make_engine(f"sqlite:///{tmp_path / name}")
    storage.upgrade(engine)
    return engine


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A built knowledge base with its accounts, copied afresh for every generated history."""
    import pytest as _pytest
    from argon2 import PasswordHasher
    from conftest import BIB, case_text
    from test_reviews import CASES

    from kb.storage.build import build
    root = tmp_path_factory.mktemp("template") / "root"
    (root / "case_studies").mkdir(parents=True)
    for name, body in CASES.items():
        (root / "case_studies" / name).write_text(body, encoding="utf-8")
    (root / "bibliography.bib").write_text(BIB, encoding="utf-8")
    assert case_text
    with _pytest.MonkeyPatch.context() as patch:
        patch.delenv("KB_DATABASE_URL", raising=False)
        patch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        build(root)
        engine = storage.make_engine(f"sqlite:///{root / '.kb' / 'kb.sqlite3'}")
        for user, role in USERS.items():
            accounts.add_user(engine, system_actor(), user, role, PASSWORD)
        questions.install_set(engine, system_actor(), "robins-i")
        questions.edit_question(engine, system_actor(), "robins-d1", {"help": "Confounding, reworded"}, version=1)
        questions.add_question(engine, system_actor(), questions.Question("count", "How many sites?", "case", "number"))
        questions.add_question(engine, system_actor(), questions.Question(
            "kinds", "Kinds", "case", "multiple", (("a", "A"), ("b", "B"), ("c", "C"))))
        engine.dispose()
    return root


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(STEP, min_size=1, max_size=12))
@example([{"reviewer": "alice", "target": "first", "sms_grade": None, "confidence": None, "relevance": None,
           "note": "\r", "tags": [], "status": "unreviewed", "reconcile": False}])   # a note of a lone CR
def test_every_export_imports_back_into_an_empty_database(template, tmp_path_factory, steps):
    """Generated histories of reviews and reconciliations; their JSON, CSV and backup exports all
    import into an empty database with no accounts, and export again to the same records."""
    import shutil

    from test_reviews import Env
    tmp_path = tmp_path_factory.mktemp("round")
    shutil.copy(template / ".kb" / "kb.sqlite3", tmp_path / "kb.sqlite3")
    engine = storage.make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    env = Env(template, engine, {u.name: u for u in accounts.list_users(engine)})
    for step in steps:
        _apply(env, step)
    exported = export_records(engine)
    sources = {}
    for fmt in ("json", "csv"):
        sources[fmt] = tmp_path / f"reviews.{fmt}"
        sources[fmt].write_text(dumps(exported, fmt), encoding="utf-8", newline="")
    folder = backup(engine, tmp_path / "backups").folder
    sources.update({f"backup {fmt}": folder / f"reviews.{fmt}" for fmt in ("json", "csv")})
    for name, path in sources.items():
        empty = _empty_database(tmp_path, f"{name}.sqlite3")        # no accounts: the import makes them
        report = import_records(empty, system_actor(), load_file(path))
        assert report.created == len(exported), name
        assert export_records(empty) == exported, name
        assert independent_count(empty) == independent_count(engine), name
        again = import_records(empty, system_actor(), load_file(path))
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(exported)), name
        empty.dispose()
    engine.dispose()


def independent_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(independent_grades)).scalar()


def test_a_reconciliation_without_confidence_imports(env, tmp_path):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3}, "the form leaves confidence out")
    for fmt in ("json", "csv"):
        path = tmp_path / f"r.{fmt}"
        path.write_text(dumps(export_records(env.engine), fmt), encoding="utf-8", newline="")
        empty = _empty_database(tmp_path, f"r-{fmt}.sqlite3")
        import_records(empty, system_actor(), load_file(path))
        assert export_records(empty) == export_records(env.engine)
        empty.dispose()


# --- private files --------------------------------------------------------------------------------

def test_backups_are_private(env, tmp_path):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    folder = backup(env.engine, tmp_path / "backups").folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert os.listdir(tmp_path / "backups") == [folder.name]
