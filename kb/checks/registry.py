"""The registry of content checks, as papis's `doctor` keeps its checks: each check is a small
function registered under a name and a scope, and the commands run a scope's checks in order.

Scopes: `collection` checks run after every file of the collection has been read (`kb validate`,
`kb build`), `(collection) -> problems`; `bibliography` checks are `kb bib check`'s,
`(collection, styles) -> problems`. The checks of a single case file's fields live in
`kb.checks.case` (they turn front matter into a `Case` and cannot run separately).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import Problem

SCOPES = ("collection", "bibliography")


@dataclass(frozen=True)
class Check:
    name: str
    scope: str
    run: Callable[..., list[Problem]]
    help: str


_CHECKS: list[Check] = []


def register(scope: str) -> Callable:
    """Decorator: `@register("collection")` adds the function under its name; its docstring's
    first line is its help (`kb validate --list-checks` would print it)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown check scope {scope!r}; scopes: {', '.join(SCOPES)}")

    def add(function: Callable[..., list[Problem]]) -> Callable[..., list[Problem]]:
        doc = (function.__doc__ or "").strip().splitlines()
        _CHECKS.append(Check(function.__name__, scope, function, doc[0] if doc else ""))
        return function
    return add


def registered(scope: str) -> list[Check]:
    return [check for check in _CHECKS if check.scope == scope]


def run(scope: str, *args) -> list[Problem]:
    return [problem for check in registered(scope) for problem in check.run(*args)]
