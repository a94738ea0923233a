"""The verdict rules of docs/verdicts.md pinned on constructed items: which items count, each
verdict, ties and conflicts, replication, reconciled grades, groups of cases, certainty, EMMIE
coverage and the ledger's reading of outputs beside harms."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from kb import ledger, verdicts
from kb.model import Case, EvidenceItem

HARMS = ("violence", "public-health")


@dataclass(frozen=True)
class Row:
    """An evidence row as kb.storage.catalog.EvidenceRow has it (the fields the rules read)."""

    case_id: str
    id: str
    outcome: str
    direction: str
    design: str = "quasi-experimental"
    strength: int | None = 3
    keys: tuple[str, ...] = ("a",)
    studies: int | None = None
    change: str = ""
    claim: str = ""
    case_title: str = "A case"


def rows(*specs, case="c") -> list[Row]:
    """Items of one case on violence: each spec (direction, strength, keys[, design])."""
    found = []
    for n, spec in enumerate(specs):
        direction, strength, keys, *rest = spec
        found.append(Row(case, f"e{n}", "violence", direction, rest[0] if rest else "quasi-experimental",
                         strength, tuple(keys)))
    return found


def verdict(*specs, reconciled=None) -> verdicts.Verdict:
    return verdicts.item_verdict(rows(*specs), reconciled or {})


@pytest.mark.parametrize("specs,expected", [
    # nothing strong: weak items, descriptive designs, unclear directions never weigh
    ([], "insufficient"),
    ([("improved", 2, "a"), ("improved", 1, "b"), ("improved", None, "c")], "insufficient"),
    ([("improved", 4, "a", "qualitative"), ("improved", 5, "b", "journalism"), ("worsened", 3, "c", "case-report"),
      ("improved", 3, "d", "modelling")], "insufficient"),
    ([("unclear", 5, "a"), ("unclear", 4, "b")], "insufficient"),
    # one strong improvement: promising; two from independent sources: effective
    ([("improved", 3, "a")], "promising"),
    ([("improved", 3, "a"), ("improved", 4, "b")], "effective"),
    ([("improved", 3, "a"), ("improved", 4, "a")], "promising"),              # one source twice is not replication
    ([("improved", 3, "a"), ("improved", 4, "a", "rct"), ("improved", 3, "a", "time-series")], "promising"),
    ([("improved", 3, "a", "rct"), ("improved", 3, "a", "rct"), ("improved", 5, "b", "rct")], "effective"),
    ([("improved", 3, "ab"), ("improved", 3, "b")], "promising"),             # sources overlap: not independent
    # improvement outweighing no change; ties are mixed
    ([("improved", 3, "a"), ("improved", 3, "b"), ("no-change", 3, "c")], "effective"),
    ([("improved", 3, "a"), ("no-change", 3, "b")], "mixed"),
    ([("improved", 3, "a"), ("mixed", 3, "b")], "mixed"),
    ([("improved", 4, "a"), ("improved", 4, "b"), ("no-change", 3, "c"), ("mixed", 3, "d")], "mixed"),
    # any conflict between strong improvement and strong worsening is mixed
    ([("improved", 5, "a"), ("improved", 5, "b"), ("worsened", 3, "c")], "mixed"),
    ([("worsened", 3, "a"), ("improved", 3, "b")], "mixed"),
    # worsening: harmful on one strong finding, unless no change or mixed results match it
    ([("worsened", 3, "a")], "harmful"),
    ([("worsened", 3, "a"), ("worsened", 4, "a")], "harmful"),
    ([("worsened", 3, "a"), ("no-change", 3, "b")], "mixed"),
    ([("worsened", 3, "a"), ("worsened", 3, "b"), ("no-change", 3, "c")], "harmful"),
    # no change
    ([("no-change", 3, "a")], "no-effect"),
    ([("no-change", 3, "a"), ("no-change", 5, "b"), ("mixed", 3, "c")], "no-effect"),
    ([("no-change", 3, "a"), ("mixed", 3, "b")], "mixed"),
    ([("mixed", 4, "a")], "mixed"),
    # weak items beside strong ones change nothing
    ([("improved", 3, "a"), ("worsened", 2, "b"), ("worsened", 1, "c")], "promising"),
])
def test_item_rules(specs, expected):
    assert verdict(*specs).verdict == expected


def test_a_synthesis_of_several_studies_replicates_on_its_own():
    one = Row("c", "review", "violence", "improved", "quasi-experimental", 3, ("a",), studies=10)
    assert verdicts.item_verdict([one], {}).verdict == "effective"
    single = Row("c", "review", "violence", "improved", "quasi-experimental", 3, ("a",), studies=1)
    assert verdicts.item_verdict([single], {}).verdict == "promising"


def test_a_reconciled_grade_replaces_the_authors():
    items = rows(("improved", 2, "a"), ("improved", 2, "b"))
    assert verdicts.item_verdict(items, {}).verdict == "insufficient"
    raised = verdicts.item_verdict(items, {("c", "e0"): 4, ("c", "e1"): 3})
    assert (raised.verdict, raised.best, raised.reviewed) == ("effective", 4, 2)
    lowered = verdicts.item_verdict(rows(("improved", 4, "a")), {("c", "e0"): 2})
    assert (lowered.verdict, lowered.best, lowered.reviewed) == ("insufficient", 2, 1)
    # a reconciliation that gave no grade leaves the author's
    assert verdicts.item_verdict(rows(("improved", 4, "a")), {("c", "e0"): None}).verdict == "promising"


def test_the_badge_and_reason_say_what_the_verdict_rests_on():
    found = verdict(("improved", 3, "a"), ("improved", 4, "b"), ("unclear", 2, "bc"))
    assert found.badge == "3 items, 3 sources, best SMS 4, not reviewed"
    assert found.reason == "2 strong findings of improvement, from independent sources; none of worsening."
    assert found.strong == 2
    assert verdict(("improved", 2, "a")).badge == "1 item, 1 source, best SMS 2, not reviewed"
    assert verdict(("improved", None, "a")).badge == "1 item, 1 source, not graded, not reviewed"
    assert verdict(("worsened", 3, "a"), ("no-change", 3, "b")).reason == (
        "1 strong finding of worsening against 1 of no change or mixed results.")


def test_a_case_has_a_verdict_per_harm_outcome_only():
    items = [Row("c", "e1", "violence", "improved"), Row("c", "e2", "arrests", "improved"),
             Row("c", "e3", "public-health", "worsened")]
    found = verdicts.case_verdicts(items, HARMS, {})
    assert list(found) == ["violence", "public-health"]
    assert (found["violence"].verdict, found["public-health"].verdict) == ("promising", "harmful")


def group(*case_specs) -> verdicts.Verdict:
    """A group's verdict on violence from cases, each a list of item specs (distinct sources per case)."""
    items = [row for n, specs in enumerate(case_specs) for row in rows(*specs, case=f"c{n}")]
    table = verdicts.table(items, HARMS, {})
    return verdicts.groups(table, items, {f"c{n}" for n in range(len(case_specs))}, HARMS)["violence"]


def test_group_rules_weigh_cases_as_votes():
    promising_a, promising_b = [("improved", 3, "a")], [("improved", 3, "b")]
    effective = [("improved", 3, "x"), ("improved", 3, "y")]
    harmful, none = [("worsened", 3, "h")], [("improved", 2, "w")]
    assert group(promising_a, promising_b).verdict == "effective"        # two independent cases replicate
    assert group(promising_a, [("improved", 3, "a")]).verdict == "promising"   # the same source behind both
    assert group(effective).verdict == "effective"                       # an effective case replicates itself
    assert group(effective, harmful).verdict == "mixed"
    assert group(harmful, none).verdict == "harmful"                      # insufficient cases do not vote
    assert group(none, none).verdict == "insufficient"
    found = group(promising_a, promising_b, none)
    assert (found.cases, found.by_verdict) == (3, {"promising": 2, "insufficient": 1})
    assert found.badge.startswith("3 cases, 3 items, 3 sources")
    assert group(promising_a, [("no-change", 3, "n")]).verdict == "mixed"   # a tie between cases


def test_a_map_cell_weighs_only_its_own_items():
    items = rows(("improved", 3, "a"), ("worsened", 3, "b"))
    assert verdicts.cell_verdict(items, {}).verdict == "mixed"
    assert verdicts.cell_verdict(items[:1], {}).verdict == "promising"


@pytest.mark.parametrize("specs,expected", [
    ([("improved", 5, "a"), ("improved", 4, "b")], "high"),
    ([("improved", 4, "a")], "moderate"),                     # one source: a level down
    ([("improved", 3, "a"), ("improved", 3, "b")], "moderate"),
    ([("improved", 4, "a"), ("worsened", 4, "b")], "moderate"),   # mixed: a level down
    ([("improved", 2, "a"), ("improved", 2, "b")], "low"),
    ([("improved", 1, "a")], "very low"),
    ([("improved", None, "a")], "very low"),
])
def test_certainty(specs, expected):
    assert verdicts.certainty(verdict(*specs)) == expected


def test_emmie_coverage():
    bare = Case(id="c", path="c.md")
    assert verdicts.emmie(bare) == []
    full = Case(id="c", path="c.md", population=["young-people"], cost={"amount": 1}, subsections=["mechanism", "implementation"],
                evidence=[EvidenceItem(id="e", outcome="violence", direction="improved", strength=2)])
    assert verdicts.emmie(full) == list(verdicts.EMMIE)
    # effect needs a graded item with a direction on a harm outcome: an output or an unclear one is not enough
    outputs = Case(id="c", path="c.md", evidence=[EvidenceItem(id="e", outcome="arrests", direction="improved", strength=5),
                                                  EvidenceItem(id="f", outcome="violence", direction="unclear", strength=5)])
    assert verdicts.emmie(outputs) == []
    assert verdicts.emmie(Case(id="c", path="c.md", subsections=["cost"], legal_regime="tolerated")) == ["moderators", "economic-cost"]


SUCCESS = {"arrests": "up", "seizures": "up", "eradication": "up", "cultivation": "down", "convictions": "up"}


def entry(*items, case="c") -> ledger.CaseLedger:
    found = [Row(case, f"e{n}", outcome, direction, change=change) for n, (outcome, direction, change) in enumerate(items)]
    return ledger.case_ledger(case, f"Case {case}", found, SUCCESS, set(HARMS))


@pytest.mark.parametrize("items,outputs,harms,opposite", [
    ([("seizures", "improved", "up"), ("public-health", "worsened", "")], "success", "worsened", True),
    ([("arrests", "improved", "down"), ("violence", "improved", "down")], "failure", "improved", True),
    ([("cultivation", "improved", "down"), ("violence", "worsened", "")], "success", "worsened", True),
    ([("cultivation", "worsened", "up"), ("violence", "improved", "")], "failure", "improved", True),
    ([("arrests", "improved", "up"), ("violence", "improved", "")], "success", "improved", False),
    ([("arrests", "mixed", "up"), ("arrests", "mixed", "down"), ("violence", "worsened", "")], "mixed", "worsened", False),
    ([("arrests", "unclear", ""), ("violence", "worsened", "")], "", "worsened", False),   # no change given
    ([("violence", "unclear", ""), ("violence", "improved", "")], "", "improved", False),   # unclear does not count
    ([("arrests", "no-change", "no-change"), ("violence", "no-change", "")], "no-change", "no-change", False),
    ([("violence", "improved", ""), ("public-health", "worsened", "")], "", "mixed", False),
])
def test_ledger_reads_outputs_by_the_scorecard_beside_harms(items, outputs, harms, opposite):
    found = entry(*items)
    assert (found.output_move, found.harm_move, found.opposite) == (outputs, harms, opposite)


def test_ledger_counts_cases_per_cell_and_group():
    cases = {"a": entry(("seizures", "improved", "up"), ("violence", "worsened", ""), case="a"),
             "b": entry(("arrests", "improved", "up"), ("violence", "improved", ""), case="b"),
             "c": entry(("violence", "improved", ""), case="c")}
    found = ledger.ledger(cases, {"a": ("t1",), "b": ("t1", "t2"), "c": ("t2",)})
    assert found.cells == {("success", "worsened"): 1, ("success", "improved"): 1}
    assert (found.both, found.opposite) == (2, 1)
    assert found.groups == {"t1": {"cases": 2, "both": 2, "opposite": 1}, "t2": {"cases": 2, "both": 1, "opposite": 0}}
    assert [c.case_id for c in ledger.ledger(cases, {}, opposite=True).cases] == ["a"]
    assert [c.case_id for c in ledger.ledger(cases, {}, only={"b", "c"}).cases] == ["b", "c"]
