"""The evidence list: evidence items, not cases, filtered by every case facet and by their own
outcome, direction, design, strength and reconciliation, with counts per value.

Items are filtered in memory: every visible item with its facet values is read once per build
generation (kb.knowledgebase keeps it), so a request costs one pass over the items and no query
but the text search's. Facets combine as in the case search: values of one facet OR-ed, facets
AND-ed, and a chosen facet counts its other values as if it were not chosen.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .facets import FACETS
from .fields import Period
from .storage.catalog import EvidenceRow

# URL parameters of the item's own facets, with the field of EvidenceRow holding the value
ITEM_FACETS = {"outcome": "outcome", "direction": "direction", "design": "design"}
# the case facets an item inherits from its case (review status is not one: it changes between builds)
CASE_FACETS = tuple(facet.param for facet in FACETS if facet.indexed and facet.values and facet.param not in ITEM_FACETS)
PARAMS = tuple(ITEM_FACETS) + CASE_FACETS       # in the order of the list's filter panels
# the evidence map's filters: its rows are themes, its columns outcomes, its cells show directions
MAP_PARAMS = tuple(param for param in PARAMS if param not in ("theme", "outcome", "direction"))
SORTS = ("case", "strength", "period")
STRENGTHS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Item:
    """One evidence row with its values of every facet (param -> values)."""

    row: EvidenceRow
    values: dict[str, tuple[str, ...]]
    start: int


def items(rows: list[EvidenceRow], case_values: dict[str, dict[str, tuple[str, ...]]]) -> list[Item]:
    """Rows with their facet values, ready to filter (made once per build generation):
    `case_values` are each case's (kb.storage.catalog.evidence_rows), the item's own replace them."""
    made = []
    for row in rows:
        values = {param: case_values.get(row.case_id, {}).get(param, ()) for param in CASE_FACETS}
        values.update({param: (getattr(row, name),) if getattr(row, name) else () for param, name in ITEM_FACETS.items()})
        span = Period.parse(row.period)
        made.append(Item(row, values, span.start if span else 0))
    return made


@dataclass
class EvidenceList:
    total: int
    rows: list[EvidenceRow]                       # the page asked for
    cases: int                                    # distinct cases among all matches
    facets: dict[str, dict[str, int]]             # param -> value -> items
    strengths: dict[int, int] = field(default_factory=dict)   # SMS level -> items (all matches)
    reconciled: dict[tuple[str, str], int | None] = field(default_factory=dict)   # (case, item) -> grade


def select(all_items: list[Item], *, filters: dict[str, list[str]], case_ids: set[str] | None = None,
           min_strength: int | None = None, reconciled: dict[tuple[str, str], int | None] | None = None,
           only_reconciled: bool = False, sort: str = "case", limit: int = 50, offset: int = 0) -> EvidenceList:
    """The items passing every filter; `case_ids` restricts to the cases a text query found."""
    chosen = {param: frozenset(values) for param, values in filters.items() if values}
    counts: dict[str, dict[str, int]] = {param: {} for param in PARAMS}
    strengths: dict[int, int] = {}
    matched: list[Item] = []
    reconciled = reconciled or {}
    for item in all_items:
        row = item.row
        if case_ids is not None and row.case_id not in case_ids:
            continue
        if min_strength is not None and (row.strength or 0) < min_strength:
            continue
        if only_reconciled and (row.case_id, row.id) not in reconciled:
            continue
        failed = [param for param, wanted in chosen.items() if wanted.isdisjoint(item.values[param])]
        if len(failed) > 1:
            continue
        # an item failing one chosen facet still counts for that facet's other values
        for param in (failed or PARAMS):
            bucket = counts[param]
            for value in item.values[param]:
                bucket[value] = bucket.get(value, 0) + 1
        if not failed:
            matched.append(item)
            if row.strength:
                strengths[row.strength] = strengths.get(row.strength, 0) + 1
    if sort == "strength":
        matched.sort(key=lambda item: -(item.row.strength or 0))        # stable: case order within a level
    elif sort == "period":
        matched.sort(key=lambda item: -item.start)
    facets = {param: dict(sorted(bucket.items(), key=lambda kv: (-kv[1], kv[0]))) for param, bucket in counts.items()}
    page = [item.row for item in matched[offset: offset + limit]]
    return EvidenceList(len(matched), page, len({item.row.case_id for item in matched}), facets, strengths,
                        {(row.case_id, row.id): reconciled[(row.case_id, row.id)] for row in page
                         if (row.case_id, row.id) in reconciled})


@dataclass
class Cell:
    """One cell of the evidence map: the items on one outcome in one theme."""

    count: int = 0
    graded: int = 0                  # items with an SMS strength
    strength_total: int = 0
    directions: dict[str, int] = field(default_factory=dict)
    reconciled: list[int] = field(default_factory=list)   # reconciled SMS grades of its items

    @property
    def mean_strength(self) -> float | None:
        return self.strength_total / self.graded if self.graded else None


def grid(all_items: list[Item], *, filters: dict[str, list[str]], min_strength: int | None = None,
         reconciled: dict[tuple[str, str], int | None] | None = None) -> dict[tuple[str, str], Cell]:
    """(theme, outcome) -> Cell, over the items the evidence list shows for the same filters (so a
    cell's count is the total of the list it opens)."""
    chosen = {param: frozenset(values) for param, values in filters.items() if values}
    reconciled = reconciled or {}
    cells: dict[tuple[str, str], Cell] = {}
    for item in all_items:
        row = item.row
        if min_strength is not None and (row.strength or 0) < min_strength:
            continue
        if any(wanted.isdisjoint(item.values[param]) for param, wanted in chosen.items()):
            continue
        for theme in item.values["theme"]:
            cell = cells.setdefault((theme, row.outcome), Cell())
            cell.count += 1
            if row.strength:
                cell.graded += 1
                cell.strength_total += row.strength
            cell.directions[row.direction] = cell.directions.get(row.direction, 0) + 1
            grade = reconciled.get((row.case_id, row.id))
            if grade:
                cell.reconciled.append(grade)
    return cells
