"""Per-knowledge-base settings of the workflow (declared in `vocab.SETTINGS`), such as blind mode.

Stored in the database, not in a file: they belong with the reviews they govern, travel with a
database backup, and changing one is an audited act like any other.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..errors import KbError
from . import audit
from .roles import User, acting
from .tables import reading, review_settings, writing
from .vocab import SETTINGS


def get_setting(bind: Engine | Connection, name: str) -> Any:
    spec = _spec(name)
    with reading(bind) as conn:
        row = conn.execute(select(review_settings.c.value).where(review_settings.c.name == name)).first()
    return spec.default if row is None else row.value


def set_setting(engine: Engine | Connection, actor: User, name: str, value: Any) -> None:
    spec = _spec(name)
    if type(value) is not type(spec.default):
        raise KbError(f"setting {name} takes {type(spec.default).__name__}, not {value!r}")
    with writing(engine) as conn:
        actor = acting(conn, actor, "setting.change")
        before = get_setting(conn, name)
        exists = conn.execute(select(review_settings.c.name).where(review_settings.c.name == name)).first()
        if exists:
            conn.execute(update(review_settings).where(review_settings.c.name == name).values(value=value))
        else:
            conn.execute(insert(review_settings).values(name=name, value=value))
        audit.record(conn, actor.name, "setting.change", f"setting:{name}", {"value": before}, {"value": value})


def blind_mode(bind: Engine | Connection) -> bool:
    return bool(get_setting(bind, "blind_mode"))


def _spec(name: str):
    if name not in SETTINGS:
        raise KbError(f"unknown setting {name!r}; settings: {', '.join(SETTINGS)}")
    return SETTINGS[name]
