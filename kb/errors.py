"""Errors and problems. Only the CLI and web layers turn these into user-facing output."""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of validation: where, how bad, and a message that says what to do."""

    path: str
    line: int
    severity: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


def shown(value: object, limit: int = 80) -> str:
    """A value for a message, as Python writes it, cut short: a hostile file or form must not make
    its messages huge."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "...")
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class KbError(Exception):
    """A failure the user can fix; the message says how."""


class ValidationFailed(KbError):
    """Raised by build when validation found errors; carries the problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = sum(1 for p in problems if p.severity == ERROR)
        warnings = sum(1 for p in problems if p.severity == WARNING)
        found = f"{errors} error(s)" if errors else f"{warnings} warning(s) (--strict)"
        first = next((p for p in problems if p.severity == (ERROR if errors else WARNING)), None)
        super().__init__(f"validation failed with {found}; the previous build is unchanged"
                         + (f" (first: {first})" if first is not None else ""))


class Unavailable(KbError):
    """The build or its database cannot be read (not built yet, missing, damaged). The message is
    for the operator and may name server paths; `public` is what a web visitor is told."""

    def __init__(self, message: str, public: str = "the knowledge base is not available right now; "
                                                   "its operator has been told"):
        super().__init__(message)
        self.public = public


class UnknownIdError(KbError):
    """An id, key or name that does not exist; the message lists valid choices."""


def exit_code(problems: list[Problem], strict: bool = False) -> int:
    """1 when a problem is an error (with `strict`, an error or a warning), else 0."""
    failing = {ERROR, WARNING} if strict else {ERROR}
    return 1 if any(p.severity in failing for p in problems) else 0
