"""Domain objects. They do no I/O: the loader and codecs make them, storage writes them."""
from __future__ import annotations

from dataclasses import dataclass, field

from .fields import Period
from .regions import regions_of


@dataclass(frozen=True)
class CiteRef:
    """One cited work inside a citation group: `@key, p. 12` -> key='key', locator='p. 12'."""

    key: str
    locator: str = ""
    prefix: str = ""
    suppress_author: bool = False


@dataclass(frozen=True)
class Citation:
    """A bracketed citation group as written, with its position in the text."""

    refs: tuple[CiteRef, ...]
    start: int
    end: int
    line: int = 1


@dataclass
class EvidenceItem:
    id: str
    claim: str = ""
    cite: str = ""
    outcome: str = ""
    direction: str = ""
    design: str = ""
    strength: int | None = None
    effect: dict | None = None     # kb.fields.EFFECT_FIELDS, values converted (numbers as numbers)
    studies: int | None = None
    change: str = ""
    citations: list[CiteRef] = field(default_factory=list)
    line: int = 1
    cite_line: int = 1


@dataclass
class Case:
    id: str
    path: str
    title: str = ""
    summary: str = ""
    themes: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    locality: str = ""
    period: str = ""
    market_levels: list[str] = field(default_factory=list)
    indicators: dict[str, list[str]] = field(default_factory=lambda: {"traditional": [], "harm": []})
    population: list[str] = field(default_factory=list)
    setting: list[str] = field(default_factory=list)
    drugs: list[str] = field(default_factory=list)
    legal_regime: str = ""
    lead_agencies: list[str] = field(default_factory=list)
    cost: dict | None = None        # kb.fields.COST_FIELDS; its citation is among `citations`
    subsections: list[str] = field(default_factory=list)   # kb.fields.SUBSECTIONS found in the body
    tags: list[str] = field(default_factory=list)
    status: str = "published"
    updated: str = ""
    checked: str = ""    # when its content was last checked against its sources
    authors: list[str] = field(default_factory=list)
    former_ids: list[str] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)
    body: str = ""
    body_line: int = 1
    citations: list[CiteRef] = field(default_factory=list)
    citation_lines: dict[str, int] = field(default_factory=dict)
    sha256: str = ""

    @property
    def regions(self) -> list[str]:
        """The UN M49 regions of its countries (kb/regions.py), larger ones first."""
        return regions_of(self.country)

    @property
    def span(self) -> Period | None:
        """The period as a value (None when it is not a valid period)."""
        return Period.parse(self.period)

    @property
    def period_years(self) -> tuple[int | None, int | None]:
        """(start, end) years; end None means ongoing."""
        span = self.span
        return (span.start, span.end) if span else (None, None)

    def cited_keys(self) -> list[str]:
        """Every cited key in order of first appearance (body, then evidence)."""
        seen: dict[str, None] = {}
        for ref in self.citations:
            seen.setdefault(ref.key)
        for item in self.evidence:
            for ref in item.citations:
                seen.setdefault(ref.key)
        return list(seen)

    def to_dict(self) -> dict:
        """Plain data for caches and the API (dataclasses.asdict is ten times slower here)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["evidence"] = [{**vars(item), "citations": [vars(r).copy() for r in item.citations]}
                            for item in self.evidence]
        data["citations"] = [vars(r).copy() for r in self.citations]
        data["indicators"] = {k: list(v) for k, v in self.indicators.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Case":
        data = dict(data)
        data["evidence"] = [
            EvidenceItem(**{**e, "citations": [CiteRef(**r) for r in e["citations"]]})
            for e in data.get("evidence", [])
        ]
        data["citations"] = [CiteRef(**r) for r in data.get("citations", [])]
        return cls(**data)


@dataclass
class Source:
    """A bibliography entry: original BibTeX kept for export, a few decoded fields for display."""

    key: str
    entry_type: str
    fields: dict[str, str]
    raw: str
    line: int = 1

    @property
    def year(self) -> str:
        return self.fields.get("year", "")
