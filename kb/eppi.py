"""The evidence map as an EPPI-Reviewer JSON export, the file EPPI-Mapper builds maps from.

One code set ("Drug law enforcement evidence map") holds a heading per dimension of the map (not
selectable) with its terms below it (selectable); one Reference per evidence item carries the
bibliographic fields of its first cited source and a Code per term the item has. The mapping and the
id scheme are in docs/eppi-mapper.md. Pure functions: the read API hands in what they need.

Ids are stable across builds and runs: a dimension owns a block of BLOCK ids (its heading is the
block's first id); a vocabulary term is the block plus its position in its vocabulary kind, a
region the block plus its M49 code, a country the block plus its ISO 3166-1 numeric code. An
evidence item's ItemId is a hash of "case/item".
"""
from __future__ import annotations

import hashlib
import json
from typing import Callable

import pycountry

from .citations.bibliography import decoded
from .citations.exports import source_to_csl
from .citations.keys import CitationSyntaxError, parse_cite_field
from .facets import FACETS
from .model import CiteRef, Source
from .regions import Region
from .storage.catalog import EvidenceRow
from .vocabulary import Term, Vocabulary, country_name

SET_NAME = "Drug law enforcement evidence map"
SET_ID = REVIEW_SET_ID = 1
BLOCK = 100_000
# The code set's headings, in order, by their facets' labels (a heading's AttributeName); a new one
# goes at the end, so no block moves. The outcome's block holds two groups of GROUP ids each.
HEADINGS = ("Theme", "Outcome", "Direction", "Design", "Region", "Country", "Market level", "Concept")
OUTCOME_GROUPS = (("indicators_harm", "Harm outcomes"), ("indicators_traditional", "Traditional indicators"))
GROUP = 10_000
SELECTABLE, HEADING = "Selectable (show checkbox)", "Not selectable (no checkbox)"
# BibTeX entry type -> EPPI-Reviewer's TypeName (the names its exports use)
TYPE_NAMES = {
    "article": "Journal, Article", "book": "Book, Whole", "collection": "Book, Whole", "proceedings": "Book, Whole",
    "mvbook": "Book, Whole", "reference": "Book, Whole", "inbook": "Book, Chapter", "incollection": "Book, Chapter",
    "bookinbook": "Book, Chapter", "suppbook": "Book, Chapter", "inproceedings": "Conference Proceedings",
    "conference": "Conference Proceedings", "phdthesis": "Dissertation", "mastersthesis": "Dissertation",
    "thesis": "Dissertation", "techreport": "Report", "report": "Report", "manual": "Report",
    "online": "Document From Internet Site", "electronic": "Document From Internet Site",
    "www": "Document From Internet Site",
}
GENERIC = "Generic"
PRESS = "Article In A Periodical"       # an @article with entrysubtype newspaper or magazine
MAX_ITEM_ID = 2 ** 31 - 1
# A Reference's keys in the order of EPPI-Reviewer's exports; EPPI-Mapper offers a reference for
# download only when it has all of them (an unknown one is "")
REFERENCE_KEYS = ("QuickCitation", "ItemId", "Title", "ParentTitle", "ShortTitle", "DateCreated", "CreatedBy",
                  "DateEdited", "EditedBy", "Year", "Month", "StandardNumber", "City", "Country", "Publisher",
                  "Institution", "Volume", "Pages", "Edition", "Issue", "Availability", "URL", "OldItemId", "Abstract",
                  "Comments", "TypeName", "Authors", "ParentAuthors", "DOI", "Keywords", "ItemStatus",
                  "ItemStatusTooltip", "Codes", "Outcomes")


def facet_params() -> dict[str, str]:
    """Heading -> the URL parameter of its facet (the key of the cases' values)."""
    by_label = {facet.label: facet.param for facet in FACETS}
    return {heading: by_label[heading] for heading in HEADINGS}


def block(heading: str) -> int:
    return (HEADINGS.index(heading) + 1) * BLOCK


def attribute(attribute_id: int, name: str, description: str = "", children: list[dict] | None = None,
              selectable: bool | None = None) -> dict:
    """One attribute (code) with the keys of EPPI-Reviewer's export; a heading has children (and,
    as in EPPI-Reviewer's exports, a leaf has no `Attributes` key)."""
    selectable = children is None if selectable is None else selectable
    found = {"AttributeSetId": attribute_id, "AttributeId": attribute_id, "OriginalAttributeID": 0,
             "AttributeSetDescription": "", "AttributeType": SELECTABLE if selectable else HEADING,
             "AttributeName": name, "AttributeDescription": description, "ExtURL": "", "ExtType": ""}
    if children is not None:
        found["Attributes"] = {"AttributesList": children}
    return found


def term_codes(base: int, terms: dict[str, Term]) -> dict[str, int]:
    """term name -> its id: the block's base plus its position in the vocabulary (from 1)."""
    if len(terms) >= GROUP:
        raise ValueError(f"{len(terms)} terms do not fit in a block of {GROUP} ids")
    return {name: base + n for n, name in enumerate(terms, start=1)}


def country_code(code: str) -> int:
    """ISO 3166-1 numeric (also the country's M49 code); a code without one (XK) gets 1000 and up."""
    country = pycountry.countries.get(alpha_2=code)
    if country is not None:
        return int(country.numeric)
    letters = code.upper()
    return 1000 + (ord(letters[0]) - 65) * 26 + (ord(letters[-1]) - 65)


class CodeSet:
    """The attribute tree and, per heading, each value's id (what the References' Codes name)."""

    def __init__(self, vocabulary: Vocabulary, regions: list[tuple[Region, int]], case_values: dict, params: dict):
        self.ids: dict[str, dict[str, int]] = {}
        self.tree: list[dict] = []
        present = {heading: {v for values in case_values.values() for v in values.get(params[heading], ())}
                   for heading in ("Region", "Country")}
        for heading in HEADINGS:
            base = block(heading)
            if heading == "Outcome":
                children = self._outcome_groups(vocabulary, base)
            elif heading == "Region":
                children = self._regions(regions, present["Region"], base)
            elif heading == "Country":
                codes = {code: base + country_code(code) for code in sorted(present["Country"])}
                self.ids[heading] = codes
                children = [attribute(codes[code], country_name(code), f"ISO 3166-1 {code}")
                            for code in sorted(codes, key=country_name)]
            else:
                kind = next(facet.vocabulary for facet in FACETS if facet.label == heading)
                terms = vocabulary.values(kind)
                self.ids[heading] = term_codes(base, terms)
                children = [attribute(self.ids[heading][name], term.label, term.help) for name, term in terms.items()]
            self.tree.append(attribute(base, heading, "", children))

    def _outcome_groups(self, vocabulary: Vocabulary, base: int) -> list[dict]:
        self.ids["Outcome"] = {}
        groups = []
        for n, (kind, title) in enumerate(OUTCOME_GROUPS, start=1):
            terms = vocabulary.kinds[kind]
            codes = term_codes(base + n * GROUP, terms)
            self.ids["Outcome"].update(codes)
            groups.append(attribute(base + n * GROUP, title, "",
                                    [attribute(codes[name], term.label, term.help) for name, term in terms.items()]))
        return groups

    def _regions(self, tree: list[tuple[Region, int]], present: set[str], base: int) -> list[dict]:
        """The M49 tree (region > sub-region > intermediate region) pruned to the regions some case has.
        Every level is selectable: a case in South America is in the Americas too."""
        self.ids["Region"] = {}
        top: list[dict] = []
        stack: list[tuple[int, dict]] = []    # (depth, attribute) of the open ancestors
        for found, depth in tree:
            while stack and stack[-1][0] >= depth:
                stack.pop()
            if found.slug not in present:
                continue
            code = self.ids["Region"][found.slug] = base + int(found.code)
            node = attribute(code, found.name, f"UN M49 {found.level} {found.code}")
            parent = stack[-1][1] if stack and stack[-1][0] == depth - 1 else None
            if parent is None:
                top.append(node)
            else:
                parent.setdefault("Attributes", {"AttributesList": []})["AttributesList"].append(node)
            stack.append((depth, node))
        return top


def item_id(case_id: str, evidence_id: str, taken: set[int]) -> int:
    """A positive 31-bit int from a hash of "case/item"; on a collision "case/item/1", "/2"..."""
    for attempt in range(1000):
        text = f"{case_id}/{evidence_id}" + (f"/{attempt}" if attempt else "")
        found = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & MAX_ITEM_ID
        if found and found not in taken:
            taken.add(found)
            return found
    raise ValueError(f"no free ItemId for {case_id}/{evidence_id}")  # pragma: no cover (2^31 ids)


def initials(given: str) -> str:
    """'Anthony Allan' -> 'A. A.'; 'Jean-Paul' -> 'J.-P.'"""
    words = [word for word in given.split() if word.strip("-")]
    return " ".join("-".join(part[0] + "." for part in word.split("-") if part) for word in words)


def name_text(name: dict) -> str:
    """A CSL name as EPPI-Reviewer lists it: 'Family, G.' (an organisation as it is)."""
    if "literal" in name:
        return name["literal"]
    family = " ".join(part for part in (name.get("non-dropping-particle", ""), name["family"]) if part)
    given = initials(name.get("given", ""))
    text = f"{family}, {given}" if given else family
    return f"{text}, {name['suffix']}" if name.get("suffix") else text


def short_title(names: list[dict], year: str, title: str) -> str:
    """'Braga (2001)': the first author's family name, or the title's first words, and the year."""
    first = names[0] if names else {}
    lead = first.get("family") or first.get("literal") or " ".join(title.split()[:3]) or "Anonymous"
    return f"{lead} ({year})" if year else lead


def bibliographic(source: Source | None) -> dict:
    """The Reference fields from a source's BibTeX (LaTeX decoded, names split)."""
    empty = {"Title": "", "ParentTitle": "", "ShortTitle": "", "Year": "", "Month": "", "StandardNumber": "",
             "City": "", "Country": "", "Publisher": "", "Institution": "", "Volume": "", "Pages": "", "Edition": "",
             "Issue": "", "URL": "", "TypeName": GENERIC, "Authors": "", "ParentAuthors": "", "DOI": ""}
    if source is None:
        return empty
    csl = source_to_csl(source)
    fields = source.fields
    names = csl.get("author") or csl.get("editor") or []
    chapter = source.entry_type in ("incollection", "inbook", "inproceedings")
    parent_names = csl.get("editor", []) if csl.get("author") and chapter else []     # a chapter's editors
    year = fields.get("year", "").strip() or fields.get("date", "").strip()[:4]
    title = decoded(source, "title")
    subtype = fields.get("entrysubtype", "").strip().lower()
    return {**empty, "Title": title,
            "ParentTitle": next((decoded(source, f) for f in ("journal", "journaltitle", "booktitle")
                                 if fields.get(f, "").strip()), ""),
            "ShortTitle": short_title(names, year, title), "Year": year, "Month": decoded(source, "month"),
            "StandardNumber": decoded(source, "isbn") or decoded(source, "issn") or csl.get("number", ""),   # a report's
            "City": decoded(source, "address") or decoded(source, "location"), "Publisher": decoded(source, "publisher"),
            "Institution": decoded(source, "institution") or decoded(source, "school") or decoded(source, "organization"),
            "Volume": csl.get("volume", ""), "Pages": csl.get("page", ""), "Edition": csl.get("edition", ""),
            "Issue": csl.get("issue", ""), "URL": csl.get("URL", ""), "DOI": csl.get("DOI", ""),
            "TypeName": PRESS if source.entry_type == "article" and subtype in ("newspaper", "magazine")
            else TYPE_NAMES.get(source.entry_type, GENERIC),
            "Authors": "".join(f"{name_text(name)}; " for name in names).rstrip(),
            "ParentAuthors": "".join(f"{name_text(name)}; " for name in parent_names).rstrip()}


def cited(cite: str) -> list[CiteRef]:
    try:
        return parse_cite_field(cite)
    except CitationSyntaxError:      # validated at build time; an old build's odd text has no locator
        return []


def locator_text(refs: list[CiteRef], short_titles: dict[str, str]) -> str:
    """'p. 195'; with several works cited, each locator after its work: 'Braga (2001), p. 195; ...'"""
    located = [ref for ref in refs if ref.locator]
    if len({ref.key for ref in refs}) <= 1:
        return "; ".join(ref.locator for ref in located)
    return "; ".join(f"{short_titles.get(ref.key) or ref.key}, {ref.locator}" for ref in located)


def code(attribute_id: int, details: list[dict] | None = None) -> dict:
    found = {"AttributeId": attribute_id, "AdditionalText": "", "ArmId": 0, "ArmTitle": ""}
    if details is not None:
        found["ItemAttributeFullTextDetails"] = details
    return found


def reference(row: EvidenceRow, n: int, values: dict, codes: CodeSet, params: dict, works: dict[str, dict],
              item_url: Callable[[str, str], str]) -> dict:
    """One evidence item as a Reference: its first source's bibliography (`works`: key -> the
    fields of `bibliographic`), its claim, its codes."""
    fields = works.get(row.keys[0]) if row.keys else None
    fields = fields or bibliographic(None)
    refs = cited(row.cite)
    located = locator_text(refs, {key: works[key]["ShortTitle"] for key in {r.key for r in refs} if key in works})
    text = f"{row.claim} ({located})" if located else row.claim
    found: list[dict] = []
    own = {"Outcome": row.outcome, "Direction": row.direction, "Design": row.design}
    for heading in HEADINGS:
        chosen = [own[heading]] if heading in own else values.get(params[heading], ())
        for value in chosen:
            attribute_id = codes.ids[heading].get(value)
            if attribute_id is None:
                continue      # a term no longer in the vocabulary: not a code of this set
            details = None
            if heading == "Outcome":
                details = [{"ItemDocumentId": 0, "TextFrom": 0, "TextTo": 0, "Text": text, "IsFromPDF": False,
                            "DocTitle": row.case_title, "ItemArm": ""}]
            found.append(code(attribute_id, details))
    made = {**fields, "QuickCitation": quick_citation(fields), "ItemId": n,
            "URL": fields["URL"] or item_url(row.case_id, row.id), "OldItemId": f"{row.case_id}/{row.id}",
            "Abstract": row.claim, "Comments": f"Case: {row.case_title}", "ItemStatus": "I",
            "ItemStatusTooltip": "Included in review", "Codes": found, "Outcomes": []}
    return {key: made.get(key, "") for key in REFERENCE_KEYS}


def quick_citation(fields: dict) -> str:
    """As EPPI-Reviewer writes it: 'Braga A. A., and Kennedy D. M. (2001) Title. Journal 38(3), 195-225'."""
    names = [name.strip().replace(",", "") for name in fields["Authors"].split(";") if name.strip()]
    authors = ", ".join(names[:-1]) + f", and {names[-1]}" if len(names) > 1 else "".join(names)
    text = " ".join(part for part in (authors, f"({fields['Year']})" if fields["Year"] else "") if part)
    text = f"{text} {fields['Title']}".strip()
    volume = fields["Volume"] + (f"({fields['Issue']})" if fields["Issue"] else "")
    where = " ".join(part for part in (fields["ParentTitle"], volume) if part)
    if where:
        text += f". {where}"
    return text + (f", {fields['Pages']}" if fields["Pages"] else "")


def eppi_mapper(rows: list[EvidenceRow], case_values: dict[str, dict[str, tuple[str, ...]]], sources: dict[str, Source],
                vocabulary: Vocabulary, regions: list[tuple[Region, int]], item_url: Callable[[str, str], str]) -> dict:
    """The EPPI-Reviewer JSON of these evidence items: {"CodeSets": [...], "References": [...]}.
    Regions and countries are those of the items' cases; every vocabulary term is listed, so an
    empty row or column of the map is a gap EPPI-Mapper shows."""
    params = facet_params()
    wanted = {row.case_id for row in rows}
    codes = CodeSet(vocabulary, regions, {c: v for c, v in case_values.items() if c in wanted}, params)
    works = {key: bibliographic(source) for key, source in sources.items()}
    taken: set[int] = set()
    ids = {(row.case_id, row.id): item_id(row.case_id, row.id, taken)
           for row in sorted(rows, key=lambda r: (r.case_id, r.id))}
    return {
        "CodeSets": [{"SetName": SET_NAME, "ReviewSetId": REVIEW_SET_ID, "SetId": SET_ID,
                      "SetType": {"SetTypeName": "Standard",
                                  "SetTypeDescription": "Codes in levels, for keywording and data extraction."},
                      "SetDescription": "The knowledge base's evidence items coded by theme, outcome, direction, "
                                        "design, region, country, market level and concept.",
                      "Attributes": {"AttributesList": codes.tree}}],
        "References": [reference(row, ids[(row.case_id, row.id)], case_values.get(row.case_id, {}), codes, params,
                                 works, item_url) for row in rows],
    }


def dumps(found: dict) -> str:
    """The file's text (the CLI and the web write the same bytes): UTF-8, keys in export order, compact
    (39,300 items: 104 MB, against 150 MB indented)."""
    return json.dumps(found, ensure_ascii=False, separators=(",", ":")) + "\n"
