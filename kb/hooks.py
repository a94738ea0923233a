"""Post-build hooks: the build announces what it did, and the parts that care subscribe, so the
build imports none of them (it used to import the reviews package).

Events, each given a `BuildEvent`:
- `build.written`: inside the build's database transaction, after the new rows are in (or, for a
  build that changed nothing, on a plain connection). Reviews follow renamed cases and report
  orphans here, so a failed build moves nothing.
- `build.committed`: after the transaction has named the new generation current. Case pages are
  rendered here, in worker processes, for the cases that changed.

Subscribers are named in SUBSCRIBERS and imported the first time an event is announced; a
subscriber module registers its functions with `@subscribe(event)`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .model import Case
    from .settings import Settings

EVENTS = ("build.written", "build.committed")
SUBSCRIBERS = ("kb.reviews.orphans", "kb.storage.pages")
_handlers: dict[str, list[Callable[["BuildEvent"], None]]] = {event: [] for event in EVENTS}
_loaded = False


@dataclass
class BuildEvent:
    """What a build did. Subscribers read it and may add to `results` (shown by `kb build`)."""

    settings: "Settings"
    cases: list["Case"]             # every case of the collection, as built
    changed: list[str]              # ids written anew
    removed: list[str]
    generation: str                 # the index generation this build made current
    full: bool = False              # everything was rebuilt (bibliography changed, --full, no index)
    conn: "Connection | None" = None   # build.written only
    procs: int | None = None
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def noop(self) -> bool:
        return not (self.changed or self.removed or self.full)


def subscribe(event: str) -> Callable:
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; events: {', '.join(EVENTS)}")

    def add(function: Callable[[BuildEvent], None]) -> Callable[[BuildEvent], None]:
        if function not in _handlers[event]:
            _handlers[event].append(function)
        return function
    return add


def load_subscribers() -> None:
    """Import the modules in SUBSCRIBERS once, so that their handlers are registered."""
    global _loaded
    if not _loaded:
        for name in SUBSCRIBERS:
            importlib.import_module(name)
        _loaded = True


def announce(event: str, payload: BuildEvent) -> BuildEvent:
    load_subscribers()
    for handler in _handlers[event]:
        handler(payload)
    return payload
