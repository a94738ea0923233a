"""One KnowledgeBase per process, opened lazily, and one database session per request (every
query a request makes goes through one connection); helpers the templates share."""
from __future__ import annotations

import math
import threading
from urllib.parse import urlencode
from collections import OrderedDict
from typing import Callable, TypeVar

from flask import Flask, current_app, g, request, url_for

from kb import knowledgebase
from kb.citations import STYLES, style_title
from kb.errors import KbError
from kb.settings import Settings

_lock = threading.Lock()
T = TypeVar("T")


MEMO_SIZE = 1024


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["kb"] = {"kb": None, "settings": settings, "memo": OrderedDict(), "primed": {}}

    @app.before_request
    def open_session() -> None:
        g.kb_session = knowledgebase.session()
        g.kb_session.__enter__()

    @app.teardown_request
    def close_session(_exc) -> None:
        opened = g.pop("kb_session", None)
        if opened is not None:
            opened.__exit__(None, None, None)


def memo(namespace: str, key: tuple, compute: Callable[[], T]) -> T:
    """This worker's last results of expensive work (rendering a case, a search), keyed by the
    build generation so that a new build is never served from the cache; least recently used go."""
    cache: OrderedDict = current_app.extensions["kb"]["memo"]
    full_key = (get_kb().generation, namespace, key)
    primed = current_app.extensions["kb"]["primed"]
    if full_key in primed:
        return primed[full_key]
    with _lock:
        if full_key in cache:
            cache.move_to_end(full_key)
            return cache[full_key]
    value = compute()
    with _lock:
        cache[full_key] = value
        while len(cache) > MEMO_SIZE:
            cache.popitem(last=False)
    return value


def prime(namespace: str, values: dict[tuple, object]) -> None:
    """Results worked out ahead in one batch (kb publish formats every reference in one pandoc
    run): `memo` answers them without a limit on their number, for the current generation."""
    generation = get_kb().generation
    current_app.extensions["kb"]["primed"].update({(generation, namespace, key): value for key, value in values.items()})


def get_kb() -> knowledgebase.KnowledgeBase:
    state = current_app.extensions["kb"]
    if state["kb"] is None:
        with _lock:
            if state["kb"] is None:
                state["kb"] = knowledgebase.KnowledgeBase(state["settings"])
    return state["kb"]


def get_vocab():
    """The vocabulary of the knowledge base (read once per worker)."""
    return get_kb().vocabulary


def can_see_drafts() -> bool:
    """Drafts are for signed-in reviewers and editors (the reviews blueprint sets g.user)."""
    user = getattr(g, "user", None)
    return bool(user and getattr(user, "role", "") in ("reviewer", "editor", "admin"))


def label(kind: str, name: str) -> str:
    return get_vocab().label(kind, name)


def url_with(**changes) -> str:
    """The current URL with some query parameters changed (None removes them); keeps lists. As
    `url_for` would make it (its encoding, Werkzeug's), with the path built once per request: a
    page of facets asks for dozens."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value if isinstance(value, list) else [value]
    if "url_with_path" not in g:
        g.url_with_path = url_for(request.endpoint, **(request.view_args or {}))
    items = [(key, str(value)) for key, values in args.items() for value in values if value is not None]
    return g.url_with_path + ("?" + urlencode(items, safe=QUERY_SAFE) if items else "")


QUERY_SAFE = "!$'()*,/:;?@"   # what Werkzeug leaves unescaped in a query (werkzeug.urls._urlencode)


SHADES = 9  # classes shade-0 (weakest) to shade-8 (strongest) in style.css


def shade(mean: float | None) -> str:
    """The class of an evidence-map cell: darker for stronger evidence (SMS 1-5). A class, not a
    style attribute: the Content-Security-Policy allows no inline styles."""
    if mean is None:
        return "shade-none"
    return f"shade-{max(0, min(SHADES - 1, round((mean - 1) / 4 * (SHADES - 1))))}"


# a mark beside each direction's word (the word is always shown: the mark is not the meaning)
DIRECTION_MARKS = {"improved": "↑", "worsened": "↓", "mixed": "↕", "no-change": "→", "unclear": "?"}


def direction_mark(direction: str) -> str:
    return DIRECTION_MARKS.get(direction, "·")


def template_globals() -> dict:
    return {"label": label, "url_with": url_with, "shade": shade, "ceil": math.ceil, "direction_mark": direction_mark,
            "can_see_drafts": can_see_drafts, "KbError": KbError, "style_menu": style_menu}


def style_menu(style: str) -> list[tuple[str, str]]:
    """The style chooser's options: the short list, and the style in use if it is another."""
    menu = [(name, known.label) for name, known in STYLES.items()]
    return menu if style in STYLES else [*menu, (style, style_title(style))]
