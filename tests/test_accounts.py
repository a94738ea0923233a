"""Accounts: Argon2id hashing, verification, roles, disabling, password resets, and `kb user`.
Storage tests run on SQLite and PostgreSQL (`db_url`)."""
from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from test_reviews import PASSWORD, cheap_hashing  # noqa: F401  (fixture)

from kb import storage
from kb.cli import main
from kb.errors import KbError, UnknownIdError
from kb.reviews import accounts, audit
from kb.reviews.errors import PermissionDenied
from kb.reviews.roles import User, system_actor
from kb.reviews.vocab import ACTIONS, allowed_actions


@pytest.fixture
def engine(db_url, cheap_hashing):  # noqa: F811
    engine = storage.make_engine(db_url)
    storage.upgrade(engine)
    yield engine
    engine.dispose()


def test_passwords_are_hashed_with_argon2id_at_64_mib():
    hashed = accounts.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and "m=65536,t=3" in hashed
    assert PASSWORD not in hashed and PasswordHasher().verify(hashed, PASSWORD)


def test_verify(engine):
    accounts.add_user(engine, system_actor(), "alice", "reviewer", PASSWORD)
    assert accounts.verify(engine, "alice", PASSWORD) == accounts.get_user(engine, "alice")
    assert accounts.verify(engine, "alice", PASSWORD + "x") is None
    assert accounts.verify(engine, "nobody", PASSWORD) is None
    accounts.disable_user(engine, system_actor(), "alice")
    assert accounts.verify(engine, "alice", PASSWORD) is None
    accounts.enable_user(engine, system_actor(), "alice")
    assert accounts.verify(engine, "alice", PASSWORD).role == "reviewer"


def test_weak_hashes_are_upgraded_on_sign_in(engine, monkeypatch):
    accounts.add_user(engine, system_actor(), "alice", "reviewer", PASSWORD)
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    assert accounts.verify(engine, "alice", PASSWORD) is not None
    assert audit.entries(engine, action="user.rehash")[0].target == "user:alice"
    assert accounts.verify(engine, "alice", PASSWORD) is not None
    assert len(audit.entries(engine, action="user.rehash")) == 1


def test_role_changes_disabling_and_resets_are_audited_without_secrets(engine):
    admin = system_actor()
    accounts.add_user(engine, admin, "alice", "reviewer", PASSWORD)
    assert accounts.set_role(engine, admin, "alice", "editor").role == "editor"
    assert accounts.disable_user(engine, admin, "alice").disabled
    accounts.reset_password(engine, admin, "alice", "a brand new passphrase")
    accounts.enable_user(engine, admin, "alice")
    assert accounts.verify(engine, "alice", PASSWORD) is None
    assert accounts.verify(engine, "alice", "a brand new passphrase").name == "alice"
    log = audit.entries(engine, target="user:alice")
    assert [(e.action, e.before, e.after) for e in log] == [
        ("user.add", None, {"role": "reviewer", "disabled": False}),
        ("user.set-role", {"role": "reviewer"}, {"role": "editor"}),
        ("user.disable", {"disabled": False}, {"disabled": True}),
        ("user.reset-password", {}, {}),
        ("user.enable", {"disabled": True}, {"disabled": False})]
    assert all(e.actor == admin.name and e.actor.startswith("cli:") for e in log)


@pytest.mark.parametrize("name, role, password, message", [
    ("Alice", "reviewer", PASSWORD, "invalid user name 'Alice'"),
    ("al ice", "reviewer", PASSWORD, "invalid user name 'al ice'"),
    ("alice", "boss", PASSWORD, "unknown role 'boss'; choose from: reader, reviewer, editor, admin"),
    ("alice", "reviewer", "short", "password too short: use at least 12 characters"),
])
def test_bad_accounts_are_refused(engine, name, role, password, message):
    with pytest.raises(KbError, match=message):
        accounts.add_user(engine, system_actor(), name, role, password)
    assert accounts.list_users(engine) == []


def test_duplicate_and_unknown_users(engine):
    accounts.add_user(engine, system_actor(), "alice", "reviewer", PASSWORD)
    with pytest.raises(KbError, match="user 'alice' already exists"):
        accounts.add_user(engine, system_actor(), "alice", "admin", PASSWORD)
    with pytest.raises(UnknownIdError, match="unknown user 'bob'; known users: alice"):
        accounts.set_role(engine, system_actor(), "bob", "admin")


@pytest.mark.parametrize("role", ["reader", "reviewer", "editor"])
def test_only_admins_manage_accounts(engine, role):
    accounts.add_user(engine, system_actor(), "someone", role, PASSWORD)
    actor = accounts.get_user(engine, "someone")
    for attempt in (lambda: accounts.add_user(engine, actor, "zed", "admin", PASSWORD),
                    lambda: accounts.set_role(engine, actor, "someone", "admin"),
                    lambda: accounts.reset_password(engine, actor, "someone", PASSWORD + "!")):
        with pytest.raises(PermissionDenied):
            attempt()
    assert accounts.get_user(engine, "someone").role == role and len(accounts.list_users(engine)) == 1


def test_roles_are_cumulative():
    assert allowed_actions("reader") == frozenset()
    assert allowed_actions("reviewer") < allowed_actions("editor") < allowed_actions("admin") == frozenset(ACTIONS)
    assert not User("x", "admin", disabled=True).can("review.read")
    assert allowed_actions("superuser") == frozenset()


# --- kb user -------------------------------------------------------------------------------------

@pytest.fixture
def cli(runner, kb_root, db_url, cheap_hashing):  # noqa: F811
    root = kb_root()

    def run(*args, input=None):
        return runner.invoke(main, ["--root", str(root), *args], input=input)
    return run


def test_user_commands(cli):
    assert cli("user", "add", "alice", "--role", "reviewer", input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0
    added = cli("user", "add", "bob", "--role", "editor", "--password-stdin", input=PASSWORD + "\n")
    assert (added.exit_code, added.output) == (0, "added bob (editor)\n")
    assert cli("user", "set-role", "alice", "editor").output == "alice is now editor\n"
    assert cli("user", "disable", "bob").output == "disabled bob\n"
    listed = json.loads(cli("user", "list", "--format", "json").output)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("alice", "editor", False), ("bob", "editor", True)]
    text = cli("user", "list").output.splitlines()
    assert text[0].split()[:3] == ["alice", "editor", "active"] and text[1].split()[:3] == ["bob", "editor", "disabled"]
    reset = cli("user", "reset-password", "alice", "--password-stdin", input="another long passphrase\n")
    assert reset.output == "password of alice reset\n"
    assert cli("user", "enable", "bob").output == "enabled bob\n"


def test_password_prompt_asks_twice(cli):
    result = cli("user", "add", "alice", "--role", "reviewer", input=f"{PASSWORD}\nother password!!\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0
    assert "do not match" in result.output and result.output.count("Repeat for confirmation") == 2


@pytest.mark.parametrize("args, input, message, code", [
    (["user", "add", "alice", "--role", "boss"], None, "'boss' is not one of 'reader', 'reviewer', 'editor', 'admin'", 2),
    (["user", "add", "Alice!", "--role", "reviewer"], None, "invalid user name 'Alice!'", 2),
    (["user", "add", "alice", "--role", "reviewer", "--password-stdin"], "short\n",
     "Error: password too short: use at least 12 characters", 2),
    (["user", "add", "carol", "--role", "reviewer", "--password-stdin"], PASSWORD + "\n",
     "Error: user 'carol' already exists; use `kb user set-role` or `kb user reset-password`", 1),
    (["user", "set-role", "nobody", "admin"], None, "Error: unknown user 'nobody'; known users: carol", 2),
    (["user", "set-role", "carol", "king"], None, "'king' is not one of 'reader', 'reviewer', 'editor', 'admin'", 2),
    (["user", "disable", "nobody"], None, "Error: unknown user 'nobody'; known users: carol", 2),
    (["user", "reset-password", "nobody", "--password-stdin"], PASSWORD + "\n",
     "Error: unknown user 'nobody'; known users: carol", 2),
])
def test_user_command_errors(cli, args, input, message, code):
    assert cli("user", "add", "carol", "--role", "reviewer", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    result = cli(*args, input=input)
    assert (result.exit_code, message in result.output) == (code, True), result.output
    assert "Traceback" not in result.output
