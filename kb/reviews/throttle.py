"""Failed sign-ins counted in the database, shared by every worker process and host.

Each attempt first *reserves* a place under every limit that applies to it (the account from this
address, the account from anywhere, this address for any account): one `INSERT ... ON CONFLICT DO
UPDATE ... RETURNING count` per key, in one transaction, which SQLite and PostgreSQL both run
atomically. The password is checked only if every count is within its limit, so a burst of
concurrent guesses cannot get more than the limit through (there is no check-then-act gap). A
correct password gives its reservation back. Keys are hashed: names and addresses are never stored.

The per-account-and-address limit is the tight one; the per-account limit stops guesses spread
over many addresses, and the per-address limit guesses spread over many accounts. Locking one
account never blocks another account behind the same address until that address's own, much
higher, limit is reached.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from .tables import signin_failures, writing


@dataclass(frozen=True)
class Limit:
    scope: str      # account+address | account | address
    limit: int
    window: float   # seconds


@dataclass(frozen=True)
class Reservation:
    allowed: bool
    keys: tuple[str, ...]
    retry_after: int = 0    # seconds until the fullest window that refused the attempt ends
    refused_by: str = ""    # the scope of that window


def _key(scope: str, account: str, address: str) -> str:
    subject = {"account+address": f"{account.lower()}\0{address}", "account": account.lower(), "address": address}[scope]
    return f"{scope[:4]}:{hashlib.sha256(subject.encode('utf-8', 'replace')).hexdigest()[:60]}"


def _upsert(dialect: str, key: str, now: float, window: float):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = signin_failures
    expired = table.c.window_start < now - window
    return (insert(table).values(key=key, window_start=now, count=1)
            .on_conflict_do_update(index_elements=[table.c.key], set_={
                "count": case((expired, 1), else_=table.c.count + 1),
                "window_start": case((expired, now), else_=table.c.window_start)})
            .returning(table.c.count, table.c.window_start))


def reserve(engine: Engine, limits: list[Limit], account: str, address: str, now: float | None = None) -> Reservation:
    """Count this attempt under every limit; allowed only if all counts are within them."""
    now = time.time() if now is None else now
    planned = sorted((_key(limit.scope, account, address), limit) for limit in limits)  # one lock order
    refused: list[tuple[float, str]] = []
    fresh = False
    with writing(engine) as conn:
        for key, limit in planned:
            count, started = conn.execute(_upsert(engine.dialect.name, key, now, limit.window)).one()
            fresh = fresh or count == 1
            if count > limit.limit:
                refused.append((started + limit.window - now, limit.scope))
        if fresh:   # a new window began: forget the windows that have ended (indexed, so cheap)
            longest = max(limit.window for _, limit in planned)
            conn.execute(delete(signin_failures).where(signin_failures.c.window_start < now - longest))
    keys = tuple(key for key, _ in planned)
    if refused:
        wait, scope = max(refused)
        return Reservation(False, keys, max(1, int(wait + 0.999)), scope)
    return Reservation(True, keys)


def release(engine: Engine, reservation: Reservation) -> None:
    """A correct password: the attempt was not a failure, so its counts are given back."""
    with writing(engine) as conn:
        for key in reservation.keys:
            conn.execute(update(signin_failures).where(signin_failures.c.key == key, signin_failures.c.count > 0)
                         .values(count=signin_failures.c.count - 1))
