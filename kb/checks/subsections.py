"""The body's EMMIE subsections: `### Mechanism`, `### Implementation` and `### Cost` (kb.fields.
SUBSECTIONS), found by their ATX headings outside fenced code; near misses, repeats and empty ones
are reported, so that a case says what it documents in the words the knowledge base reads."""
from __future__ import annotations

import difflib
import re

from ..fields import SUBSECTIONS

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_TITLES = {title.lower(): name for name, title in SUBSECTIONS.items()}


def find(body: str) -> tuple[list[str], list[tuple[int, str, str]]]:
    """(names of the subsections found, in order; [(line within the body, code, message)])."""
    found: dict[str, int] = {}
    problems: list[tuple[int, str, str]] = []
    open_at: tuple[str, int] | None = None     # the recognised subsection being read, and its line
    has_text = False
    fence = ""
    lines = body.splitlines()

    def close() -> None:
        if open_at is not None and not has_text:
            problems.append((open_at[1], "empty-subsection",
                             f"subsection '### {SUBSECTIONS[open_at[0]]}' is empty; write what the sources say, "
                             "with citations, or remove the heading"))

    for number, line in enumerate(lines, start=1):
        marker = _FENCE.match(line)
        if fence:
            fence = "" if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence) else fence
            has_text = True
            continue
        if marker:
            fence = marker.group(1)
            has_text = True
            continue
        heading = _HEADING.match(line)
        if not heading:
            has_text = has_text or bool(line.strip())
            continue
        level, title = len(heading.group(1)), heading.group(2).strip()
        if open_at is not None and level <= 3:
            close()
            open_at = None
        name = _TITLES.get(title.lower())
        if name and level == 3:
            if name in found:
                problems.append((number, "duplicate-subsection",
                                 f"subsection '### {SUBSECTIONS[name]}' appears twice (also at body line "
                                 f"{found[name]}); merge them"))
            else:
                found[name] = number
            open_at, has_text = (name, number), False
            continue
        close_to = difflib.get_close_matches(title.lower(), list(_TITLES), n=1, cutoff=0.8)
        target = name or (close_to[0] if close_to else None)
        if target and (level != 3 or not name):
            problems.append((number, "subsection-name",
                             f"heading '{heading.group(1)} {title}' is not read as EMMIE's "
                             f"{_TITLES[target]}; write it as '### {SUBSECTIONS[_TITLES[target]]}'"))
    close()
    return list(found), problems
