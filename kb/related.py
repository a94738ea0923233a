"""Related cases by structure and text, each with the reasons a reader is shown ("same theme and
region", "both measure violence").

Text alone misleads: the backend's more-like-this matches distinctive words, so Rio's police
pacification units found English arrest referral (both write of police, drugs and arrests) before
the cases a researcher would set beside it: targeted deterrence against armed violence in Latin
America. So what two cases share counts too, by facet (kb.facets: each facet's `related` weight
and `reason`): themes, concepts, country and region, market levels, outcomes measured, designs.

For the case `a` and another case `c` (each part from 0 to 1):

    weight(v)  = the facet's `related` x log((N + 1) / number of cases having v)
    structure  = sum of weight(v) over the values both have / sum of weight(v) over a's values
    text       = c's more-like-this score / the best more-like-this score for a (TEXT_CANDIDATES of them)
    score      = (1 - TEXT_SHARE) x structure + TEXT_SHARE x text

The logarithm is an inverse document frequency: a value most cases have (a big theme, a common
design) says little; one few have (a country, a rare outcome) says much. Drafts are left out
unless asked for. The cost is the posting sets of the case's own values (kept by the backend) and
one more-like-this: measured in docs/architecture.md.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Callable

from .facets import FACETS, Facet
from .search import Hit, Searcher

TEXT_SHARE = 0.3          # how much of the score is the text similarity; the rest is structure
TEXT_CANDIDATES = 30      # more-like-this hits taken, then re-ranked with the structure
SIMILAR_TEXT = 0.6        # a text score of at least this share of the best is a reason of its own
REASON_SHARE = 1 / 3      # a facet named by a noun ("same region") is a reason when the shared values
                          # carry this share of the case's weight in it (the Americas alone is not)
MIN_WEIGHT = 0.01         # values with less (nearly every case has them) are not counted
WEIGHTED: tuple[Facet, ...] = tuple(facet for facet in FACETS if facet.indexed and facet.related > 0)


@dataclass
class Related(Hit):
    """A related case: a search hit (its score is the combined one) and why it is related."""

    reasons: list[str] = field(default_factory=list)


def related(searcher: Searcher, case_id: str, limit: int = 5, drafts: bool = False,
            label: Callable[[str, str], str] | None = None) -> list[Related]:
    """The `limit` cases most like `case_id`, best first. `label(vocabulary kind, value)` names a
    shared value in a reason (default: the value with spaces for hyphens)."""
    own = searcher.facet_values(case_id)
    weights, structure = _structure(searcher, own, drafts)
    structure.pop(case_id, None)
    texts = {hit.id: hit for hit in searcher.more_like_this(case_id, limit=TEXT_CANDIDATES, drafts=drafts)
             if hit.id != case_id}
    best_text = max((hit.score for hit in texts.values()), default=0.0) or 1.0
    own_total = sum(weights.values()) or 1.0
    scores = {other: (1 - TEXT_SHARE) * value / own_total for other, value in structure.items()}
    for other, hit in texts.items():
        scores[other] = scores.get(other, 0.0) + TEXT_SHARE * hit.score / best_text
    best = heapq.nsmallest(limit, ((other, score) for other, score in scores.items() if score > 0),
                           key=lambda pair: (-pair[1], pair[0]))
    stored = {hit.id: hit for hit in searcher.hits([other for other, _ in best if other not in texts])}
    found = []
    for other, score in best:
        hit = texts.get(other) or stored.get(other)
        if hit is None:
            continue
        text = texts[other].score / best_text if other in texts else 0.0
        found.append(Related(**{**vars(hit), "score": round(score, 4), "snippet": ""},
                             reasons=reasons(own, searcher.facet_values(other), text, weights, label)))
    return found


def _structure(searcher: Searcher, own: dict[str, list[str]], drafts: bool
               ) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """(weight of each of the case's own values, summed weight of the values each other case shares)."""
    total = searcher.doc_count()
    weights: dict[tuple[str, str], float] = {}
    shared: dict[str, float] = {}
    for facet in WEIGHTED:
        for value in dict.fromkeys(own.get(facet.name, ())):
            having = searcher.cases_with(facet.name, value, drafts)
            weight = facet.related * math.log((total + 1) / max(len(having), 1))
            weights[(facet.name, value)] = weight
            if weight < MIN_WEIGHT:
                continue      # nearly every case has it: it says nothing, and counting it is the cost
            get = shared.get
            for other in having:
                shared[other] = get(other, 0.0) + weight
    return weights, shared


def reasons(own: dict[str, list[str]], other: dict[str, list[str]], text: float,
            weights: dict[tuple[str, str], float], label: Callable[[str, str], str] | None = None) -> list[str]:
    """Why two cases are related, as short phrases: ["same theme and region", "both measure
    violence", "similar wording"], in the order of the facets. `weights` are those of the case's
    own values (from _structure)."""
    nouns, phrases = [], []
    for facet in WEIGHTED:
        values = list(dict.fromkeys(own.get(facet.name, ())))
        common = [value for value in values if value in other.get(facet.name, ())]
        if not common:
            continue
        if "{}" in facet.reason:
            names = [label(facet.vocabulary, value) if label and facet.vocabulary else value.replace("-", " ")
                     for value in common]
            phrases.append(facet.reason.format(_and([name.lower() for name in names])))
        elif sum(weights.get((facet.name, v), 0.0) for v in common) >= REASON_SHARE * sum(
                weights.get((facet.name, v), 0.0) for v in values):
            nouns.append(facet.reason)
    found = ([f"same {_and(nouns)}"] if nouns else []) + phrases
    return found + (["similar wording"] if text >= SIMILAR_TEXT else [])


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
