"""What a reference manager reads from a page without being asked: Highwire Press `citation_*`
meta tags (Zotero's Embedded Metadata translator, Mendeley, Google Scholar), COinS (an OpenURL 1.0
ContextObject in a span's title; Zotero's COinS translator) and schema.org JSON-LD.

All three come from one CSL-JSON item (`exports.source_to_csl`, `exports.case_to_csl`), LaTeX
already decoded; the values are plain text for the page's templates to escape. Tag names and their
reading follow Zotero's translators (Embedded Metadata.js `HIGHWIRE_MAPPINGS`, which tag sets the
item type; utilities/openurl.js `parseContextObject`), so a page saves as the work it describes.
"""
from __future__ import annotations

import json
import re
from typing import Sequence
from urllib.parse import quote_plus, urlencode, urlsplit

from ..urls import bare_doi, doi_url, safe_url
from .exports import plain_text

Pairs = list[tuple[str, str]]

JOURNAL_TYPES = ("article-journal", "article-newspaper", "article-magazine")
# Highwire's container tag for each CSL type: Zotero types the item by the tag (journalArticle,
# bookSection, conferencePaper); a report's and a thesis's publisher is their institution.
_CONTAINER_TAG = {**dict.fromkeys(JOURNAL_TYPES, "citation_journal_title"), "chapter": "citation_book_title",
                  "paper-conference": "citation_conference_title"}
_PUBLISHER_TAG = {"report": "citation_technical_report_institution", "thesis": "citation_dissertation_institution"}


def _text(value) -> str:
    """One line of plain text: no nocase markup, whitespace collapsed."""
    return " ".join(plain_text(str(value)).split()) if value else ""


def person(name: dict) -> str:
    """'Family, Given' (particle kept with the family name), as Highwire and COinS write authors."""
    if "literal" in name:
        return _text(name["literal"])
    family = " ".join(part for part in (name.get("non-dropping-particle"), name.get("family")) if part)
    return ", ".join(_text(part) for part in (family, name.get("given"), name.get("suffix")) if part)


def _date_parts(item: dict, variable: str = "issued") -> list[int]:
    parts = (item.get(variable) or {}).get("date-parts") or [[]]
    return [int(part) for part in parts[0] if str(part).isdigit()][:3]


def slashed_date(item: dict) -> str:
    """The issued date as Highwire writes it: 2020/05/01, 2020/05 or 2020 (a literal date is left out)."""
    return "/".join(f"{part:02d}" if n else str(part) for n, part in enumerate(_date_parts(item)))


def iso_date(item: dict) -> str:
    return "-".join(f"{part:02d}" if n else str(part) for n, part in enumerate(_date_parts(item)))


def page_range(item: dict) -> tuple[str, str]:
    """(first, last) page; `141-` (end page not known) gives ('141', '')."""
    first, _, last = _text(item.get("page")).partition("-")
    return first.strip(), last.strip()


def pages(item: dict) -> str:
    """The page range without a dangling dash: `83-99`, or `141` for `141-`."""
    return "-".join(part for part in page_range(item) if part)


def pdf_url(item: dict) -> str:
    """The work's address when it names a PDF file (its path ends in .pdf); no address is made up."""
    url = safe_url(item.get("URL")) or ""
    return url if urlsplit(url).path.lower().endswith(".pdf") else ""


# --- Highwire Press meta tags ----------------------------------------------------------------

def highwire(item: dict, language: str = "") -> Pairs:
    """(name, content) of each `citation_*` meta tag for one CSL item, in Google Scholar's order."""
    tags: Pairs = []

    def add(name: str, value) -> None:
        if _text(value):
            tags.append((name, _text(value)))

    add("citation_title", item.get("title"))
    for role, tag in (("author", "citation_author"), ("editor", "citation_editor")):
        for name in item.get(role, []):
            add(tag, person(name))
    add("citation_publication_date", slashed_date(item))
    add("citation_date", slashed_date(item))
    kind = item.get("type", "")
    container = item.get("container-title")
    if kind in _CONTAINER_TAG:
        add(_CONTAINER_TAG[kind], container)
    publisher = item.get("publisher") or (container if kind == "webpage" else "")   # a site's owner, our own name
    add(_PUBLISHER_TAG.get(kind, "citation_publisher"), publisher)
    if kind == "report":
        add("citation_technical_report_number", item.get("number"))
    if kind in ("book", "chapter"):
        add("citation_series_title", item.get("collection-title"))
    for variable, tag in (("volume", "citation_volume"), ("issue", "citation_issue")):
        add(tag, item.get(variable))
    first, last = page_range(item)
    add("citation_firstpage", first)
    add("citation_lastpage", last)
    add("citation_doi", bare_doi(item.get("DOI", "")))
    add("citation_isbn", item.get("ISBN"))
    add("citation_issn", item.get("ISSN"))
    add("citation_abstract", item.get("abstract"))
    tags += _address_tags(item, kind)
    add("citation_language", language or item.get("language"))
    return tags


def _address_tags(item: dict, kind: str) -> Pairs:
    """A web page is its address (the case studies); another work's address is its full text."""
    url = safe_url(item.get("URL")) or ""
    if not url:
        return []
    if kind == "webpage":
        return [("citation_public_url", url), ("citation_abstract_html_url", url)]
    if pdf_url(item):
        return [("citation_pdf_url", url)]
    return [("citation_fulltext_html_url", url)]


# --- COinS ------------------------------------------------------------------------------------

# Zotero's item type for a CSL type read as Dublin Core (rft.type, which Zotero reads back)
_DC_TYPES = {"article-newspaper": "newspaperArticle", "article-magazine": "magazineArticle", "webpage": "webpage",
             "manuscript": "manuscript", "legal_case": "case", "legislation": "statute", "dataset": "dataset",
             "software": "computerProgram", "entry-encyclopedia": "encyclopediaArticle", "patent": "patent",
             "personal_communication": "letter", "motion_picture": "film", "song": "audioRecording",
             "graphic": "artwork", "standard": "standard"}
_BOOK_GENRES = {"book": "book", "chapter": "bookitem", "paper-conference": "proceeding", "report": "report"}


def coins(item: dict) -> str:
    """The `title` of a COinS span (class Z3988): the item as a URL-encoded OpenURL 1.0 KEV
    ContextObject. Journal articles use the journal format, books, chapters, conference papers
    and reports the book format (genre book, bookitem, proceeding, report), theses the
    dissertation format, anything else Dublin Core, as Zotero writes and reads them."""
    pairs: Pairs = [("ctx_ver", "Z39.88-2004")]
    kind = item.get("type", "")
    fmt = ("journal" if kind == "article-journal" else "book" if kind in _BOOK_GENRES
           else "dissertation" if kind == "thesis" else "dc")
    pairs.append(("rft_val_fmt", f"info:ofi/fmt:kev:mtx:{fmt}"))
    doi = bare_doi(item.get("DOI", ""))
    url = safe_url(item.get("URL")) or ""
    isbn = _text(item.get("ISBN"))
    pairs += [("rft_id", value) for value in (f"info:doi/{doi}" if doi else "", f"urn:isbn:{isbn}" if isbn else "", url)
              if value]
    pairs += {"journal": _journal, "book": _book, "dissertation": _dissertation, "dc": _dublin_core}[fmt](item)
    if fmt != "dc":
        pairs += _kev_authors(item.get("author", []))
    pairs.append(("rft.date", iso_date(item)))
    if fmt in ("journal", "book"):
        first, last = page_range(item)
        pairs += [("rft.pages", pages(item)), ("rft.spage", first), ("rft.epage", last)]
    pairs += [("rft.isbn", _text(item.get("ISBN"))), ("rft.issn", _text(item.get("ISSN"))),
              ("rft.language", _text(item.get("language")))]
    return urlencode([(key, value) for key, value in pairs if value], safe=":/", quote_via=quote_plus)


def _journal(item: dict) -> Pairs:
    return [("rft.genre", "article"), ("rft.atitle", _text(item.get("title"))),
            ("rft.jtitle", _text(item.get("container-title"))), ("rft.volume", _text(item.get("volume"))),
            ("rft.issue", _text(item.get("issue")))]


def _book(item: dict) -> Pairs:
    kind = item["type"]
    titles = ([("rft.btitle", _text(item.get("title")))] if kind in ("book", "report") else
              [("rft.atitle", _text(item.get("title"))), ("rft.btitle", _text(item.get("container-title")))])
    return [("rft.genre", _BOOK_GENRES[kind]), *titles, ("rft.place", _text(item.get("publisher-place"))),
            ("rft.pub", _text(item.get("publisher"))), ("rft.edition", _text(item.get("edition"))),
            ("rft.series", _text(item.get("collection-title")))]


def _dissertation(item: dict) -> Pairs:
    return [("rft.title", _text(item.get("title"))), ("rft.inst", _text(item.get("publisher"))),
            ("rft.degree", _text(item.get("genre")))]


def _dublin_core(item: dict) -> Pairs:
    doi = bare_doi(item.get("DOI", ""))
    return [("rft.type", _DC_TYPES.get(item.get("type", ""), "document")), ("rft.title", _text(item.get("title"))),
            ("rft.source", _text(item.get("container-title"))), ("rft.publisher", _text(item.get("publisher"))),
            *[("rft.creator", person(name)) for name in item.get("author", [])],
            ("rft.identifier", f"urn:doi:{doi}" if doi else safe_url(item.get("URL")) or "")]


def _kev_authors(names: list[dict]) -> Pairs:
    """The first author as aulast/aufirst (an organisation as aucorp), then every person as au."""
    if not names:
        return []
    first = names[0]
    pairs = ([("rft.aucorp", person(first))] if "literal" in first else
             [("rft.aulast", person({k: v for k, v in first.items() if k in ("family", "non-dropping-particle")})),
              ("rft.aufirst", _text(first.get("given")))])
    pairs += [("rft.aucorp", person(name)) for name in names[1:] if "literal" in name]
    return pairs + [("rft.au", person(name)) for name in names if "literal" not in name]


# --- schema.org JSON-LD -----------------------------------------------------------------------

SCHEMA_TYPES = {"article-journal": "ScholarlyArticle", "article-newspaper": "NewsArticle",
                "article-magazine": "Article", "paper-conference": "ScholarlyArticle", "book": "Book",
                "chapter": "Chapter", "report": "Report", "thesis": "Thesis", "webpage": "WebPage",
                "manuscript": "Manuscript", "legislation": "Legislation", "dataset": "Dataset",
                "software": "SoftwareApplication", "motion_picture": "Movie"}


def _agent(name: dict) -> dict:
    if "literal" in name:
        return {"@type": "Organization", "name": _text(name["literal"])}
    family = " ".join(part for part in (name.get("non-dropping-particle"), name.get("family")) if part)
    whole = " ".join(_text(part) for part in (name.get("given"), family, name.get("suffix")) if part)
    agent = {"@type": "Person", "name": whole, "familyName": _text(family)}
    return {**agent, "givenName": _text(name["given"])} if name.get("given") else agent


def _organization(name) -> dict | None:
    return {"@type": "Organization", "name": _text(name)} if _text(name) else None


def source_json_ld(item: dict) -> dict:
    """A schema.org description of a work: its type, name, authors, date, container, DOI, address."""
    kind = item.get("type", "")
    data = {"@context": "https://schema.org", "@type": SCHEMA_TYPES.get(kind, "CreativeWork"),
            "name": _text(item.get("title")), "author": [_agent(name) for name in item.get("author", [])],
            "datePublished": iso_date(item), "isPartOf": _container(item)}
    if kind != "chapter":
        data |= {"editor": [_agent(name) for name in item.get("editor", [])],
                 "publisher": _organization(item.get("publisher")), "isbn": _text(item.get("ISBN"))}
    if kind == "report":
        data["reportNumber"] = _text(item.get("number"))
    first, last = page_range(item)
    if kind in ("article-journal", "article-newspaper", "article-magazine", "paper-conference", "chapter"):
        data |= {"pageStart": first, "pageEnd": last, "pagination": pages(item)}
    doi = bare_doi(item.get("DOI", ""))
    if doi:
        data |= {"identifier": {"@type": "PropertyValue", "propertyID": "DOI", "value": doi}, "sameAs": doi_url(doi)}
    data["url"] = safe_url(item.get("URL")) or (doi_url(doi) if doi else "")
    data["inLanguage"] = _text(item.get("language"))
    return _pruned(data)


def _container(item: dict) -> dict | None:
    """What the work is part of: a journal's issue and volume, a chapter's book, a series."""
    kind, name = item.get("type", ""), _text(item.get("container-title"))
    if kind in JOURNAL_TYPES and name:
        part: dict = {"@type": "Periodical", "name": name, "issn": _text(item.get("ISSN"))}
        for schema_type, variable, field in (("PublicationVolume", "volume", "volumeNumber"),
                                             ("PublicationIssue", "issue", "issueNumber")):
            if _text(item.get(variable)):
                part = {"@type": schema_type, field: _text(item.get(variable)), "isPartOf": part}
        return part
    if kind in ("chapter", "paper-conference") and name:
        return {"@type": "Book", "name": name, "editor": [_agent(n) for n in item.get("editor", [])],
                "publisher": _organization(item.get("publisher")), "isbn": _text(item.get("ISBN"))}
    if name:
        return {"@type": "WebSite" if kind == "webpage" else "CreativeWork", "name": name}
    series = _text(item.get("collection-title"))
    return {"@type": "CreativeWorkSeries", "name": series} if series else None


def case_json_ld(item: dict, about: Sequence[str] = (), keywords: Sequence[str] = (), language: str = "en") -> dict:
    """A case study (its CSL item from `case_to_csl`) as a ScholarlyArticle of the knowledge base,
    about its themes."""
    publisher = _organization(item.get("container-title"))
    return _pruned({"@context": "https://schema.org", "@type": "ScholarlyArticle", "name": _text(item.get("title")),
                    "headline": _text(item.get("title")), "author": [_agent(name) for name in item.get("author", [])],
                    "dateModified": iso_date(item), "publisher": publisher, "url": safe_url(item.get("URL")) or "",
                    "isPartOf": {**publisher, "@type": "WebSite"} if publisher else None,
                    "about": [{"@type": "Thing", "name": _text(name)} for name in about],
                    "keywords": ", ".join(_text(word) for word in keywords), "abstract": _text(item.get("abstract")),
                    "inLanguage": language})


def _pruned(value):
    """Without empty values (a missing date is no key, not `""`)."""
    if isinstance(value, dict):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


_SCRIPT_UNSAFE = re.compile(r"[<>&\u2028\u2029]")


def json_ld(data: dict) -> str:
    """JSON for a `<script type="application/ld+json">` element: `<`, `>` and `&` written as
    \\u003c, \\u003e and \\u0026, so no value (a title with `</script>` or `<!--`) ends the element."""
    text = json.dumps(data, ensure_ascii=False, indent=None, separators=(", ", ": "))
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
