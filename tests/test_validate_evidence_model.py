"""The evidence model's optional keys (issue 13): good values convert, bad ones give one line
`path:line: severity: message` naming the field, the value and the fix."""
from __future__ import annotations

import textwrap

import pytest
from conftest import case_text

from kb.cli import main
from kb.content.loader import load_collection

P = "case_studies/sample-case.md"


def item(extra: str, claim: str = "Overdose deaths near the site fell by 35%, from 20 to 13 (n = 318).") -> str:
    """The sample evidence item (its `strength` on line 21) with `extra` lines after it."""
    return textwrap.dedent(f"""\
        evidence:
          - id: overdose-deaths
            claim: {claim}
            cite: "[@doe2020policing, p. 5]"
            outcome: public-health
            direction: improved
            design: before-after
            strength: 3
        """) + textwrap.indent(textwrap.dedent(extra), "    ").rstrip()


GOOD_EFFECT = """\
effect:
  value: -35
  type: percent-change
  unit: overdose deaths near the site
  ci: [-50, -20]
  p: "0.01"
  significant: "yes"
  n: 318
  unit_of_analysis: people
  comparison: the two years before
  follow_up: two years
studies: 4
change: down
"""

BAD = [
    # (name, front-matter overrides, expected start of a line)
    ("effect not a mapping", dict(evidence=item("effect: -35")),
     f"{P}:22: error: evidence[0].effect must be a mapping of keys (value, type, unit, ci, p, significant, n, "
     "unit_of_analysis, comparison, follow_up), e.g. {value: -63, type: percent-change, unit: homicides per month}"),
    ("effect without a value", dict(evidence=item("effect:\n  type: percent-change")),
     f"{P}:22: error: required field 'evidence[0].effect.value' is missing; The effect as a number, as the source "
     "gives it; a fall is negative."),
    ("value not a number", dict(evidence=item("effect:\n  value: 35%\n  type: percent-change")),
     f"{P}:23: error: evidence[0].effect.value '35%' is not a number; write digits with an optional sign and "
     "decimal point, without separators, units or %; write '35'"),
    ("value with separators", dict(evidence=item("effect:\n  value: 1,200\n  type: absolute-change")),
     f"{P}:23: error: evidence[0].effect.value '1,200' is not a number; write digits with an optional sign and "
     "decimal point, without separators, units or %; write '1200'"),
    ("value too large to be a figure", dict(evidence=item("effect:\n  value: 1e999\n  type: other")),
     f"{P}:23: error: evidence[0].effect.value '1e999' is not a number"),
    ("unknown effect type", dict(evidence=item("effect:\n  value: -35\n  type: percentage-change")),
     f"{P}:24: error: unknown effect type 'percentage-change' in evidence[0].effect.type (did you mean 'percent-change'?)"),
    ("ci outside the value", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  ci: [-30, -10]")),
     f"{P}:25: error: evidence[0].effect.ci [-30, -10] does not contain the value -35; copy both from the source "
     "(a ratio's interval is on the ratio's scale)"),
    ("ci backwards", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  ci: [-20, -50]")),
     f"{P}:25: error: evidence[0].effect.ci [-20, -50] runs backwards; write [-50, -20]"),
    ("ci not a pair", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  ci: -20")),
     f"{P}:25: error: evidence[0].effect.ci must be a list of two numbers [low, high], as the source prints it"),
    ("p out of range", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  p: 5")),
     f"{P}:25: error: evidence[0].effect.p 5 is not a p-value from 0 to 1; write it as printed, e.g. 0.03 "
     "(for 'p < 0.05' write `significant: \"yes\"` instead)"),
    ("p as an inequality", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  p: <0.05")),
     f"{P}:25: error: evidence[0].effect.p '<0.05' is not a number"),
    ("unknown significance", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  significant: maybe")),
     f"{P}:25: error: unknown significance 'maybe' in evidence[0].effect.significant (use one of: yes, no, unclear)"),
    ("negative n", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  n: -318")),
     f"{P}:25: error: evidence[0].effect.n '-318' must be a whole number from 1 (a count, never negative or zero); "
     "leave it out when the source does not give it"),
    ("unknown effect key", dict(evidence=item("effect:\n  value: -35\n  type: percent-change\n  sample: 318")),
     f"{P}:25: warning: unknown key 'evidence.0.effect.sample' is ignored"),
    ("value not in the claim", dict(evidence=item("effect:\n  value: -42\n  type: percent-change")),
     f"{P}:23: warning: evidence[0].effect.value -42 is not a figure of the claim; write the figure in the claim "
     "as the source gives it (and check it at the cited locator)"),
    ("zero studies", dict(evidence=item("studies: 0")),
     f"{P}:22: error: evidence[0].studies '0' must be a whole number from 1"),
    ("unknown change", dict(evidence=item("change: rose")),
     f"{P}:22: error: unknown change 'rose' in evidence[0].change (use one of: up, down, no-change, mixed)"),
    ("unknown population", dict(population="[drug-users]"),
     f"{P}:14: error: unknown population 'drug-users' in population (use one of: people-who-use-drugs,"),
    ("unknown setting", dict(setting="[city]"),
     f"{P}:14: error: unknown setting 'city' in setting (use one of: urban, rural,"),
    ("unknown drug", dict(drugs="[canabis]"),
     f"{P}:14: error: unknown drug 'canabis' in drugs (did you mean 'cannabis'?)"),
    ("legal regime a list", dict(legal_regime="[tolerated]"),
     f"{P}:14: error: legal_regime must be text, not a list"),
    ("unknown legal regime", dict(legal_regime="decriminalized"),
     f"{P}:14: error: unknown legal regime 'decriminalized' in legal_regime (did you mean 'decriminalised'?)"),
    ("lead agencies a mapping", dict(lead_agencies="{police: yes}"),
     f"{P}:14: error: lead_agencies must be a list, not a mapping; write [a, b]"),
    ("effect value a list", dict(evidence=item("effect:\n  value: [1, 2]\n  type: other")),
     f"{P}:23: error: evidence[0].effect.value must be a single value, not a list"),
    ("unknown currency", dict(cost='{amount: 1500000, currency: UKP, year: 2016, cite: "[@doe2020policing, p. 4]"}'),
     f"{P}:14: error: cost.currency 'UKP' is not an ISO 4217 currency code; write three capitals such as 'USD', "
     "'GBP', 'EUR' or 'COP'"),
    ("negative cost", dict(cost='{amount: -5, currency: GBP, cite: "[@doe2020policing, p. 4]"}'),
     f"{P}:14: error: cost.amount -5 is negative; a cost is a positive amount"),
    ("cost without a citation", dict(cost="{amount: 5, currency: GBP}"),
     f"{P}:14: error: required field 'cost.cite' is missing; Where the figure is given"),
    ("cost citing an unknown key", dict(cost='{amount: 5, currency: GBP, cite: "[@nobody2020, p. 4]"}'),
     f"{P}:14: error: citation key '@nobody2020' is not in bibliography.bib"),
    ("cost year", dict(cost='{amount: 5, currency: GBP, year: 16, cite: "[@doe2020policing]"}'),
     f"{P}:14: error: cost.year '16' is not a year; write four digits, e.g. 2016"),
    ("mechanism near miss", dict(body="## Intervention\n\n### Mechanisms\n\nText [@doe2020policing].\n"),
     f"{P}:25: warning: heading '### Mechanisms' is not read as EMMIE's mechanism; write it as '### Mechanism'"),
    ("mechanism at the wrong level", dict(body="## Intervention\n\n## Mechanism\n\nText [@doe2020policing].\n"),
     f"{P}:25: warning: heading '## Mechanism' is not read as EMMIE's mechanism; write it as '### Mechanism'"),
    ("empty implementation", dict(body="## Intervention\n\n### Implementation\n\n## Outcomes\n\nText [@doe2020policing].\n"),
     f"{P}:25: warning: subsection '### Implementation' is empty; write what the sources say, with citations, or "
     "remove the heading"),
    ("cost twice", dict(body="### Cost\n\nA [@doe2020policing].\n\n### Cost\n\nB.\n"),
     f"{P}:27: warning: subsection '### Cost' appears twice (also at body line 1); merge them"),
]


@pytest.mark.parametrize("name,overrides,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_value_names_file_line_field_value_and_fix(kb_root, runner, name, overrides, expected):
    root = kb_root({"sample-case.md": case_text(**overrides)})
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert any(line.startswith(expected) for line in result.output.splitlines()), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == (0 if ": warning: " in expected else 1)


def test_good_values_convert(kb_root):
    body = ("## Intervention\n\n### Mechanism\n\nDeterrence [@doe2020policing, p. 2].\n\n"
            "### Implementation\n\nTraining [@doe2020policing, p. 3].\n\n## Outcomes\n\n### Cost\n\nCheap.\n")
    root = kb_root({"sample-case.md": case_text(
        evidence=item(GOOD_EFFECT), population="[people-who-inject, police-officers]", setting="[urban, health-services]",
        drugs="[heroin]", legal_regime="prohibition", lead_agencies='["Vancouver Police Department"]',
        cost='{amount: "1.5e6", currency: CAD, year: 2004, covers: the first year, cite: "[@roe2015cannabis, p. 4]"}',
        body=body)})
    collection = load_collection(root)
    assert [p for p in collection.problems if p.severity != "info"] == []
    case = collection.cases[0]
    assert case.evidence[0].effect == {"value": -35, "type": "percent-change", "unit": "overdose deaths near the site",
                                       "ci": [-50, -20], "p": 0.01, "significant": "yes", "n": 318,
                                       "unit_of_analysis": "people", "comparison": "the two years before",
                                       "follow_up": "two years"}
    assert (case.evidence[0].studies, case.evidence[0].change) == (4, "down")
    assert (case.population, case.setting, case.drugs, case.legal_regime) == (
        ["people-who-inject", "police-officers"], ["urban", "health-services"], ["heroin"], "prohibition")
    assert case.lead_agencies == ["Vancouver Police Department"]
    assert case.cost == {"amount": 1500000, "currency": "CAD", "year": 2004, "covers": "the first year",
                         "cite": "[@roe2015cannabis, p. 4]"}
    assert "roe2015cannabis" in case.cited_keys()        # the cost's source is cited by the case
    assert case.subsections == ["mechanism", "implementation", "cost"]


def test_every_existing_file_stays_valid(kb_root, runner):
    root = kb_root({"sample-case.md": case_text()})
    result = runner.invoke(main, ["--root", str(root), "validate", "--strict"])
    assert result.exit_code == 0, result.output
