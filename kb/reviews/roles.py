"""Who is acting, and whether their role allows an action (the table is `vocab.ROLE_ADDS`).

Every service function takes the acting `User` and checks here before it touches anything, so the
web layer cannot forget a check. The role is read again from the database inside the transaction:
a session that outlives a `kb user disable` or `set-role` gets the new rights at once.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .errors import PermissionDenied
from .tables import users
from .vocab import ACTION_WORDS, ACTIONS, allowed_actions, roles_allowed

SYSTEM_PREFIX = "cli:"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool = False
    id: int | None = None
    created_at: str = ""
    session_epoch: int = 0   # sessions made before the epoch last changed are no longer valid

    @property
    def is_system(self) -> bool:
        return self.name.startswith(SYSTEM_PREFIX)

    def can(self, action: str) -> bool:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        return not self.disabled and action in allowed_actions(self.role)

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "disabled": self.disabled, "created_at": self.created_at}


ANONYMOUS = User("", "reader")


def system_actor() -> User:
    """The operator at the command line: whoever can run `kb` on the data folder can already read
    and write the database file, so the CLI acts as an admin, recorded as `cli:<login>`."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return User(f"{SYSTEM_PREFIX}{login}", "admin")


def require(user: User, action: str) -> None:
    if not user.can(action):
        raise PermissionDenied(refusal(user, action))


def refusal(user: User, action: str) -> str:
    """Why `user` may not do `action`, in plain words: who may, and who the user is."""
    roles = [f"{role}s" for role in roles_allowed(action)]
    who = " and ".join([", ".join(roles[:-1]), roles[-1]] if len(roles) > 1 else roles)
    words = f"{ACTION_WORDS.get(action, action.replace('.', ' ').capitalize() + ' is')} for {who}"
    if not user.name:
        return f"{words}: sign in first"
    if user.disabled:
        return f"{words}; the account {user.name!r} is disabled"
    article = "an" if user.role[:1] in "aeiou" else "a"
    return f"{words}; you are signed in as {user.name!r}, {article} {user.role}"


def acting(conn: Connection, user: User, action: str) -> User:
    """`user` as the database knows it now, checked for `action`."""
    if not user.is_system and user.name:
        row = conn.execute(select(users.c.role, users.c.disabled, users.c.id, users.c.created_at)
                           .where(users.c.name == user.name)).first()
        if row is None:
            raise PermissionDenied(f"user {user.name!r} does not exist")
        user = User(user.name, row.role, bool(row.disabled), row.id, row.created_at)
    require(user, action)
    return user
