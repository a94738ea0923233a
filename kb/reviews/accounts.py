"""Accounts: add, list, verify a password, change a role, disable, reset a password.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile:
64 MiB, 3 passes), memory-hard so a stolen database is expensive to crack. Hashes never leave
this module: not in `User`, not in the audit log, not in exports. Accounts are never deleted,
only disabled, so the audit log's names always resolve.
"""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..errors import KbError, UnknownIdError
from . import audit
from .roles import User, acting
from .tables import now, reading, users, writing
from .vocab import MIN_PASSWORD, ROLES, USER_NAME

_hasher = PasswordHasher()
_dummy_hash: str | None = None  # made on first use: hashing at import slowed every `kb` command by 75 ms


def _dummy() -> str:
    """A hash to verify against when the name is unknown, so that timing does not reveal names."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("timing-equaliser-not-a-password")
    return _dummy_hash


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_password(password: str) -> None:
    """Length is what resists guessing; no composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD:
        raise KbError(f"password too short: use at least {MIN_PASSWORD} characters")


def check_name(name: str) -> None:
    if not USER_NAME.match(name):
        raise KbError(f"invalid user name {name!r}: use 1-64 of a-z 0-9 . _ - starting with a letter or digit")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise KbError(f"unknown role {role!r}; choose from: {', '.join(ROLES)}")


def _user(row) -> User:
    return User(row.name, row.role, bool(row.disabled), row.id, row.created_at, row.session_epoch)


def list_users(bind: Engine | Connection) -> list[User]:
    with reading(bind) as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def get_user(bind: Engine | Connection, name: str) -> User:
    with reading(bind) as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            known = ", ".join(r.name for r in conn.execute(select(users.c.name).order_by(users.c.name))) or "none yet"
            raise UnknownIdError(f"unknown user {name!r}; known users: {known}")
    return _user(row)


def add_user(engine: Engine, actor: User, name: str, role: str, password: str) -> User:
    check_name(name)
    check_role(role)
    password_hash = hash_password(password)
    with writing(engine) as conn:
        acting(conn, actor, "account.manage")
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise KbError(f"user {name!r} already exists; use `kb user set-role` or `kb user reset-password`")
        stamp = now()
        conn.execute(insert(users).values(name=name, password_hash=password_hash, role=role, disabled=False,
                                          created_at=stamp, updated_at=stamp))
        audit.record(conn, actor.name, "user.add", f"user:{name}", None, {"role": role, "disabled": False})
    return get_user(engine, name)


UNUSABLE_HASH = "!imported"  # not an Argon2 hash: every password fails against it


def add_disabled_account(conn: Connection, actor: User, name: str, role: str) -> None:
    """An account for a reviewer named in an import but unknown here: disabled, with no usable
    password, until an admin enables it and sets one (`kb user enable`, `kb user reset-password`)."""
    acting(conn, actor, "account.manage")
    check_name(name)
    stamp = now()
    conn.execute(insert(users).values(name=name, password_hash=UNUSABLE_HASH, role=role, disabled=True,
                                      created_at=stamp, updated_at=stamp))
    audit.record(conn, actor.name, "user.add", f"user:{name}", None, {"role": role, "disabled": True, "imported": True})


def _change(engine: Engine, actor: User, name: str, action: str, values: dict, shown: dict) -> User:
    """One account change with its audit entry; `shown` is what the log may say about it. Every
    change of role, password or state also ends the user's sessions (a new session epoch)."""
    with writing(engine) as conn:
        acting(conn, actor, "account.manage")
        before = get_user(conn, name)
        conn.execute(update(users).where(users.c.name == name)
                     .values(**values, session_epoch=users.c.session_epoch + 1, updated_at=now()))
        audit.record(conn, actor.name, action, f"user:{name}",
                     {k: getattr(before, k) for k in shown}, shown)
    return get_user(engine, name)


def set_role(engine: Engine, actor: User, name: str, role: str) -> User:
    check_role(role)
    return _change(engine, actor, name, "user.set-role", {"role": role}, {"role": role})


def disable_user(engine: Engine, actor: User, name: str) -> User:
    return _change(engine, actor, name, "user.disable", {"disabled": True}, {"disabled": True})


def enable_user(engine: Engine, actor: User, name: str) -> User:
    return _change(engine, actor, name, "user.enable", {"disabled": False}, {"disabled": False})


def reset_password(engine: Engine, actor: User, name: str, password: str) -> User:
    """The log records that a reset happened, never the hash."""
    return _change(engine, actor, name, "user.reset-password", {"password_hash": hash_password(password)}, {})


def end_sessions(engine: Engine, name: str) -> None:
    """Sign-out: every session of `name`, on every device, ends now."""
    with writing(engine) as conn:
        conn.execute(update(users).where(users.c.name == name).values(session_epoch=users.c.session_epoch + 1))


def verify(engine: Engine, name: str, password: str) -> User | None:
    """The user if the password is right and the account active, else None (the web layer rate
    limits failures). An unknown name costs a hash too, so timing does not reveal which names exist."""
    with reading(engine) as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy(), password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with writing(engine) as conn:
            conn.execute(update(users).where(users.c.name == name).values(password_hash=_hasher.hash(password)))
            audit.record(conn, name, "user.rehash", f"user:{name}", None, None)
    return _user(row)
