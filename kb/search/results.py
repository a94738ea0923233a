"""What a search backend takes and gives, whatever the engine: documents to index, hits and results."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hit:
    id: str
    title: str
    score: float
    snippet: str
    themes: list[str]
    country: list[str]
    period: str
    emmie: list[str] = field(default_factory=list)    # EMMIE coverage (kb/verdicts.py), for the badge


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    fallback: bool = False
    ids: list[str] = field(default_factory=list)   # every matching case id (not in the JSON)
    # no case had every word: (the most words a case has, the words of the query); cases with
    # some words are shown, those with the most first
    relaxed: tuple[int, int] | None = None

    def to_dict(self) -> dict:
        return {"query": self.query, "total": self.total, "results": [hit.__dict__ for hit in self.hits],
                "facets": self.facets, "suggestion": self.suggestion,
                "relaxed": {"most_words": self.relaxed[0], "words": self.relaxed[1]} if self.relaxed else None}


@dataclass
class IndexDoc:
    """What the index needs of one case; made by the build from a Case and its sources."""

    fields: dict[str, object]
    facets: dict[str, list[str]]
    # the text by weight, for engines that weight parts of one vector rather than repeat them
    # (PostgreSQL): A the title, B the summary, C claims, tags, place and country names, D the body
    # and the cited sources' authors and titles
    weighted: dict[str, str] = field(default_factory=dict)
