"""Where a case page cites each work, so that its reference list can link back ("Cited in:
Context, Outcomes, E2"). Each in-text citation of the rendered body gets an id (`cite-T1`, ...), each
evidence item's citation one of its own (`cite-E1`, ...): capitals, which no heading's id has.

The stored body links a citation group to its first work only (`kb.content.body`); the works of
each group are found again from the case's citations, which are the groups' works in order: each
group starts at the last place its first work appears before the next group starts (exact unless
a group names its own first work twice; then that work's links are still right)."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markupsafe import Markup

OPENING = '<span class="citation">'
_FIRST_KEY = re.compile(r'\s*<a href="#ref-([^"]*)"')
_HEADING = re.compile(r"<h[23][^>]*>(.*?)</h[23]>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Place:
    anchor: str     # the id of the citation on the page
    label: str      # what the back link says: the body's section, or E1, E2 ... for evidence items


def places(body_html: str, body_keys: list[str], evidence_keys: list[list[str]]) -> tuple[Markup, dict[str, list[Place]]]:
    """The body with an id on each citation, and for each cited key the places citing it, in page
    order. `body_keys` are the keys of the body's citations in order (`Case.citations`),
    `evidence_keys` the keys of each evidence item."""
    pieces = body_html.split(OPENING)
    cited: dict[str, list[Place]] = {}
    times: dict[tuple[str, str], int] = {}                 # (key, section) -> citations so far
    out, section = [pieces[0]], _last_heading(pieces[0], "text")
    groups = _groups([_first_key(piece) for piece in pieces[1:]], body_keys)
    for number, (piece, keys) in enumerate(zip(pieces[1:], groups), start=1):
        for key in dict.fromkeys(keys):
            times[key, section] = times.get((key, section), 0) + 1
            label = section if times[key, section] == 1 else f"{section} ({times[key, section]})"
            cited.setdefault(key, []).append(Place(f"cite-T{number}", label))
        out.append(f'<span class="citation" id="cite-T{number}">{piece}')
        section = _last_heading(piece, section)
    for number, keys in enumerate(evidence_keys, start=1):
        for key in dict.fromkeys(keys):
            cited.setdefault(key, []).append(Place(f"cite-E{number}", f"E{number}"))
    return Markup("".join(out)), cited


def _first_key(piece: str) -> str:
    match = _FIRST_KEY.match(piece)
    return html.unescape(match.group(1)) if match else ""


def _last_heading(fragment: str, current: str) -> str:
    headings = _HEADING.findall(fragment)
    return " ".join(html.unescape(_TAG.sub("", headings[-1])).split()) if headings else current


def _groups(firsts: list[str], keys: list[str]) -> list[list[str]]:
    """The keys of each citation group, given each group's first key and all keys in order; each
    group's first key alone when they do not fit together."""
    starts, end = [], len(keys)
    for first in reversed(firsts):
        start = next((i for i in range(end - 1, -1, -1) if keys[i] == first), None)
        if start is None:
            return [[first] for first in firsts]
        starts.append(start)
        end = start
    starts.reverse()
    if starts and starts[0] != 0:
        return [[first] for first in firsts]
    return [keys[start:stop] for start, stop in zip(starts, starts[1:] + [len(keys)])]
