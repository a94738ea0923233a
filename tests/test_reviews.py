"""Reviews: permissions by role, hostile notes, blind mode, optimistic locking and concurrent saves,
the audit log, orphans across rebuilds, former ids, queue, reconciliation, public view, migrations.
Storage tests run on SQLite and PostgreSQL (`db_url`)."""
from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from bs4 import BeautifulSoup
from conftest import case_text
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from kb import storage
from kb.content.loader import load_collection
from kb.errors import UnknownIdError
from kb.reviews import accounts, audit, notes
from kb.reviews.agreement import agreement
from kb.reviews.errors import ConflictError, InvalidReview, PermissionDenied
from kb.reviews import assign, calibration, discussion, questions
from kb.reviews.io import export_records, robvis_rows
from kb.reviews.orphans import follow_former_ids, orphaned_reconciliations, orphaned_reviews
from kb.reviews.roles import ANONYMOUS, User, system_actor
from kb.reviews.service import (
    Target,
    add_tag,
    create_review,
    get_review,
    public_view,
    reconcile,
    render_note,
    review_queue,
    reviews_of,
    set_setting,
    todo_list,
    update_review,
    visible_reviews,
)
from kb.reviews.tables import audit_log, reviews
from kb.reviews.views import review_state_by_case
from kb.storage.build import build

PASSWORD = "correct horse battery staple"
USERS = {"alice": "reviewer", "bob": "reviewer", "carol": "reviewer", "ed": "editor", "ada": "admin", "rita": "reader"}
EVIDENCE = textwrap.dedent("""\
    evidence:
      - id: overdose-deaths
        claim: Overdose deaths near the site fell.
        cite: "[@doe2020policing, p. 5]"
        outcome: public-health
        direction: improved
        design: before-after
        strength: 3
      - id: referrals
        claim: Police referrals to treatment rose.
        cite: "[@doe2020policing, p. 7]"
        outcome: public-health
        direction: improved
        design: before-after""")
CASES = {
    "first.md": case_text("first", evidence=EVIDENCE),
    "second.md": case_text("second", themes="[tolerated-cannabis-markets]",
                           body="Body [@roe2015cannabis, ch. 2].\n"),
}
GRADED = {"sms_grade": 3, "confidence": "moderate", "relevance": "high", "status": "reviewed"}
FIRST = Target("first", "overdose-deaths")


@dataclass
class Env:
    root: Path
    engine: Engine
    users: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


@pytest.fixture
def cheap_hashing(monkeypatch):
    """Argon2 at its production cost (64 MiB) takes ~75 ms a hash; tests only need it to work."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def env(kb_root, db_url, cheap_hashing):
    root = kb_root(CASES)
    build(root)
    engine = storage.make_engine(db_url)
    made = {name: accounts.add_user(engine, system_actor(), name, role, PASSWORD) for name, role in USERS.items()}
    yield Env(root, engine, made)
    engine.dispose()


def count(engine: Engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def snapshot(engine: Engine) -> tuple:
    return (count(engine, audit_log), [r.to_dict() for r in reviews_of(engine, FIRST)])


# --- permissions: role x action -> allowed --------------------------------------------------------

def _own_review(env: Env, actor: User):
    create_review(env.engine, actor, FIRST, GRADED)


def _update_others(env: Env, actor: User):
    theirs = create_review(env.engine, env["carol"], Target("second", "overdose-deaths"), GRADED)
    update_review(env.engine, actor, theirs.id, {"note": "mine now"}, theirs.version)


ACTIONS = {
    "read reviews": lambda env, actor: visible_reviews(env.engine, FIRST, actor),
    "write own review": _own_review,
    "edit another's review": _update_others,
    "reconcile": lambda env, actor: reconcile(env.engine, actor, FIRST, {"sms_grade": 3}, "both said 3"),
    "manage tags": lambda env, actor: add_tag(env.engine, actor, "small-sample", "Small sample"),
    "switch blind mode": lambda env, actor: set_setting(env.engine, actor, "blind_mode", False),
    "see history": lambda env, actor: audit.history(env.engine, actor, str(FIRST)),
    "see agreement": lambda env, actor: agreement(env.engine, actor),
    "export reviews": lambda env, actor: export_records(env.engine, actor),
    "manage accounts": lambda env, actor: accounts.add_user(env.engine, actor, "zed", "reviewer", PASSWORD),
    "define questions": lambda env, actor: questions.install_set(env.engine, actor, "robins-i"),
    "assign items": lambda env, actor: assign.assign(env.engine, actor, ["alice"], targets=[FIRST]),
    "write a discussion note": lambda env, actor: discussion.set_discussion(env.engine, actor, FIRST, "Look again",
                                                                           None),
    "export robvis": lambda env, actor: robvis_rows(env.engine, actor),
    "see calibration": lambda env, actor: calibration.calibration(env.engine, actor, {}),
}
ALLOWED = {  # the table of the issue: roles are cumulative; nobody edits another's review
    "reader": set(),
    "reviewer": {"read reviews", "write own review"},
    "editor": {"read reviews", "write own review", "reconcile", "manage tags", "switch blind mode", "see history",
               "see agreement", "export reviews", "define questions", "assign items", "write a discussion note",
               "export robvis", "see calibration"},
    "admin": set(ACTIONS) - {"edit another's review"},
}
MATRIX = [(role, action, action in ALLOWED[role]) for role in ALLOWED for action in ACTIONS]


@pytest.mark.parametrize("role, action, allowed", MATRIX, ids=[f"{r}-{a}" for r, a, _ in MATRIX])
def test_role_permissions(env, role, action, allowed):
    actor = {"reader": "rita", "reviewer": "alice", "editor": "ed", "admin": "ada"}[role]
    create_review(env.engine, env["bob"], FIRST, GRADED)
    if allowed:
        ACTIONS[action](env, env[actor])
        return
    before = snapshot(env.engine)
    with pytest.raises(PermissionDenied):
        ACTIONS[action](env, env[actor])
    if action != "edit another's review":  # that one's setup wrote carol's review first
        assert snapshot(env.engine) == before


@pytest.mark.parametrize("action", ["read reviews", "write own review", "reconcile"])
def test_anonymous_and_disabled_users_are_refused(env, action):
    accounts.disable_user(env.engine, system_actor(), "ed")
    for actor in (ANONYMOUS, env["ed"], User("ghost", "admin")):
        before = snapshot(env.engine)
        with pytest.raises(PermissionDenied):
            ACTIONS[action](env, actor)
        assert snapshot(env.engine) == before


def test_role_is_read_from_the_database_not_the_session(env):
    stale = env["alice"]
    accounts.set_role(env.engine, system_actor(), "alice", "reader")
    with pytest.raises(PermissionDenied):
        create_review(env.engine, stale, FIRST, GRADED)


# --- hostile notes -------------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    "[click](javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"java&#9;script:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<p style=\"width: expression(alert(1))\">x</p>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:/\">",
    "<a href=\"#\" onclick=\"alert(1)\" id=\"clobber\" class=\"x\">x</a>",
    "<!--<img src=x onerror=alert(1)>-->",
    "*emphasis*{: onclick=\"alert(1)\" }",
]


@pytest.mark.parametrize("payload", XSS)
def test_hostile_notes_are_sanitised(payload):
    html = render_note(payload)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name in notes.ALLOWED_TAGS, html
        for name, value in tag.attrs.items():
            assert name in notes.ALLOWED_ATTRIBUTES.get(tag.name, set()) | {"rel"}, html
            value = " ".join(value) if isinstance(value, list) else value
            assert "script" not in value.lower() and "data:" not in value.lower(), html
        if tag.name == "a" and tag.get("href"):
            assert tag["href"].split(":")[0] in {"http", "https", "mailto"} or ":" not in tag["href"], html
    assert "<script" not in html.lower()


def test_plain_markdown_notes_render():
    html = render_note("**Small** sample; see [the report](https://example.org/r).\n\n- one\n- two")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.strong.text == "Small"
    assert soup.a["href"] == "https://example.org/r" and soup.a["rel"] == ["nofollow", "noopener", "noreferrer"]
    assert [li.text for li in soup.find_all("li")] == ["one", "two"]


def test_note_is_stored_raw(env):
    review = create_review(env.engine, env["alice"], FIRST, {**GRADED, "note": "<script>x</script> **b**"})
    assert get_review(env.engine, review.id).note == "<script>x</script> **b**"


# --- blind mode ----------------------------------------------------------------------------------

def test_blind_mode_hides_others_grades_until_own_is_submitted(env):
    create_review(env.engine, env["alice"], FIRST, {**GRADED, "note": "alice's reasons", "tags": ["small-sample"]})
    seen = {r.reviewer: r for r in visible_reviews(env.engine, FIRST, env["bob"])}
    assert seen["alice"].hidden and seen["alice"].sms_grade is None and seen["alice"].note == ""
    assert seen["alice"].tags == [] and seen["alice"].confidence is None
    draft = create_review(env.engine, env["bob"], FIRST, {"sms_grade": 4, "status": "in-review"})
    seen = {r.reviewer: r for r in visible_reviews(env.engine, FIRST, env["bob"])}
    assert seen["alice"].hidden and not seen["bob"].hidden and seen["bob"].sms_grade == 4
    update_review(env.engine, env["bob"], draft.id, {**GRADED, "sms_grade": 4}, draft.version)
    seen = {r.reviewer: r for r in visible_reviews(env.engine, FIRST, env["bob"])}
    assert seen["alice"].sms_grade == 3 and seen["alice"].note == "alice's reasons" and not seen["alice"].hidden


def test_editors_see_everything_and_blind_mode_can_be_switched_off(env):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    assert visible_reviews(env.engine, FIRST, env["ed"])[0].sms_grade == 3
    assert visible_reviews(env.engine, FIRST, env["bob"])[0].hidden
    set_setting(env.engine, env["ed"], "blind_mode", False)
    assert visible_reviews(env.engine, FIRST, env["bob"])[0].sms_grade == 3
    assert audit.entries(env.engine, action="setting.change")[-1].after == {"value": False}


# --- validation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("values, field, message", [
    ({"sms_grade": 6}, "sms_grade", "must be an integer 1-5, not 6"),
    ({"sms_grade": "3"}, "sms_grade", "must be an integer 1-5, not '3'"),
    ({"confidence": "certain"}, "confidence", "'certain' is not one of: high, moderate, low, very-low"),
    ({"relevance": "very"}, "relevance", "'very' is not one of: high, moderate, low, none"),
    ({"tags": ["Not A Slug"]}, "tags", "invalid tag 'Not A Slug': use [a-z0-9][a-z0-9-]*, at most 64 characters"),
    ({"status": "done"}, "status", "'done' is not one of: unreviewed, in-review, reviewed, disputed, reconciled"),
    ({"status": "reconciled", "sms_grade": 3, "confidence": "low"}, "status",
     "reconciled is set by an editor's reconciliation"),
    ({"status": "reviewed"}, "sms_grade", "is required when the status is reviewed"),
    ({"note": "x" * 20_001}, "note", "too long: 20001 characters, at most 20000"),
    ({"grade": 3}, "grade", "unknown field; use: sms_grade, confidence, relevance, tags, status, note, answers"),
])
def test_invalid_values_are_refused_by_field(env, values, field, message):
    with pytest.raises(InvalidReview) as caught:
        create_review(env.engine, env["alice"], FIRST, values)
    assert caught.value.errors[field] == message
    assert count(env.engine, reviews) == 0


def test_reviewing_an_unknown_item_is_refused(env):
    with pytest.raises(UnknownIdError, match="no case or evidence item 'first/nope'"):
        create_review(env.engine, env["alice"], "first/nope", GRADED)


def test_a_reviewer_has_one_review_per_item(env):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    with pytest.raises(ConflictError, match="you already have a review of first/overdose-deaths"):
        create_review(env.engine, env["alice"], FIRST, GRADED)


# --- optimistic locking and concurrent saves -----------------------------------------------------

def test_stale_version_is_refused_and_changes_nothing(env):
    review = create_review(env.engine, env["alice"], FIRST, GRADED)
    update_review(env.engine, env["alice"], review.id, {"sms_grade": 4}, review.version)
    before = snapshot(env.engine)
    with pytest.raises(ConflictError, match="you edited version 1, it is now version 2") as caught:
        update_review(env.engine, env["alice"], review.id, {"sms_grade": 2, "note": "typed"}, review.version)
    assert caught.value.current.sms_grade == 4 and caught.value.current.version == 2
    assert snapshot(env.engine) == before


def _race(calls) -> tuple[list, list]:
    barrier, results, errors = threading.Barrier(len(calls)), [], []

    def run(call):
        barrier.wait()
        try:
            results.append(call())
        except ConflictError as exc:
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_saves_exactly_one_wins(env, round_):
    review = create_review(env.engine, env["alice"], FIRST, GRADED)
    calls = [lambda grade=grade: update_review(env.engine, env["alice"], review.id,
                                               {"sms_grade": grade, "note": f"save {grade}"}, review.version)
             for grade in (2, 5)]
    results, errors = _race(calls)
    assert len(results) == 1 and len(errors) == 1
    stored = get_review(env.engine, review.id)
    assert (stored.version, stored.sms_grade, stored.note) == (2, results[0].sms_grade, results[0].note)
    assert errors[0].current.version == 2
    updates = audit.entries(env.engine, action="review.update")
    assert len(updates) == 1 and updates[0].after["sms_grade"] == stored.sms_grade


def test_concurrent_first_saves_make_one_review(env):
    calls = [lambda: create_review(env.engine, env["alice"], FIRST, GRADED)] * 2
    results, errors = _race(calls)
    assert len(results) == 1 and len(errors) == 1
    assert count(env.engine, reviews) == 1 and len(audit.entries(env.engine, action="review.create")) == 1


# --- audit log -----------------------------------------------------------------------------------

def test_every_change_is_appended_to_the_audit_log(env):
    review = create_review(env.engine, env["alice"], FIRST, GRADED)
    update_review(env.engine, env["alice"], review.id, {"note": "second thoughts"}, 1)
    create_review(env.engine, env["bob"], FIRST, {**GRADED, "sms_grade": 4})
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3, "confidence": "moderate"}, "alice's design reading is right")
    history = audit.history(env.engine, env["ed"], str(FIRST))
    assert [(e.actor, e.action) for e in history] == [
        ("alice", "review.create"), ("alice", "review.update"), ("bob", "review.create"), ("ed", "reconcile"),
        ("ed", "review.reconciled"), ("ed", "review.reconciled")]
    assert history[1].before["note"] == "" and history[1].after["note"] == "second thoughts"
    assert history[1].after["version"] == 2 and history[0].before is None
    assert history[3].after["reason"] == "alice's design reading is right"
    users = audit.entries(env.engine, action="user.add")
    assert [e.target for e in users] == [f"user:{name}" for name in USERS]
    assert all("password" not in str(e.after) for e in audit.entries(env.engine))


@pytest.mark.parametrize("statement", [
    lambda: update(audit_log).values(actor="mallory"),
    lambda: delete(audit_log),
    lambda: delete(reviews),
])
def test_database_refuses_to_rewrite_history(env, statement):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    before = (count(env.engine, audit_log), count(env.engine, reviews))
    with pytest.raises(DBAPIError, match="append-only|never deleted"):
        with env.engine.begin() as conn:
            conn.execute(statement())
    assert (count(env.engine, audit_log), count(env.engine, reviews)) == before


@pytest.mark.parametrize("table", ["audit_log", "reviews", "reconciliations"])
def test_postgresql_refuses_truncate(env, table):
    if env.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite has no such statement)")
    create_review(env.engine, env["alice"], FIRST, GRADED)
    with pytest.raises(DBAPIError, match="append-only|never deleted"):
        with env.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table}"))
    assert count(env.engine, reviews) == 1


# --- orphans and former ids ----------------------------------------------------------------------

def test_reviews_survive_rebuilds_and_are_listed_as_orphaned(env):
    create_review(env.engine, env["alice"], Target("second", "overdose-deaths"), GRADED)
    create_review(env.engine, env["alice"], Target("second"), GRADED)
    kept = create_review(env.engine, env["alice"], Target("first", "referrals"), GRADED)
    reconcile(env.engine, env["ed"], Target("second", "overdose-deaths"), {"sms_grade": 3}, "one review, checked")
    (env.root / "case_studies/second.md").unlink()
    first = env.root / "case_studies/first.md"
    first.write_text(first.read_text().split("  - id: referrals")[0] + "---\nBody.\n", encoding="utf-8")
    assert build(env.root).removed == ["second"]
    assert count(env.engine, reviews) == 3
    with env.engine.connect() as conn:
        orphans = orphaned_reviews(conn)
        assert [str(r.target) for r in orphans] == ["first/referrals", "second", "second/overdose-deaths"]
        assert [str(r.target) for r in orphaned_reconciliations(conn)] == ["second/overdose-deaths"]
    assert get_review(env.engine, kept.id).sms_grade == 3
    (env.root / "case_studies/second.md").write_text(CASES["second.md"], encoding="utf-8")
    build(env.root)
    with env.engine.connect() as conn:
        assert [str(r.target) for r in orphaned_reviews(conn)] == ["first/referrals"]


def test_reviews_follow_former_ids(env):
    moved = create_review(env.engine, env["alice"], FIRST, GRADED)
    create_review(env.engine, env["bob"], Target("first"), GRADED)
    reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3}, "agreed")
    (env.root / "case_studies/first.md").unlink()
    renamed = case_text("first-renamed", evidence=EVIDENCE, former_ids="[first]")
    (env.root / "case_studies/first-renamed.md").write_text(renamed, encoding="utf-8")
    cases = load_collection(env.root).cases

    def fail(conn):
        raise RuntimeError("build failed after moving")
    with pytest.MonkeyPatch.context() as patch:      # moves happen inside the build's transaction:
        patch.setattr("kb.reviews.orphans.orphaned_reviews", fail)  # a build failing later moves nothing
        with pytest.raises(RuntimeError):
            build(env.root)
    assert get_review(env.engine, moved.id).case_id == "first"
    report = build(env.root)            # the build moves them, in its own transaction
    assert sorted((m.kind, str(m.old), str(m.new), m.moved) for m in report.moved) == [
        ("reconciliation", "first/overdose-deaths", "first-renamed/overdose-deaths", True),
        ("review", "first", "first-renamed", True),
        ("review", "first/overdose-deaths", "first-renamed/overdose-deaths", True)]
    assert report.orphaned == []
    after = get_review(env.engine, moved.id)
    assert (str(after.target), after.version, after.sms_grade) == ("first-renamed/overdose-deaths", 3, 3)
    entry = audit.entries(env.engine, action="review.move")[0]
    assert entry.actor == "kb build" and entry.before["target"] in ("first", "first/overdose-deaths")
    with env.engine.connect() as conn:
        assert orphaned_reviews(conn) == []
    with env.engine.begin() as conn:
        assert follow_former_ids(conn, cases) == []


def test_former_id_clash_keeps_both_reviews(env):
    old = create_review(env.engine, env["alice"], FIRST, GRADED)
    (env.root / "case_studies/first.md").unlink()
    path = env.root / "case_studies/first-renamed.md"
    path.write_text(case_text("first-renamed", evidence=EVIDENCE), encoding="utf-8")
    assert [str(r.target) for r in build(env.root).orphaned] == ["first/overdose-deaths"]   # renamed, not declared
    new = create_review(env.engine, env["alice"], Target("first-renamed", "overdose-deaths"), GRADED)
    path.write_text(case_text("first-renamed", evidence=EVIDENCE, former_ids="[first]"), encoding="utf-8")
    report = build(env.root)
    assert [(m.moved, m.reason) for m in report.moved] == [(False, "alice already has a review of first-renamed/overdose-deaths")]
    assert get_review(env.engine, old.id).case_id == "first" and get_review(env.engine, new.id).version == 1


# --- queue, to-do list, reconciliation, public view ----------------------------------------------

def test_queue_lists_items_with_fewer_than_two_reviews(env):
    create_review(env.engine, env["alice"], FIRST, GRADED)
    create_review(env.engine, env["bob"], FIRST, GRADED)
    create_review(env.engine, env["alice"], Target("first", "referrals"), GRADED)
    create_review(env.engine, env["bob"], Target("first", "referrals"), {"status": "in-review"})
    queue = review_queue(env.engine, env["bob"])
    assert [(str(q.target), q.reviews, q.mine) for q in queue] == [
        ("second/overdose-deaths", 0, False), ("first/referrals", 1, True)]
    themed = review_queue(env.engine, env["bob"], theme="tolerated-cannabis-markets", include_cases=True)
    assert sorted(str(q.target) for q in themed) == ["second", "second/overdose-deaths"]
    assert [str(r.target) for r in todo_list(env.engine, env["bob"])] == ["first/referrals"]
    with pytest.raises(PermissionDenied):
        review_queue(env.engine, env["rita"])


def test_reconciliation_and_public_view(env):
    add_tag(env.engine, env["ed"], "small-sample", "Small sample", public=True)
    add_tag(env.engine, env["ed"], "internal", "Internal")
    create_review(env.engine, env["alice"], FIRST, {**GRADED, "tags": ["small-sample", "internal", "free-tag"],
                                                    "note": "secret"})
    bob = create_review(env.engine, env["bob"], FIRST, {**GRADED, "sms_grade": 4, "status": "disputed"})
    assert public_view(env.engine) == {}     # nothing of an unreconciled review is public, tags included
    with pytest.raises(InvalidReview, match="reason: is required"):
        reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3}, "  ")
    done = reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 3, "confidence": "moderate"}, "design is before-after")
    assert {r.status for r in reviews_of(env.engine, FIRST)} == {"reconciled"}
    assert get_review(env.engine, bob.id).version == 2
    view = public_view(env.engine, "first")
    assert view["first/overdose-deaths"].to_dict() == {"target": "first/overdose-deaths", "sms_grade": 3,
                                                       "confidence": "moderate", "relevance": None,
                                                       "tags": ["small-sample"]}
    assert "secret" not in str(view)
    with pytest.raises(ConflictError, match="first/overdose-deaths is already reconciled \\(version 1, by ed\\)"):
        reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 4}, "second editor")
    revised = reconcile(env.engine, env["ed"], FIRST, {"sms_grade": 4}, "re-read", version=done.version)
    assert revised.version == 2 and public_view(env.engine)["first/overdose-deaths"].sms_grade == 4


def test_public_view_is_kept_for_one_request_only(env):
    """The web reads the public view once per request (the search page asks three times); a write
    through the request's connection, or a later request after another host's write, sees the change."""
    from kb import knowledgebase
    kb = knowledgebase.KnowledgeBase(env.root)
    create_review(env.engine, env["alice"], FIRST, GRADED)
    with knowledgebase.session():
        assert kb.public_reviews() == {} and kb.review_states() == {}
        reconcile(kb.db, env["ed"], FIRST, {"sms_grade": 3}, "same request")
        assert kb.public_reviews()["first/overdose-deaths"].sms_grade == 3
        assert kb.review_states() == {"first": "reconciled"} == review_state_by_case(kb.db, public=True)
    second = Target("first", "referrals")
    create_review(env.engine, env["alice"], second, GRADED)
    reconcile(env.engine, env["ed"], second, {"sms_grade": 2}, "another host")   # a connection of its own
    with knowledgebase.session():
        assert sorted(kb.public_reviews()) == ["first/overdose-deaths", "first/referrals"]
    kb.close()


# --- migrations ----------------------------------------------------------------------------------

def test_upgrade_from_empty_and_from_0001(db_url):
    from alembic import command
    from alembic.config import Config
    engine = storage.make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", "kb:migrations")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0001"
    storage.upgrade(engine)
    storage.upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == storage.head_revision()
    assert count(engine, reviews) == 0 and count(engine, audit_log) == 0
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
        command.upgrade(config, "head")
    engine.dispose()


def test_fresh_database_has_the_whole_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect as sa_inspect
    engine = storage.make_engine(db_url)
    storage.upgrade(engine)
    with engine.connect() as conn:
        # PostgreSQL's search tables are the search backend's own (migration 0011, in SQL): left out
        # of the comparison, and there on PostgreSQL only
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, parent: not (kind == "table" and name.startswith("search_"))})
        assert compare_metadata(context, storage.metadata) == []
        search_tables = {name for name in sa_inspect(conn).get_table_names() if name.startswith("search_")}
        expected = {"search_documents", "search_words", "search_lexemes", "search_variants", "search_state"}
        assert search_tables == (expected if engine.dialect.name == "postgresql" else set())
    engine.dispose()
