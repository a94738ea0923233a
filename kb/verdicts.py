"""Verdicts per harm outcome, EMMIE coverage and an indicative certainty: the published rules of
docs/verdicts.md, as code. Pure functions over evidence items (kb.storage.catalog.EvidenceRow or
anything with the same fields) and cases; the knowledge base feeds them, nothing here reads a
database.

A verdict weighs the *strong* items only: an item with an SMS strength of 3 or more (the editor's
reconciled grade where there is one, else the author's), a design that can show an effect, and a
direction other than `unclear`. Each strong item is a vote for its direction; a theme's or region's
verdict on an outcome weighs its cases' verdicts the same way, each case one vote.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Protocol

from .vocabulary import default_vocabulary

STRONG = 3               # SMS level from which an item counts (the Maryland report's threshold)
# designs that describe or model, and so cannot show an effect whatever strength is written
DESCRIPTIVE = frozenset({"qualitative", "case-report", "journalism", "modelling"})
VERDICTS = ("effective", "promising", "mixed", "no-effect", "harmful", "insufficient")
# a case's verdict as a vote in a theme's or region's verdict: (direction, confirmed on its own)
CASE_VOTES = {"effective": ("improved", True), "promising": ("improved", False), "harmful": ("worsened", False),
              "no-effect": ("no-change", False), "mixed": ("mixed", False)}
EMMIE = ("effect", "mechanism", "moderators", "implementation", "economic-cost")
CERTAINTY = ("high", "moderate", "low", "very low")
# the rules in words, in the order they are applied (the /verdicts page and docs/verdicts.md)
RULES = (
    ("insufficient", f"No strong item: none has an SMS strength of {STRONG} or more, a design that can show an effect "
                     "(not qualitative, case report, journalism or modelling) and a direction other than unclear."),
    ("mixed", "Strong items found both improvement and worsening; or those of the leading direction are no more "
              "than the strong items finding no change or mixed results."),
    ("effective", "Strong items found improvement, more of them than found no change or mixed results, none found "
                  "worsening, and the improvement is replicated: two improving items citing no source in common, or one "
                  "synthesis of two or more studies (`studies`)."),
    ("promising", "As effective, but the improvement rests on one source (or sources shared by every improving item)."),
    ("harmful", "Strong items found worsening, more of them than found no change or mixed results, and none found "
                "improvement."),
    ("no-effect", "Strong items found no change, more of them than found mixed results, and none found improvement or "
                  "worsening."),
)


class Item(Protocol):
    case_id: str
    id: str
    outcome: str
    direction: str
    design: str
    strength: int | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Vote:
    direction: str                 # improved | worsened | no-change | mixed
    sources: frozenset[str]        # the sources behind it
    confirmed: bool = False        # replicated on its own: a synthesis of 2+ studies, an effective case


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    items: int = 0                 # items on the outcome
    sources: int = 0               # distinct sources they cite
    best: int | None = None        # best SMS strength among them
    reviewed: int = 0              # items whose grade an editor reconciled
    strong: int = 0                # the votes the rule weighed
    cases: int = 0                 # for a group: the cases with evidence on the outcome
    by_verdict: dict[str, int] = field(default_factory=dict)   # for a group: cases per verdict

    @property
    def badge(self) -> str:
        """'3 items, 2 sources, best SMS 4, 1 reviewed' (a group's starts with its cases)."""
        parts = [f"{self.cases} case{'s' * (self.cases != 1)}"] if self.cases else []
        parts += [f"{self.items} item{'s' * (self.items != 1)}", f"{self.sources} source{'s' * (self.sources != 1)}",
                  f"best SMS {self.best}" if self.best else "not graded",
                  f"{self.reviewed} reviewed" if self.reviewed else "not reviewed"]
        return ", ".join(parts)

    def to_dict(self) -> dict:
        data = {"verdict": self.verdict, "reason": self.reason, "items": self.items, "sources": self.sources,
                "best_strength": self.best, "reviewed": self.reviewed, "strong": self.strong, "badge": self.badge}
        if self.cases:
            data.update(cases=self.cases, by_verdict=self.by_verdict)
        return data


def strength_of(item: Item, reconciled: dict) -> int | None:
    """The reconciled SMS grade where an editor gave one, else the author's."""
    grade = reconciled.get((item.case_id, item.id))
    return grade if grade else item.strength


def is_strong(item: Item, strength: int | None) -> bool:
    return bool(strength and strength >= STRONG and item.design not in DESCRIPTIVE and item.direction != "unclear")


def independent(votes: Iterable[Vote]) -> int:
    """How many of the votes cite no source in common with each other (greedy, fewest sources first)."""
    used: set[str] = set()
    count = 0
    for vote in sorted(votes, key=lambda v: (len(v.sources), sorted(v.sources))):
        if vote.sources and not vote.sources & used:
            used |= vote.sources
            count += 1
    return count


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def decide(votes: list[Vote], noun: str = "strong finding") -> tuple[str, str]:
    """(verdict, the reason in one sentence) from the votes, by the rules of docs/verdicts.md;
    `noun` names a vote in the reason ("strong finding" for items, "case" for a group)."""
    if not votes:
        return "insufficient", f"No item of SMS {STRONG} or more, from a design that can show an effect, gives a direction."
    tally = Counter(vote.direction for vote in votes)
    up, down, flat, mixed = tally["improved"], tally["worsened"], tally["no-change"], tally["mixed"]
    others = flat + mixed
    if up and down:
        return "mixed", f"The evidence points both ways: {_n(up, noun)} of improvement, {down} of worsening."
    if up:
        if up <= others:
            return "mixed", f"{_n(up, noun)} of improvement against {others} of no change or mixed results."
        improving = [vote for vote in votes if vote.direction == "improved"]
        if independent(improving) >= 2:
            return "effective", f"{_n(up, noun)} of improvement, from independent sources; none of worsening."
        if any(vote.confirmed for vote in improving):
            return "effective", (f"{_n(up, noun)} of improvement, replicated within "
                                 f"{'a synthesis of several studies' if noun != 'case' else 'an effective case'}; "
                                 "none of worsening.")
        return "promising", f"{_n(up, noun)} of improvement, not replicated by an independent source; none of worsening."
    if down:
        if down <= others:
            return "mixed", f"{_n(down, noun)} of worsening against {others} of no change or mixed results."
        return "harmful", f"{_n(down, noun)} of worsening; none of improvement."
    if flat > mixed:
        return "no-effect", f"{_n(flat, noun)} of no change; none of improvement or worsening."
    return "mixed", f"{_n(mixed, noun)} of mixed results against {flat} of no change."


def item_verdict(items: list[Item], reconciled: dict) -> Verdict:
    """The verdict of one case on one outcome, from its items."""
    votes, strengths, reviewed, keys = [], [], 0, set()
    for item in items:
        strength = strength_of(item, reconciled)
        if strength:
            strengths.append(strength)
        if reconciled.get((item.case_id, item.id)):
            reviewed += 1
        keys.update(item.keys)
        if is_strong(item, strength):
            votes.append(Vote(item.direction, frozenset(item.keys), (getattr(item, "studies", None) or 0) >= 2))
    verdict, reason = decide(votes)
    return Verdict(verdict, reason, len(items), len(keys), max(strengths, default=None), reviewed, len(votes))


def group_verdict(per_case: dict[str, Verdict], sources: dict[str, frozenset[str]]) -> Verdict:
    """A theme's or region's verdict on one outcome from its cases' verdicts (case id -> verdict;
    `sources`: case id -> the sources of its items on the outcome)."""
    votes = [Vote(CASE_VOTES[v.verdict][0], sources.get(case_id, frozenset()), CASE_VOTES[v.verdict][1])
             for case_id, v in per_case.items() if v.verdict in CASE_VOTES]
    verdict, reason = decide(votes, "case")
    if not votes:
        reason = "No case has a verdict other than insufficient evidence on this outcome."
    every = set().union(*sources.values()) if sources else set()
    bests = [v.best for v in per_case.values() if v.best]
    return Verdict(verdict, reason, sum(v.items for v in per_case.values()), len(every), max(bests, default=None),
                   sum(v.reviewed for v in per_case.values()), len(votes), len(per_case),
                   dict(Counter(v.verdict for v in per_case.values())))


def case_verdicts(items: list[Item], harm_outcomes, reconciled: dict) -> dict[str, Verdict]:
    """outcome -> verdict, for each harm outcome a case's items measure (in vocabulary order)."""
    by_outcome: dict[str, list[Item]] = {}
    for item in items:
        if item.outcome in harm_outcomes:
            by_outcome.setdefault(item.outcome, []).append(item)
    return {outcome: item_verdict(by_outcome[outcome], reconciled) for outcome in harm_outcomes if outcome in by_outcome}


def certainty(verdict: Verdict) -> str:
    """An indicative certainty (docs/verdicts.md): from the best strength, one level down when the
    evidence is mixed or rests on one source."""
    best = verdict.best or 0
    level = 0 if best >= 4 else 1 if best >= STRONG else 2 if best == 2 else 3
    if verdict.verdict == "mixed" or (verdict.sources < 2 and level < 3):
        level += 1
    return CERTAINTY[min(level, 3)]


def emmie(case) -> list[str]:
    """The EMMIE dimensions a case documents (kb.model.Case), in EMMIE's order."""
    harms = set(default_vocabulary().kinds["indicators_harm"])     # a facet's values know no root: the defaults
    found = []
    if any(item.outcome in harms and item.strength and item.direction != "unclear" for item in case.evidence):
        found.append("effect")
    if "mechanism" in case.subsections:
        found.append("mechanism")
    if case.population or case.setting or case.legal_regime:
        found.append("moderators")
    if "implementation" in case.subsections:
        found.append("implementation")
    if case.cost or "cost" in case.subsections:
        found.append("economic-cost")
    return found


def by_case(rows: Iterable[Item]) -> dict[str, list[Item]]:
    found: dict[str, list[Item]] = {}
    for row in rows:
        found.setdefault(row.case_id, []).append(row)
    return found


def table(rows: Iterable[Item], harm_outcomes, reconciled: dict) -> dict[str, dict[str, Verdict]]:
    """case id -> outcome -> verdict, for every case with evidence on a harm outcome."""
    return {case_id: found for case_id, items in by_case(rows).items()
            if (found := case_verdicts(items, harm_outcomes, reconciled))}


def groups(verdicts: dict[str, dict[str, Verdict]], rows: Iterable[Item], case_ids: set[str],
           harm_outcomes) -> dict[str, Verdict]:
    """outcome -> the verdict of the cases in `case_ids` on it (a theme's, a region's...)."""
    sources: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        if row.case_id in case_ids and row.outcome in harm_outcomes:
            sources.setdefault(row.outcome, {}).setdefault(row.case_id, set()).update(row.keys)
    found = {}
    for outcome in harm_outcomes:
        per_case = {case_id: verdicts[case_id][outcome] for case_id in sources.get(outcome, {})
                    if outcome in verdicts.get(case_id, {})}
        if per_case:
            found[outcome] = group_verdict(per_case, {c: frozenset(k) for c, k in sources[outcome].items()})
    return found


@dataclass(frozen=True)
class Finding:
    """One row of a summary of findings: a harm outcome across a group of cases."""

    outcome: str
    verdict: Verdict
    certainty: str
    strongest: Item | None          # the item of highest strength (reconciled where reconciled)
    strongest_strength: int | None
    graded: bool = False            # the certainty is the editors' reconciled GRADE rating, not the rules'
    downgrades: tuple[str, ...] = ()   # GRADE's reasons for rating it down, when graded


def findings(group: dict[str, Verdict], rows: Iterable[Item], case_ids: set[str], reconciled: dict) -> list[Finding]:
    """A summary of findings (outcome order of `group`): the verdict, an indicative certainty and
    the strongest item of each outcome; ties go to the item listed first (case-title order)."""
    best: dict[str, tuple[int, Item]] = {}
    for row in rows:
        if row.case_id in case_ids and row.outcome in group:
            strength = strength_of(row, reconciled) or 0
            if row.outcome not in best or strength > best[row.outcome][0]:
                best[row.outcome] = (strength, row)
    return [Finding(outcome, verdict, certainty(verdict), best[outcome][1] if outcome in best else None,
                    (best[outcome][0] or None) if outcome in best else None)
            for outcome, verdict in group.items()]


def cell_verdict(items: list[Item], reconciled: dict) -> Verdict:
    """The verdict of a map cell on its one outcome, from its own items: each case's verdict on
    them, weighed as a group's (so a cell's verdict respects the map's filters)."""
    per_case = {case_id: item_verdict(found, reconciled) for case_id, found in by_case(items).items()}
    sources = {case_id: frozenset(k for item in found for k in item.keys) for case_id, found in by_case(items).items()}
    return group_verdict(per_case, sources)
