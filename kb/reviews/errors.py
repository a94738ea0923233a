"""Errors of the reviewer workflow. Subclasses of KbError: the CLI and the web layer turn them into
messages (exit codes, HTTP 403/409/400); the library never prints."""
from __future__ import annotations

from typing import Any

from ..errors import KbError


class PermissionDenied(KbError):
    """The acting user's role (or ownership) does not allow this; nothing was changed."""


class ConflictError(KbError):
    """Someone saved first (optimistic locking); nothing was changed. `current` is what the
    database now holds, so a form can show it beside what the user typed."""

    def __init__(self, message: str, current: Any = None):
        super().__init__(message)
        self.current = current


class InvalidReview(KbError):
    """Bad field values; `errors` maps each field to what is wrong, for a form to show in place."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


class ImportFailed(KbError):
    """Validation of an import found problems; nothing was imported. `problems` lists them all."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) found; nothing was imported")
