"""Every front-matter key, declared once as data: the validator, docs and web read this table."""
from __future__ import annotations

import re
from dataclasses import dataclass

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# words the review pages' URLs use after an id (/reviews/item/<case>/<evidence>/history): an id
# spelled like one would make /reviews/item/<case>/history mean two things
RESERVED_IDS = frozenset({"history", "reconcile"})
PERIOD = re.compile(r"^(\d{4})(?:(-)(\d{4})?)?$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # slug | text | terms | countries | period | mapping | date | evidence | choice | strings
    required: bool = False
    vocabulary: str | None = None
    help: str = ""


CASE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "slug", True, help="Stable identifier [a-z0-9][a-z0-9-]*, unique; the file name should equal it."),
    FieldSpec("title", "text", True, help="Title of the case study."),
    FieldSpec("summary", "text", True, help="One to three sentences of plain text."),
    FieldSpec("themes", "terms", True, "themes", "One or more of the six MDLE themes."),
    FieldSpec("concepts", "terms", False, "concepts", "Concepts of the modernised approach the case illustrates."),
    FieldSpec("country", "countries", True, help="ISO 3166-1 alpha-2 code, or a list of them (NO is Norway)."),
    FieldSpec("locality", "text", False, help="City, region or district."),
    FieldSpec("period", "period", True, help='"YYYY", "YYYY-YYYY" or "YYYY-" (ongoing); quote it.'),
    FieldSpec("market_levels", "terms", False, "market_levels", "Levels of the drug market concerned."),
    FieldSpec("indicators", "indicators", False, help="Mapping with lists `traditional` and `harm`."),
    FieldSpec("population", "terms", False, "population", "Who the intervention is aimed at or works through (vocabulary)."),
    FieldSpec("setting", "terms", False, "settings", "Where it takes place (vocabulary)."),
    FieldSpec("drugs", "terms", False, "drugs", "The drugs concerned (vocabulary)."),
    FieldSpec("legal_regime", "choice", False, "legal_regimes", "The legal regime of those drugs in the case's place and period."),
    FieldSpec("lead_agencies", "strings", False, help="The agencies that led it, as the sources name them."),
    FieldSpec("cost", "cost", False, help="Mapping: amount, currency (ISO 4217), year, covers, cite."),
    FieldSpec("tags", "strings", False, help="Free tags."),
    FieldSpec("status", "choice", False, "statuses", "draft or published (default published)."),
    FieldSpec("updated", "date", False, help="ISO date of the last substantive update (YYYY-MM-DD)."),
    FieldSpec("checked", "date", False, help="ISO date the content was last checked against its sources (YYYY-MM-DD)."),
    FieldSpec("authors", "strings", False, help="Authors of the case study, 'Family, Given'."),
    FieldSpec("former_ids", "slugs", False, help="Earlier ids of this case; reviews follow the case."),
    FieldSpec("evidence", "evidence", False, help="Evidence items: claims with outcome, direction, design."),
)

EVIDENCE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "slug", True, help="Slug, unique within the case; stable."),
    FieldSpec("claim", "text", True, help="The claim, in plain text."),
    FieldSpec("cite", "cite", True, help='Citations in body syntax, e.g. "[@key, p. 12; @other]".'),
    FieldSpec("outcome", "choice", True, "indicators", "An indicator from the traditional or harm list."),
    FieldSpec("direction", "choice", True, "directions", "improved, worsened, mixed, no-change or unclear."),
    FieldSpec("design", "choice", True, "designs", "Study design behind the claim."),
    FieldSpec("strength", "strength", False, help="Maryland Scientific Methods Scale, integer 1-5."),
    FieldSpec("effect", "effect", False, help="Mapping: the effect as the source gives it (value, type, unit, ci, p or significant, n, ...)."),
    FieldSpec("studies", "count", False, help="For a synthesis: the number of studies it pools (a whole number from 1)."),
    FieldSpec("change", "choice", False, "changes", "How the measured quantity moved: up, down, no-change or mixed (the ledger reads it for outputs)."),
)

EFFECT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("value", "number", True, help="The effect as a number, as the source gives it; a fall is negative."),
    FieldSpec("type", "choice", True, "effect_types", "What the number is (vocabulary: effect types)."),
    FieldSpec("unit", "text", False, help='What was measured, e.g. "homicides per month".'),
    FieldSpec("ci", "ci", False, help="Confidence interval [low, high], as printed; it must contain the value."),
    FieldSpec("p", "probability", False, help="The p-value, from 0 to 1, as printed."),
    FieldSpec("significant", "choice", False, "significance", "yes, no or unclear: significance as the source reports it."),
    FieldSpec("n", "count", False, help="Sample size, a whole number from 1."),
    FieldSpec("unit_of_analysis", "text", False, help="What n counts: people, areas, months, gangs, ..."),
    FieldSpec("comparison", "text", False, help="What the effect is relative to."),
    FieldSpec("follow_up", "text", False, help="The length of follow-up, as stated."),
)

COST_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("amount", "number", True, help="The amount, a plain number (8.62 billion is 8620000000)."),
    FieldSpec("currency", "currency", True, help="ISO 4217 code, e.g. USD, GBP, EUR."),
    FieldSpec("year", "year", False, help="The year the amount refers to (YYYY)."),
    FieldSpec("covers", "text", False, help="What the amount pays for."),
    FieldSpec("cite", "cite", True, help='Where the figure is given, e.g. "[@key, p. 12]".'),
)

# the body's `### ` subsections validation recognises (EMMIE's mechanism, implementation, cost)
SUBSECTIONS = {"mechanism": "Mechanism", "implementation": "Implementation", "cost": "Cost"}

INDICATOR_GROUPS = {"traditional": "indicators_traditional", "harm": "indicators_harm"}


CURRENT_YEAR_CAP = 2100   # an ongoing period's years run to this year at most


@dataclass(frozen=True)
class Period:
    """A case's period as a value: `2003`, `2003-2005`, or ongoing `2003-` (end None). Parsed once
    here; the index, the stored rows and the facets ask it instead of re-reading the string."""

    start: int
    end: int | None

    @classmethod
    def parse(cls, value: str) -> "Period | None":
        match = PERIOD.match(value or "")
        if not match:
            return None
        start = int(match.group(1))
        if match.group(2) is None:
            return cls(start, start)
        return cls(start, int(match.group(3)) if match.group(3) else None)

    def years(self, this_year: int) -> list[int]:
        """Every year of the period; an ongoing one runs to `this_year`."""
        end = this_year if self.end is None else self.end
        return list(range(self.start, min(end, CURRENT_YEAR_CAP) + 1))

    def decades(self, this_year: int) -> list[str]:
        """'1992-2005' -> ['1990s', '2000s']."""
        return sorted({f"{year // 10 * 10}s" for year in self.years(this_year)})


def parse_period(value: str) -> tuple[int, int | None] | None:
    """'2003' -> (2003, 2003); '2003-2005' -> (2003, 2005); '2003-' -> (2003, None)."""
    period = Period.parse(value)
    return (period.start, period.end) if period else None
