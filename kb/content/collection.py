"""What reading a collection gives: each parsed file, the bibliography's sources, and the problems
found. The loader fills it; checks and the build read it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ERROR, Problem
from ..model import Case, Source
from ..vocabulary import Vocabulary


@dataclass
class ParsedFile:
    path: str
    sha256: str
    case: Case | None
    problems: list[Problem]


@dataclass
class Collection:
    root: Path
    vocab: Vocabulary
    files: list[ParsedFile] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    bib_sha256: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def cases(self) -> list[Case]:
        return [f.case for f in self.files if f.case is not None]

    def all_problems(self) -> list[Problem]:
        found = [p for f in self.files for p in f.problems] + self.problems
        return sorted(set(found), key=lambda p: (p.path, p.line, p.severity, p.message))

    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.all_problems())


@dataclass
class ParsedBibliography:
    sha256: str
    sources: dict[str, Source]
    problems: list[Problem]
