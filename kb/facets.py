"""Every facet, declared once. One row feeds the search index (its keyword field and facet counts),
the stored term rows, the web's filters and facet panels, the JSON API and its OpenAPI document,
and the `kb search` options. Adding a facet is a row here (and its terms in kb/vocabulary.yaml).

- `name`: the index field and the key of the facet counts in search results (JSON: `facets`);
- `param`: the URL parameter, the CLI option (`--param`, with `-` for `_`) and the stored term kind;
- `vocabulary`: the vocabulary kind that lists its values (None: checked against `pattern`);
- `values`: a case's values (`this_year` ends an ongoing period);
- `indexed`: False for a facet that is not in the index (review status comes from the reviews);
- `related`, `reason`: how much a value two cases share counts when kb/related.py finds related
  cases (0: not at all), and how it reads: a noun ("theme": "same theme and region") or a phrase
  with {} for the shared values ("both measure {}": "both measure violence").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .model import Case
from .verdicts import emmie


@dataclass(frozen=True)
class Facet:
    name: str
    param: str
    label: str
    help: str
    vocabulary: str | None = None
    values: Callable[[Case, int], list[str]] | None = None
    pattern: str = ""          # the form of a value without a vocabulary
    example: str = ""
    upper: bool = False        # values are upper-cased (country codes)
    indexed: bool = True
    stored: bool = False       # kept in the index for result lists (themes, country)
    terms: bool = False        # stored as term rows too (case lists by theme, concept, country...)
    aliases: tuple[str, ...] = ()   # more `field:` names for queries
    related: float = 0.0       # weight of a shared value in related cases (kb/related.py)
    reason: str = ""           # ... and how it reads

    @property
    def option(self) -> str:
        return "--" + self.param.replace("_", "-")

    def check(self, value: str) -> bool:
        return not self.pattern or re.fullmatch(self.pattern, value) is not None


def decades(case: Case, this_year: int) -> list[str]:
    return case.span.decades(this_year) if case.span else []


FACETS: tuple[Facet, ...] = (
    Facet("themes", "theme", "Theme", "MDLE theme", "themes", lambda case, _: case.themes, stored=True, terms=True,
          related=3.0, reason="theme"),
    Facet("concepts", "concept", "Concept", "concept", "concepts", lambda case, _: case.concepts, terms=True,
          related=1.5, reason="concept"),
    Facet("country", "country", "Country", "ISO 3166-1 alpha-2 code", None, lambda case, _: case.country,
          pattern=r"[A-Za-z]{2}", example="GB", upper=True, stored=True, terms=True, related=2.0, reason="country"),
    Facet("regions", "region", "Region", "UN M49 region, sub-region or intermediate region", "regions",
          lambda case, _: case.regions, example="latin-america-and-the-caribbean", terms=True,
          related=1.0, reason="region"),
    Facet("market_levels", "market_level", "Market level", "market level", "market_levels",
          lambda case, _: case.market_levels, terms=True, related=1.0, reason="market level"),
    Facet("outcome", "outcome", "Outcome", "outcome of an evidence item", "indicators",
          lambda case, _: sorted({item.outcome for item in case.evidence if item.outcome}),
          related=2.0, reason="both measure {}"),
    Facet("direction", "direction", "Direction", "direction of an evidence item's outcome", "directions",
          lambda case, _: sorted({item.direction for item in case.evidence if item.direction})),
    Facet("design", "design", "Design", "study design of an evidence item", "designs",
          lambda case, _: sorted({item.design for item in case.evidence if item.design}),
          related=1.0, reason="study design"),
    Facet("population", "population", "Population", "who the intervention is aimed at or works through",
          "population", lambda case, _: case.population, terms=True, related=1.0, reason="population"),
    Facet("setting", "setting", "Setting", "where it takes place", "settings", lambda case, _: case.setting,
          terms=True, related=0.5, reason="setting"),
    Facet("drugs", "drug", "Drug", "the drugs concerned", "drugs", lambda case, _: case.drugs, terms=True,
          related=1.0, reason="drug"),
    Facet("legal_regime", "legal_regime", "Legal regime", "the legal regime of the drugs concerned", "legal_regimes",
          lambda case, _: [case.legal_regime] if case.legal_regime else [], terms=True, related=1.0,
          reason="legal regime"),
    Facet("emmie", "emmie", "EMMIE coverage", "what the case documents of Effect, Mechanism, Moderators, "
          "Implementation and Economic cost", "emmie", lambda case, _: emmie(case)),
    Facet("decade", "decade", "Decade", "decade of the case's period", None,
          decades, pattern=r"\d{3}0s", example="1990s",
          aliases=("decades",)),
    Facet("review", "review", "Review", "review status (from the reviews, not the index)", indexed=False),
    Facet("verdict", "verdict", "Verdict", "a verdict the case has on a harm outcome (docs/verdicts.md; from the "
          "evidence and the reviews, not the index)", "verdicts", indexed=False),
)
BY_PARAM = {facet.param: facet for facet in FACETS}
BY_NAME = {facet.name: facet for facet in FACETS}
INDEX_FACETS = tuple(facet.name for facet in FACETS if facet.indexed)

# Sort orders a search can be asked for (every backend implements each).
SORTS = ("relevance", "period", "updated")


def facet_values(case: Case, this_year: int) -> dict[str, list[str]]:
    """A case's values of every indexed facet."""
    return {facet.name: facet.values(case, this_year) for facet in FACETS if facet.indexed and facet.values}
