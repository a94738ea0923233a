"""Checks across the whole collection, run after every file has been read: each a small function
`(Collection) -> list[Problem]`, registered with `@register("collection")`.
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..errors import ERROR, INFO, WARNING, Problem, shown
from ..urls import is_web_url
from .registry import register

if TYPE_CHECKING:
    from ..content.collection import Collection


@register("collection")
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


@register("collection")
def file_name_matches_id(collection: "Collection") -> list[Problem]:
    return [Problem(case.path, 2, WARNING, "file-name",
                    f"file name {PurePosixPath(case.path).name!r} does not match id {case.id!r}; rename it to {case.id}.md")
            for case in collection.cases if case.id and PurePosixPath(case.path).stem != case.id]


MAX_GUESSES = 50  # "did you mean" for this many unknown keys per file: difflib over every key is slow


@register("collection")
def unknown_citation_keys(collection: "Collection") -> list[Problem]:
    known = collection.sources
    problems = []
    for case in collection.cases:
        guesses = iter(range(MAX_GUESSES))
        unknown = [(key, line, "") for key, line in case.citation_lines.items() if key not in known]
        unknown += [(ref.key, item.cite_line, item.id) for item in case.evidence for ref in item.citations
                    if ref.key not in known]
        for key, line, evidence_id in unknown:
            hint = _guess(key, known) if next(guesses, None) is not None else "; add the entry or fix the key"
            what = (f"evidence {evidence_id!r} cites '@{key}', which is" if evidence_id
                    else f"citation key '@{key}' is")
            problems.append(Problem(case.path, line, ERROR, "unknown-cite", f"{what} not in bibliography.bib{hint}"))
    return problems


def _guess(key: str, known) -> str:
    import difflib
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return f" (did you mean '@{match[0]}'?)" if match else "; add the entry or fix the key"


@register("collection")
def uncited_sources(collection: "Collection") -> list[Problem]:
    cited = {key for case in collection.cases for key in case.cited_keys()}
    return [Problem("bibliography.bib", source.line, INFO, "uncited",
                    f"entry {source.key!r} is not cited by any case")
            for source in collection.sources.values() if source.key not in cited]


URL_FIELDS = ("url", "howpublished")
_URL_COMMAND = re.compile(r"^\\url\{(.*)\}$", re.S)


def url_values(source) -> list[tuple[str, str]]:
    """(field, address) of every web address an entry gives: `url`, and `howpublished = {\\url{...}}`."""
    found = []
    for name in URL_FIELDS:
        value = source.fields.get(name, "").strip()
        if name == "howpublished":
            command = _URL_COMMAND.match(value)
            value = command.group(1).strip() if command else ""
        if value:
            found.append((name, value))
    return found


@register("collection")
def unsafe_urls(collection: "Collection") -> list[Problem]:
    """Every address in the bibliography becomes a link somewhere, so only http(s) is accepted
    (a `javascript:` URL was a live link on the source page)."""
    problems = []
    for source in collection.sources.values():
        for name, value in url_values(source):
            if not is_web_url(value):
                problems.append(Problem("bibliography.bib", field_line(source, name), ERROR, "unsafe-url",
                                        f"entry {source.key!r}: {name} {shown(value)} is not an http or https address; "
                                        "write it like 'https://www.example.org/report.pdf'"))
    return problems


def field_line(source, name: str) -> int:
    """The line of field `name` of an entry, from its original text (the entry's line if unseen)."""
    match = re.search(rf"^\s*{re.escape(name)}\s*=", source.raw, re.M | re.I)
    return source.line + source.raw.count("\n", 0, match.start()) if match else source.line
