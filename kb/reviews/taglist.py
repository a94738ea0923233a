"""The editable controlled list of review tags. Editors add, relabel, publish or retire tags;
a tag is never deleted, so every review that used it still means the same thing.

Reviews may also carry free tags (any tag not on the list). Only active tags on the list that are
marked public appear in the public view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..errors import KbError, UnknownIdError
from . import audit
from .roles import User, acting
from .tables import reading, review_tags, writing
from .vocab import TAG

EDITABLE = ("label", "help", "public", "active")


@dataclass(frozen=True)
class Tag:
    name: str
    label: str
    help: str = ""
    public: bool = False
    active: bool = True

    def to_dict(self) -> dict:
        return dict(vars(self))


def normalised_tag(text: str) -> str:
    """A tag as the list writes tags: lowercase, spaces and underscores as hyphens, other marks
    dropped ("Gang Violence" -> "gang-violence", "  Police/Health " -> "police-health")."""
    words = re.sub(r"[^a-z0-9]+", "-", text.strip().lower())
    return words.strip("-")[:64]


def list_tags(bind: Engine | Connection, *, include_retired: bool = False) -> list[Tag]:
    query = select(review_tags).order_by(review_tags.c.name)
    if not include_retired:
        query = query.where(review_tags.c.active.is_(True))
    with reading(bind) as conn:
        return [Tag(**r._mapping) for r in conn.execute(query)]


def public_tag_names(conn: Connection) -> set[str]:
    query = select(review_tags.c.name).where(review_tags.c.public.is_(True), review_tags.c.active.is_(True))
    return set(conn.execute(query).scalars())


def add_tag(engine: Engine, actor: User, name: str, label: str, help: str = "", public: bool = False) -> Tag:
    if not TAG.match(name):
        raise KbError(f"invalid tag {name!r}: use [a-z0-9][a-z0-9-]*, at most 64 characters")
    tag = Tag(name, label.strip() or name, help, bool(public), True)
    with writing(engine) as conn:
        actor = acting(conn, actor, "tag.manage")
        if conn.execute(select(review_tags.c.name).where(review_tags.c.name == name)).first():
            raise KbError(f"tag {name!r} is already on the list; edit it instead")
        conn.execute(insert(review_tags).values(**tag.to_dict()))
        audit.record(conn, actor.name, "tag.add", f"tag:{name}", None, tag.to_dict())
    return tag


def update_tag(engine: Engine, actor: User, name: str, **changes) -> Tag:
    """Relabel, publish (`public=True`), retire (`active=False`) or restore a tag."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise KbError(f"cannot change {', '.join(sorted(unknown))} of a tag; editable: {', '.join(EDITABLE)}")
    with writing(engine) as conn:
        actor = acting(conn, actor, "tag.manage")
        row = conn.execute(select(review_tags).where(review_tags.c.name == name)).first()
        if row is None:
            known = ", ".join(t.name for t in list_tags(conn, include_retired=True)) or "none yet"
            raise UnknownIdError(f"unknown tag {name!r}; tags: {known}")
        before = Tag(**row._mapping)
        conn.execute(update(review_tags).where(review_tags.c.name == name).values(**changes))
        after = Tag(**{**before.to_dict(), **changes})
        audit.record(conn, actor.name, "tag.update", f"tag:{name}", before.to_dict(), after.to_dict())
    return after
