"""The evidence list: evidence items, not cases, filtered by every case facet and by their own
outcome, direction, design, strength and reconciliation, with counts per value.

Items are filtered in memory: every visible item with its facet values is read once per build
generation (kb.knowledgebase keeps the `Items`), and each facet value is a bitmap of the items
having it (a Python int, bit i for item i), so filtering is AND and OR of bitmaps and a count is
`int.bit_count()`: no pass over the items in Python, and no query but the text search's. Facets
combine as in the case search: values of one facet OR-ed, facets AND-ed, and a chosen facet counts
its other values as if it were not chosen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .facets import FACETS
from .fields import Period
from .storage.catalog import EvidenceRow

# URL parameters of the item's own facets, with the field of EvidenceRow holding the value
ITEM_FACETS = {"outcome": "outcome", "direction": "direction", "design": "design"}
# the case facets an item inherits from its case (review status is not one: it changes between builds)
CASE_FACETS = tuple(facet.param for facet in FACETS if facet.indexed and facet.values and facet.param not in ITEM_FACETS)
PARAMS = tuple(ITEM_FACETS) + CASE_FACETS       # in the order of the list's filter panels
# the evidence map's filters with its default axes: rows are themes, columns outcomes, cells show directions
MAP_PARAMS = tuple(param for param in PARAMS if param not in ("theme", "outcome", "direction"))
SORTS = ("case", "strength", "period")
STRENGTHS = (1, 2, 3, 4, 5)


class Items:
    """Every visible evidence row of one build generation, with a bitmap per facet value."""

    def __init__(self, rows: list[EvidenceRow], case_values: dict[str, dict[str, tuple[str, ...]]]):
        self.rows = rows
        self.case_values = case_values          # case id -> URL parameter -> its values
        self.every = (1 << len(rows)) - 1
        self.by_target = {(row.case_id, row.id): n for n, row in enumerate(rows)}   # (case, item) -> index
        # positions first, bitmaps once at the end: OR-ing bit by bit into big ints is quadratic
        at: dict[str, dict[str, list[int]]] = {param: {} for param in PARAMS}
        levels: dict[int, list[int]] = {}
        cases: dict[str, list[int]] = {}
        starts: dict[str, int] = {}
        self.starts: list[int] = []
        for n, row in enumerate(rows):
            values = case_values.get(row.case_id, {})
            for param in CASE_FACETS:
                for value in values.get(param, ()):
                    at[param].setdefault(value, []).append(n)
            for param, name in ITEM_FACETS.items():
                value = getattr(row, name)
                if value:
                    at[param].setdefault(value, []).append(n)
            if row.strength:
                levels.setdefault(row.strength, []).append(n)
            cases.setdefault(row.case_id, []).append(n)
            if row.period not in starts:
                span = Period.parse(row.period)
                starts[row.period] = span.start if span else 0
            self.starts.append(starts[row.period])
        size = len(rows) // 8 + 1
        self.bits: dict[str, dict[str, int]] = {param: {value: _bitmap(found, size) for value, found in by_value.items()}
                                                 for param, by_value in at.items()}
        self.strength_bits = {level: _bitmap(found, size) for level, found in levels.items()}   # SMS level -> items
        self.case_bits = {case_id: _bitmap(found, size) for case_id, found in cases.items()}

    def mask(self, param: str, values) -> int:
        found = 0
        for value in values:
            found |= self.bits[param].get(value, 0)
        return found

    def at_least(self, level: int) -> int:
        found = 0
        for strength, bits in self.strength_bits.items():
            if strength >= level:
                found |= bits
        return found

    def of_cases(self, case_ids) -> int:
        found = 0
        for case_id in case_ids:
            found |= self.case_bits.get(case_id, 0)
        return found

    def case_ids(self, bits: int) -> set[str]:
        """The cases of the items in `bits`."""
        return {self.rows[n].case_id for n in indices(bits)}

    def matching(self, filters: dict[str, list[str]]) -> int:
        """The items passing every filter (values of one OR-ed, filters AND-ed)."""
        found = self.every
        for param, values in filters.items():
            if values:
                found &= self.mask(param, values)
        return found

    def of_targets(self, targets) -> int:
        found = 0
        for target in targets:
            if target in self.by_target:
                found |= 1 << self.by_target[target]
        return found


def _bitmap(positions: list[int], size: int) -> int:
    """An int with the bits at `positions` set, in linear time."""
    buffer = bytearray(size)
    for n in positions:
        buffer[n >> 3] |= 1 << (n & 7)
    return int.from_bytes(buffer, "little")


def indices(bits: int) -> list[int]:
    """The positions of the set bits, lowest first (str.find skips the zeros at C speed)."""
    text = bin(bits)[:1:-1]          # lowest bit first, without "0b"
    found, n = [], text.find("1")
    while n != -1:
        found.append(n)
        n = text.find("1", n + 1)
    return found


@dataclass
class EvidenceList:
    total: int
    rows: list[EvidenceRow]                       # the page asked for
    cases: int                                    # distinct cases among all matches
    facets: dict[str, dict[str, int]]             # param -> value -> items
    strengths: dict[int, int] = field(default_factory=dict)   # SMS level -> items (all matches)
    reconciled: dict[tuple[str, str], int | None] = field(default_factory=dict)   # (case, item) -> grade


def _base(every: Items, case_ids, min_strength, reconciled, only_reconciled) -> int:
    base = every.every
    if case_ids is not None:
        base &= every.of_cases(case_ids)
    if min_strength is not None:
        base &= every.at_least(min_strength)
    if only_reconciled:
        base &= every.of_targets(reconciled)
    return base


def select(every: Items, *, filters: dict[str, list[str]], case_ids: set[str] | None = None,
           min_strength: int | None = None, reconciled: dict[tuple[str, str], int | None] | None = None,
           only_reconciled: bool = False, sort: str = "case", limit: int = 50, offset: int = 0) -> EvidenceList:
    """The items passing every filter; `case_ids` restricts to the cases a text query found."""
    reconciled = reconciled or {}
    base = _base(every, case_ids, min_strength, reconciled, only_reconciled)
    masks = {param: every.mask(param, values) for param, values in filters.items() if values}
    matched = base
    for bits in masks.values():
        matched &= bits
    facets: dict[str, dict[str, int]] = {}
    for param in PARAMS:
        scope = base        # a chosen facet counts over the items the other filters leave
        for other, bits in masks.items():
            if other != param:
                scope &= bits
        counts = {value: (bits & scope).bit_count() for value, bits in every.bits[param].items()}
        facets[param] = dict(sorted(((v, c) for v, c in counts.items() if c), key=lambda kv: (-kv[1], kv[0])))
    strengths = {level: (bits & matched).bit_count() for level, bits in sorted(every.strength_bits.items())}
    found = indices(matched)
    if sort == "strength":
        found.sort(key=lambda n: -(every.rows[n].strength or 0))        # stable: case order within a level
    elif sort == "period":
        found.sort(key=lambda n: -every.starts[n])
    page = [every.rows[n] for n in found[offset: offset + limit]]
    return EvidenceList(len(found), page, len({every.rows[n].case_id for n in found}), facets,
                        {level: count for level, count in strengths.items() if count},
                        {(row.case_id, row.id): reconciled[(row.case_id, row.id)] for row in page
                         if (row.case_id, row.id) in reconciled})


@dataclass
class Cell:
    """One cell of the evidence map: the items with one value of the rows' facet and one of the
    columns' (by default one theme and one harm outcome)."""

    count: int = 0
    graded: int = 0                  # items with an SMS strength
    strength_total: int = 0
    segments: dict[str, int] = field(default_factory=dict)    # direction (or design) -> items
    reconciled: list[int] = field(default_factory=list)       # reconciled SMS grades of its items
    items: list[int] = field(default_factory=list)            # positions of its items in Items.rows
    verdict: Any = None              # kb.verdicts.Verdict of its items, when the map is coloured by verdict

    @property
    def mean_strength(self) -> float | None:
        return self.strength_total / self.graded if self.graded else None

    @property
    def directions(self) -> dict[str, int]:
        """The segments when the map is segmented by direction (the default)."""
        return self.segments


SEGMENTS = ("direction", "design")


def grid(every: Items, *, filters: dict[str, list[str]], min_strength: int | None = None,
         reconciled: dict[tuple[str, str], int | None] | None = None, rows: str = "theme", cols: str = "outcome",
         segment: str = "direction", values: dict[str, list[str]] | None = None) -> dict[tuple[str, str], Cell]:
    """(row value, column value) -> Cell, over the items the evidence list shows for the same filters
    (so a cell's count is the total of the list it opens). `rows` and `cols` are facets (PARAMS);
    `values` may restrict an axis to some of its values (the map's outcome axis: the harm outcomes)."""
    reconciled = reconciled or {}
    values = values or {}
    matched = _base(every, None, min_strength, reconciled, False)
    for param, chosen in filters.items():
        if chosen:
            matched &= every.mask(param, chosen)
    cells: dict[tuple[str, str], Cell] = {}
    row_bits = {v: b for v, b in every.bits[rows].items() if rows not in values or v in values[rows]}
    col_bits = {v: b for v, b in every.bits[cols].items() if cols not in values or v in values[cols]}
    for row_value, bits_of_row in row_bits.items():
        in_row = bits_of_row & matched
        if not in_row:
            continue
        for col_value, bits_of_col in col_bits.items():
            here = in_row & bits_of_col
            if not here:
                continue
            cell = cells[(row_value, col_value)] = Cell(count=here.bit_count(), items=indices(here))
            for level, bits in every.strength_bits.items():
                graded = (here & bits).bit_count()
                cell.graded += graded
                cell.strength_total += level * graded
            cell.segments = {v: (here & bits).bit_count() for v, bits in every.bits[segment].items() if here & bits}
            for n in cell.items:
                grade = reconciled.get((every.rows[n].case_id, every.rows[n].id))
                if grade:
                    cell.reconciled.append(grade)
    return cells
