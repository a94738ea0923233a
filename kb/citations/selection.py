"""Which sources stand behind a case, a claim, a theme, a search or a hand-picked basket of them.

Citations are resolved to (source, locator) in order of first appearance, since a report author
reads a case's sources in the order the case uses them. Backlinks answer the reverse question: which
cases and evidence items cite a bibliography entry.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from ..errors import KbError, UnknownIdError
from ..model import Case, CiteRef, EvidenceItem, Source
from .exports import case_to_csl, export
from .styles import Document, claim_with_citation, format_documents, format_references, style_name

LISTED_CHOICES = 12  # how many valid ids an error message lists before "... (N more)"


@dataclass(frozen=True)
class Resolved:
    """One cited work with its locator, as written at one place of citation."""

    source: Source
    locator: str = ""
    prefix: str = ""
    suppress_author: bool = False


@dataclass(frozen=True)
class Backlink:
    """A place that cites a source: a case body (evidence_id None) or one evidence item."""

    case_id: str
    evidence_id: str | None = None
    locator: str = ""


@dataclass
class Basket:
    """What a report author picked: whole cases and single evidence items, in the order picked."""

    cases: list[Case] = field(default_factory=list)
    evidence: list[tuple[Case, EvidenceItem]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)     # works picked on their own

    def add_case(self, case: Case) -> None:
        if all(case.id != other.id for other in self.cases):
            self.cases.append(case)

    def add_evidence(self, case: Case, item: EvidenceItem) -> None:
        if all((case.id, item.id) != (c.id, i.id) for c, i in self.evidence):
            self.evidence.append((case, item))

    def add_source(self, source: Source) -> None:
        if all(source.key != other.key for other in self.sources):
            self.sources.append(source)

    def evidence_items(self) -> list[tuple[Case, EvidenceItem]]:
        """Every evidence item in the basket: picked ones, then those of the whole cases."""
        picked = list(self.evidence)
        seen = {(case.id, item.id) for case, item in picked}
        for case in self.cases:
            picked += [(case, item) for item in case.evidence if (case.id, item.id) not in seen]
        return picked

    def cases_cited(self) -> list[Case]:
        """The case studies themselves: whole cases, then the cases of picked evidence items."""
        found = {case.id: case for case in self.cases}
        for case, _ in self.evidence:
            found.setdefault(case.id, case)
        return list(found.values())

    def __bool__(self) -> bool:
        return bool(self.cases or self.evidence or self.sources)


def choices_message(what: str, value: str, valid: Iterable[str], listed: str = "ids", where: str = "") -> str:
    """`unknown case id 'x'; valid ids: a, b, ... (40 more)`, with a guess when one is close."""
    valid = sorted(valid)
    guess = difflib.get_close_matches(value, valid, n=1, cutoff=0.75)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    shown = ", ".join(valid[:LISTED_CHOICES]) or "none"
    more = f", ... ({len(valid) - LISTED_CHOICES} more)" if len(valid) > LISTED_CHOICES else ""
    return f"unknown {what} {value!r}{where}{hint}; valid {listed}: {shown}{more}"


def find_case(cases: Iterable[Case], case_id: str) -> Case:
    by_id = {case.id: case for case in cases}
    if case_id not in by_id:
        raise UnknownIdError(choices_message("case id", case_id, by_id))
    return by_id[case_id]


def find_evidence(cases: Iterable[Case], reference: str) -> tuple[Case, EvidenceItem]:
    """`case-id/evidence-id` -> (case, item)."""
    case_id, slash, evidence_id = reference.partition("/")
    if not slash or not case_id or not evidence_id:
        raise UnknownIdError(f"evidence {reference!r} must be written CASE/EVIDENCE, e.g. 'boston-operation-ceasefire/shootings'")
    case = find_case(cases, case_id)
    for item in case.evidence:
        if item.id == evidence_id:
            return case, item
    raise UnknownIdError(choices_message("evidence id", evidence_id, [item.id for item in case.evidence],
                                         where=f" in case {case.id!r}"))


def theme_cases(cases: Iterable[Case], theme: str, themes: Iterable[str], drafts: bool = False) -> list[Case]:
    """Cases of a theme, drafts left out as search leaves them out; unknown themes are an error."""
    if theme not in set(themes):
        raise UnknownIdError(choices_message("theme", theme, themes, listed="themes"))
    return [case for case in cases if theme in case.themes and (drafts or case.status != "draft")]


def build_basket(cases: list[Case], ids: Iterable[str] = (), evidence: Iterable[str] = (),
                 theme_members: Iterable[Case] = (), hit_ids: Iterable[str] = ()) -> Basket:
    """A basket from case ids, CASE/EVIDENCE references, a theme's cases and search hits, in that order."""
    basket = Basket()
    for case_id in ids:
        basket.add_case(find_case(cases, case_id))
    for reference in evidence:
        basket.add_evidence(*find_evidence(cases, reference))
    for case in theme_members:
        basket.add_case(case)
    by_id = {case.id: case for case in cases}
    for hit in hit_ids:
        if hit not in by_id:
            raise KbError(f"search hit {hit!r} is not in case_studies/; the index is out of date: run `kb build`")
        basket.add_case(by_id[hit])
    return basket


def resolve(refs: Iterable[CiteRef], sources: dict[str, Source], where: str) -> list[Resolved]:
    """Each ref with its source; a key missing from the bibliography is an error naming `where`."""
    resolved = []
    for ref in refs:
        if ref.key not in sources:
            raise KbError(f"{where} cites '@{ref.key}', which is not in bibliography.bib; run `kb validate`")
        resolved.append(Resolved(sources[ref.key], ref.locator, ref.prefix, ref.suppress_author))
    return resolved


def case_refs(case: Case) -> list[CiteRef]:
    """The body's citations in reading order, then each evidence item's."""
    return list(case.citations) + [ref for item in case.evidence for ref in item.citations]


def basket_citations(basket: Basket, sources: dict[str, Source]) -> list[Resolved]:
    """What the basket cites: its cases' and evidence items' citations, then the works picked alone."""
    resolved = []
    for case in basket.cases:
        resolved += resolve(case_refs(case), sources, f"case {case.id!r}")
    for case, item in basket.evidence:
        resolved += resolve(item.citations, sources, f"evidence {case.id}/{item.id}")
    return resolved + [Resolved(source) for source in basket.sources]


def unique_sources(resolved: Iterable[Resolved]) -> list[Source]:
    """Each source once, in order of first appearance."""
    seen: dict[str, Source] = {}
    for cite in resolved:
        seen.setdefault(cite.source.key, cite.source)
    return list(seen.values())


def backlinks(cases: Iterable[Case]) -> dict[str, list[Backlink]]:
    """For each cited key, every place that cites it: case bodies and evidence items, in case order."""
    links: dict[str, list[Backlink]] = {}
    for case in cases:
        for ref in case.citations:
            _add_link(links, ref.key, Backlink(case.id, None, ref.locator))
        for item in case.evidence:
            for ref in item.citations:
                _add_link(links, ref.key, Backlink(case.id, item.id, ref.locator))
    return links


def _add_link(links: dict[str, list[Backlink]], key: str, link: Backlink) -> None:
    found = links.setdefault(key, [])
    if link not in found:
        found.append(link)


# --- What `kb cite` prints ------------------------------------------------------------------------

TEXT_FORMATS = ("text", "markdown")
CITE_FORMATS = TEXT_FORMATS + ("bibtex", "ris", "csl-json")


@dataclass
class CiteRequest:
    """A `kb cite` request once options are parsed; `hit_ids` are the ids a search returned."""

    ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    theme: str | None = None
    hit_ids: tuple[str, ...] = ()
    output_format: str = "text"
    style: str = "apa"
    case_itself: bool = False
    claims: bool = False


@dataclass(frozen=True)
class Library:
    """What citing draws on: every case (drafts too), every source, the themes."""

    cases: list[Case]
    sources: dict[str, Source]
    themes: Iterable[str]


def cite_output(library: Library, request: CiteRequest, url_base: str | None = None) -> str:
    """The text `kb cite` prints: a reference list, an export, or claims with their citations."""
    style_name(request.style)
    if request.output_format not in CITE_FORMATS:
        raise UnknownIdError(f"unknown format {request.output_format!r}; valid formats: {', '.join(CITE_FORMATS)}")
    if request.claims and request.output_format not in TEXT_FORMATS:
        raise UnknownIdError("--claims prints text: use --format text or markdown")
    if request.claims and request.case_itself:
        raise UnknownIdError("--claims and --case-itself print different things: choose one")
    cases = library.cases
    members = theme_cases(cases, request.theme, library.themes) if request.theme else []
    basket = build_basket(cases, request.ids, request.evidence, members, request.hit_ids)
    if not basket:
        raise UnknownIdError("nothing to cite: give case ids, --evidence CASE/EVIDENCE, --theme THEME or --query TEXT")
    if request.claims:
        return _claims(basket, library.sources, request)
    if request.case_itself:
        cited = basket.cases_cited()
        if request.output_format in TEXT_FORMATS:
            return _reference_list([case_to_csl(case, url_base) for case in cited], request)
        return export(request.output_format, [], cited, url_base)
    sources = unique_sources(basket_citations(basket, library.sources))
    if request.output_format in TEXT_FORMATS:
        return _reference_list(sources, request)
    return export(request.output_format, sources)


def _reference_list(items: list, request: CiteRequest) -> str:
    entries = format_references(items, request.style, request.output_format)
    bullet = "- " if request.output_format == "markdown" else ""
    return "".join(f"{bullet}{entry}\n" for entry in entries)


def _claims(basket: Basket, sources: dict[str, Source], request: CiteRequest) -> str:
    """Each evidence item's claim followed by its in-text citation, one per line, ready to paste."""
    picked = basket.evidence_items()
    cited = {case.id + "/" + item.id: resolve(item.citations, sources, f"evidence {case.id}/{item.id}")
             for case, item in picked}
    groups = [cited[case.id + "/" + item.id] for case, item in picked]
    documents = [Document([c.source for c in group], [[(c.source.key, c.locator, c.prefix) for c in group]])
                 for group in groups]
    formatted = format_documents(documents, request.style, request.output_format)
    bullet = "- " if request.output_format == "markdown" else ""
    lines = []
    for (case, item), group, done in zip(picked, groups, formatted):
        citation = done.citations[0] if group else ""
        lines.append(f"{bullet}{claim_with_citation(item.claim, citation)}\n")
    return "".join(lines)
