"""Checks across the whole collection, run after every file has been read.

Each check is a small function `(Collection) -> list[Problem]`, registered in COLLECTION_CHECKS.
"""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Callable

from .errors import ERROR, INFO, WARNING, Problem

if TYPE_CHECKING:
    from .loader import Collection


def duplicate_case_ids(collection: "Collection") -> list[Problem]:
    first: dict[str, str] = {}
    problems = []
    for case in collection.cases:
        if not case.id:
            continue
        if case.id in first:
            problems.append(Problem(case.path, 2, ERROR, "duplicate-id",
                                    f"duplicate case id {case.id!r}: also used by {first[case.id]}; ids must be unique across the collection"))
            problems.append(Problem(first[case.id], 2, ERROR, "duplicate-id",
                                    f"duplicate case id {case.id!r}: also used by {case.path}; ids must be unique across the collection"))
        else:
            first[case.id] = case.path
    return problems


def file_name_matches_id(collection: "Collection") -> list[Problem]:
    return [Problem(case.path, 2, WARNING, "file-name",
                    f"file name {PurePosixPath(case.path).name!r} does not match id {case.id!r}; rename it to {case.id}.md")
            for case in collection.cases if case.id and PurePosixPath(case.path).stem != case.id]


def unknown_citation_keys(collection: "Collection") -> list[Problem]:
    known = collection.sources
    problems = []
    for case in collection.cases:
        for key, line in case.citation_lines.items():
            if key not in known:
                problems.append(Problem(case.path, line, ERROR, "unknown-cite",
                                        f"citation key '@{key}' is not in bibliography.bib{_guess(key, known)}"))
        for item in case.evidence:
            for ref in item.citations:
                if ref.key not in known:
                    problems.append(Problem(case.path, item.cite_line, ERROR, "unknown-cite",
                                            f"evidence {item.id!r} cites '@{ref.key}', which is not in bibliography.bib{_guess(ref.key, known)}"))
    return problems


def _guess(key: str, known) -> str:
    import difflib
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return f" (did you mean '@{match[0]}'?)" if match else "; add the entry or fix the key"


def uncited_sources(collection: "Collection") -> list[Problem]:
    cited = {key for case in collection.cases for key in case.cited_keys()}
    return [Problem("bibliography.bib", source.line, INFO, "uncited",
                    f"entry {source.key!r} is not cited by any case")
            for source in collection.sources.values() if source.key not in cited]


COLLECTION_CHECKS: list[Callable[["Collection"], list[Problem]]] = [
    duplicate_case_ids, file_name_matches_id, unknown_citation_keys, uncited_sources,
]


def collection_checks(collection: "Collection") -> list[Problem]:
    return [problem for check in COLLECTION_CHECKS for problem in check(collection)]


def exit_code(problems: list[Problem], strict: bool = False) -> int:
    failing = {ERROR, WARNING} if strict else {ERROR}
    return 1 if any(p.severity in failing for p in problems) else 0
