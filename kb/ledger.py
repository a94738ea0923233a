"""The output-versus-harm ledger: what a case's traditional enforcement outputs did (arrests,
seizures, eradication, cultivation, convictions: did the count go up or down, the items' `change`,
and so did the traditional scorecard call it a success or a failure, by the indicator's `success`
in the vocabulary) beside what its harms did (violence, health, corruption...: better or worse,
the items' `direction`). The series' thesis is that the two can disagree; the ledger shows where.

Descriptive, not a verdict: every item counts, whatever its strength (docs/verdicts.md).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

# what the scorecard of outputs said and what harms did
OUTPUT_MOVES = ("success", "failure", "mixed", "no-change")
HARM_MOVES = ("improved", "worsened", "mixed", "no-change")
# the two cells where counting outputs misleads: a success by the count while harms worsened, or a
# failure by the count while harms improved
OPPOSITE = {("success", "worsened"), ("failure", "improved")}


@dataclass
class Entry:
    """One item of a case's ledger."""

    id: str
    outcome: str
    move: str          # an output's change (up, down...), or a harm's direction ("" when not given)
    claim: str
    score: str = ""    # an output's reading by the scorecard: success, failure, mixed, no-change or ""


@dataclass
class CaseLedger:
    case_id: str
    title: str
    outputs: list[Entry] = field(default_factory=list)
    harms: list[Entry] = field(default_factory=list)
    output_move: str = ""      # OUTPUT_MOVES: the scorecard of its outputs, or "" (none says how it moved)
    harm_move: str = ""        # HARM_MOVES, or "" (no harm item with a direction)

    @property
    def opposite(self) -> bool:
        return (self.output_move, self.harm_move) in OPPOSITE

    @property
    def both(self) -> bool:
        return bool(self.output_move and self.harm_move)

    def to_dict(self) -> dict:
        return {"case": self.case_id, "title": self.title, "outputs": [vars(e) for e in self.outputs],
                "harms": [vars(e) for e in self.harms], "output_move": self.output_move,
                "harm_move": self.harm_move, "opposite": self.opposite}


def summed(moves: Iterable[str], up: str, down: str) -> str:
    """One move for several: `up` or `down` when all agree, mixed when they differ (or one is
    mixed), no-change when none moved, "" when none is known."""
    seen = {move for move in moves if move and move != "unclear"}
    if not seen:
        return ""
    if "mixed" in seen or {up, down} <= seen:
        return "mixed"
    for move in (up, down):
        if move in seen:
            return move
    return "no-change"


def score(change: str, success: str) -> str:
    """How the scorecard reads an output's change, given the way its count moves on success."""
    if change in ("up", "down"):
        return "success" if change == success else "failure"
    return change


def case_ledger(case_id: str, title: str, rows, success: dict[str, str], harms: set[str]) -> CaseLedger:
    """A case's ledger from its evidence rows (kb.storage.catalog.EvidenceRow); `success`: each
    traditional indicator -> the way its count moves on success (up or down)."""
    found = CaseLedger(case_id, title)
    for row in rows:
        if row.outcome in success:
            found.outputs.append(Entry(row.id, row.outcome, row.change, row.claim, score(row.change, success[row.outcome])))
        elif row.outcome in harms:
            found.harms.append(Entry(row.id, row.outcome, row.direction, row.claim))
    found.output_move = summed((e.score for e in found.outputs), "success", "failure")
    found.harm_move = summed((e.move for e in found.harms), "improved", "worsened")
    return found


@dataclass
class Ledger:
    cases: list[CaseLedger]                       # the cases asked for, in title order
    cells: dict[tuple[str, str], int]             # (output move, harm move) -> cases
    groups: dict[str, dict[str, int]]             # group value -> {"cases", "both", "opposite"}

    @property
    def opposite(self) -> int:
        return sum(count for cell, count in self.cells.items() if cell in OPPOSITE)

    @property
    def both(self) -> int:
        return sum(self.cells.values())


def ledger(by_case: dict[str, CaseLedger], groups_of: dict[str, tuple[str, ...]], only: set[str] | None = None,
           opposite: bool = False) -> Ledger:
    """The ledger of the cases in `only` (all when None): the cross-table of moves over the cases
    measuring both, counts per group value (`groups_of`: case id -> its themes, regions...), and the
    cases themselves (only those where outputs and harms disagree, with `opposite`)."""
    chosen = [entry for case_id, entry in by_case.items() if only is None or case_id in only]
    cells = Counter((e.output_move, e.harm_move) for e in chosen if e.both)
    groups: dict[str, dict[str, int]] = {}
    for entry in chosen:
        for value in groups_of.get(entry.case_id, ()):
            counts = groups.setdefault(value, {"cases": 0, "both": 0, "opposite": 0})
            counts["cases"] += 1
            counts["both"] += entry.both
            counts["opposite"] += entry.opposite
    shown = [e for e in chosen if e.opposite] if opposite else chosen
    # groups in the order of their values, whatever order the cases came in (a set's order differs
    # between processes: two web workers, or kb publish's, must make the same page)
    return Ledger(sorted(shown, key=lambda e: (e.title, e.case_id)), dict(cells), dict(sorted(groups.items())))
