"""Exports for reference managers: BibTeX (the original entries), RIS and CSL-JSON.

BibTeX export writes each entry's original text (`Source.raw`) unchanged but for the maintainers'
private `verification` field (`bibliography.bibtex_entry`), so fields, casing, LaTeX and keys
survive a round trip. RIS and CSL-JSON go through one CSL-JSON mapping of BibTeX, our
own: citeproc-py's BibTeX reader drops fields such as `institution` with a warning. Case studies
are citable too (`case_to_csl`, `case_to_bibtex`): a web page of the knowledge base.
"""
from __future__ import annotations

import json
import re
from typing import Iterable

import rispy
from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts, split_multiple_persons_names

from ..model import Case, Source
from ..urls import bare_doi, doi_url, safe_url
from .bibliography import bibtex_entry, decode_latex, tex_quotes

FORMATS = ("bibtex", "ris", "csl-json")
KB_NAME = "Drug Law Enforcement Evidence Knowledge Base"
CSL_TYPES = {
    "article": "article-journal", "book": "book", "booklet": "pamphlet", "inbook": "chapter",
    "incollection": "chapter", "inproceedings": "paper-conference", "conference": "paper-conference",
    "manual": "report", "mastersthesis": "thesis", "phdthesis": "thesis", "thesis": "thesis",
    "techreport": "report", "report": "report", "unpublished": "manuscript", "online": "webpage",
    "electronic": "webpage", "www": "webpage", "misc": "document",
    # biblatex types, as pandoc reads them
    "jurisdiction": "legal_case", "legislation": "legislation", "dataset": "dataset", "data": "dataset",
    "collection": "book", "mvbook": "book", "mvcollection": "book", "proceedings": "book", "reference": "book",
    "bookinbook": "chapter", "suppbook": "chapter", "suppcollection": "chapter", "inreference": "entry-encyclopedia",
    "newsarticle": "article-newspaper", "patent": "patent", "software": "software", "letter": "personal_communication",
    "movie": "motion_picture", "video": "motion_picture", "audio": "song", "music": "song", "artwork": "graphic",
    "image": "graphic", "standard": "standard",
}
# biblatex `langid` -> the CSL `language` code, so processors leave a non-English title's case alone
LANGUAGES = {"english": "en", "american": "en-US", "british": "en-GB", "canadian": "en-CA", "australian": "en-AU",
             "newzealand": "en-NZ", "ukenglish": "en-GB", "usenglish": "en-US", "french": "fr", "german": "de",
             "ngerman": "de", "austrian": "de-AT", "swissgerman": "de-CH", "dutch": "nl", "spanish": "es",
             "catalan": "ca", "portuguese": "pt", "brazilian": "pt-BR", "italian": "it", "danish": "da",
             "norwegian": "nb", "swedish": "sv", "finnish": "fi", "polish": "pl", "czech": "cs", "russian": "ru",
             "greek": "el", "turkish": "tr"}
_PLAIN_FIELDS = {  # BibTeX field -> CSL variable, first one present wins
    "container-title": ("journal", "journaltitle", "booktitle"), "publisher": ("publisher", "institution", "school", "organization"),
    "publisher-place": ("address", "location"), "volume": ("volume",), "edition": ("edition",),
    "collection-title": ("series",), "chapter-number": ("chapter",), "genre": ("type",), "ISBN": ("isbn",),
    "ISSN": ("issn",), "note": ("note",),
}
_TITLES = {"title", "container-title", "collection-title"}
_THESIS_GENRE = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}  # what BibTeX's own styles print
MONTHS = {name: n for n, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
_URL_COMMAND = re.compile(r"^\\url\{(.*)\}$", re.S)


def csl_type(source: Source) -> str:
    """CSL type of an entry; biblatex's `entrysubtype = {newspaper}` (or `magazine`) on an
    @article makes it a press article, which styles print without volume and pages."""
    subtype = source.fields.get("entrysubtype", "").strip().lower()
    if source.entry_type == "article" and subtype in ("newspaper", "magazine"):
        return f"article-{subtype}"
    return CSL_TYPES.get(source.entry_type, "document")


PUBSTATES = {"prepublished": "preprint", "preprint": "preprint", "submitted": "submitted", "inpress": "in press",
             "forthcoming": "forthcoming"}


def source_to_csl(source: Source) -> dict:
    """A CSL-JSON item for one BibTeX entry: LaTeX decoded, names split, `{Braced}` case kept."""
    fields = source.fields
    item: dict = {"id": source.key, "type": csl_type(source)}
    for role, field in (("author", "author"), ("editor", "editor"), ("translator", "translator")):
        if fields.get(field, "").strip():
            item[role] = parse_names(fields[field])
    if fields.get("title", "").strip():
        item["title"] = _rich(fields["title"])
    for variable, names in _PLAIN_FIELDS.items():
        value = next((fields[name] for name in names if fields.get(name, "").strip()), "")
        if value:
            item[variable] = _rich(value) if variable in _TITLES else decode_latex(value)
    _add_number_fields(item, source)
    howpublished = fields.get("howpublished", "").strip()
    url = fields.get("url", "").strip() or (_URL_COMMAND.sub(r"\1", howpublished) if _URL_COMMAND.match(howpublished) else "")
    if howpublished and not _URL_COMMAND.match(howpublished) and "publisher" not in item:
        item["publisher"] = decode_latex(howpublished)  # as pandoc reads it
    if safe_url(url):                 # an address that is not http(s) is never passed on
        item["URL"] = url
    if fields.get("doi", "").strip():
        item["DOI"] = _DOI_PREFIX.sub("", fields["doi"].strip())
    language = LANGUAGES.get(fields.get("langid", "").strip().lower())
    if language:
        item["language"] = language
    pubstate = fields.get("pubstate", "").strip().lower()
    if pubstate in PUBSTATES:
        item["status"] = PUBSTATES[pubstate]
    if source.entry_type in _THESIS_GENRE and "genre" not in item:
        item["genre"] = _THESIS_GENRE[source.entry_type]
    for variable, value in (("issued", _date(fields.get("date", ""), fields.get("year", ""), fields.get("month", ""))),
                            ("accessed", _date(fields.get("urldate", ""), "", ""))):
        if value:
            item[variable] = value
    return item


def _add_number_fields(item: dict, source: Source) -> None:
    fields = source.fields
    if fields.get("number", "").strip():
        item["issue" if item["type"] == "article-journal" else "number"] = decode_latex(fields["number"])
    if fields.get("pages", "").strip():
        item["page"] = re.sub(r"\s*[\u2013\u2014-]+\s*", "-", decode_latex(fields["pages"]))


def _date(date: str, year: str, month: str) -> dict | None:
    """biblatex `date` (YYYY[-MM[-DD]]) or BibTeX year/month; other text stays a literal date."""
    date, year, month = date.strip(), decode_latex(year).strip(), decode_latex(month).strip().lower()
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", date)
    if match:
        return {"date-parts": [[int(part) for part in match.groups() if part]]}
    if not year:
        return None
    if not re.fullmatch(r"\d{4}", year):
        return {"literal": year}
    parts = [int(year)]
    number = MONTHS.get(month[:3]) if month[:3] in MONTHS else (int(month) if month.isdigit() and 1 <= int(month) <= 12 else None)
    return {"date-parts": [parts + ([number] if number else [])]}


def parse_names(value: str) -> list[dict]:
    """BibTeX names -> CSL names: `{World Bank}` is a literal, `van der` a non-dropping particle."""
    names = []
    for raw in split_multiple_persons_names(value):
        raw = raw.strip()
        if _wholly_braced(raw):
            names.append({"literal": decode_latex(raw)})
            continue
        try:
            parts = parse_single_name_into_parts(raw)
        except InvalidNameError:
            names.append({"literal": decode_latex(raw)})
            continue
        name = {}
        for key, words in (("family", parts.last), ("given", parts.first),
                           ("non-dropping-particle", parts.von), ("suffix", parts.jr)):
            if words:
                name[key] = decode_latex(" ".join(words))
        names.append(name if "family" in name else {"literal": decode_latex(raw)})
    return names


def _wholly_braced(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return position == len(text) - 1
    return False


def _rich(value: str) -> str:
    """Decoded title text; a word with a `{Braced}` part keeps its case, as CSL's nocase span.

    The whole word is protected (`{Boston}'s`), since citeproc-py splits a word at a span's edge.
    A group opening with a command (`{\\"u}`) or a command's argument is not case protection.
    """
    out, run = [], []
    for word in _words(value):
        if _protects_case(word):
            run.append(decode_latex(word))
            continue
        if run:
            out.append(f'<span class="nocase">{" ".join(run)}</span>')
            run = []
        out.append(decode_latex(word))
    if run:
        out.append(f'<span class="nocase">{" ".join(run)}</span>')
    return tex_quotes(" ".join(part for part in out if part))   # a quote spans words: `Os donos do morro'


def title_words(value: str) -> list[tuple[str, bool]]:
    """The words of a BibTeX title, decoded, each with whether braces keep its case."""
    return [(decode_latex(word), _protects_case(word)) for word in _words(value)]


def _words(value: str) -> list[str]:
    """Split at whitespace outside braces."""
    words, current, depth = [], [], 0
    for char in value:
        if char.isspace() and depth == 0:
            if current:
                words.append("".join(current))
                current = []
            continue
        depth += 1 if char == "{" else (-1 if char == "}" and depth else 0)
        current.append(char)
    if current:
        words.append("".join(current))
    return words


def _protects_case(word: str) -> bool:
    depth = 0
    for position, char in enumerate(word):
        if char == "{":
            if depth == 0 and not word[position + 1:].startswith("\\") and not re.search(r"\\[A-Za-z]+$", word[:position]):
                return True
            depth += 1
        elif char == "}" and depth:
            depth -= 1
    return False


def plain_text(value: str) -> str:
    """A CSL rich-text value without its nocase spans, for RIS and other plain-text consumers."""
    return re.sub(r'</?span[^>]*>', "", value)


# --- Cite this case study ------------------------------------------------------------------------

def source_links(source: Source) -> dict[str, str]:
    """The DOI and URL of an entry as written, and as links (empty when not a safe web address)."""
    doi = bare_doi(source.fields.get("doi", ""))
    url = source.fields.get("url", "")
    return {"doi": doi, "doi_link": doi_url(doi), "url": url.strip(), "url_link": safe_url(url)}


def case_key(case: Case) -> str:
    return f"case:{case.id}"


def _default_base_url() -> str:
    """For a caller that names no address: the BASE_URL setting (read when used, not at import)."""
    from ..settings import Settings
    return Settings.load().base_url


def case_url(case: Case, url_base: str | None = None) -> str:
    return f"{(url_base or _default_base_url()).rstrip('/')}/cases/{case.id}"


def case_to_csl(case: Case, url_base: str | None = None) -> dict:
    """A case study as a citable web page of the knowledge base: authors if given, stable URL."""
    item: dict = {"id": case_key(case), "type": "webpage", "title": case.title or case.id,
                  "container-title": KB_NAME, "URL": case_url(case, url_base)}
    if case.authors:
        item["author"] = [_case_author(name) for name in case.authors]
    issued = _date(case.updated, "", "")
    if issued:
        item["issued"] = issued
    return item


def _case_author(name: str) -> dict:
    """Case authors are written 'Family, Given'; anything else is kept whole (an organisation)."""
    family, comma, given = name.partition(",")
    if comma and family.strip() and given.strip():
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": name.strip()}


_BIBTEX_SPECIAL = re.compile(r"([\\{}&%$#_])")


def _bibtex_text(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(lambda m: "\\textbackslash{}" if m.group(1) == "\\" else "\\" + m.group(1), text)


def case_to_bibtex(case: Case, url_base: str | None = None) -> str:
    """A @misc entry for a case study; organisations as authors are braced to stay whole."""
    fields = []
    if case.authors:
        names = [_bibtex_text(name) if "," in name else "{" + _bibtex_text(name) + "}" for name in case.authors]
        fields.append(("author", " and ".join(names)))
    fields += [("title", _bibtex_text(case.title or case.id)), ("howpublished", KB_NAME)]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", case.updated):
        fields += [("year", case.updated[:4]), ("month", str(int(case.updated[5:7]))), ("date", case.updated)]
    fields.append(("url", case_url(case, url_base)))
    body = ",\n".join(f"  {name:<12} = {{{value}}}" for name, value in fields)
    return f"@misc{{{case_key(case)},\n{body}\n}}"


# --- Exports --------------------------------------------------------------------------------------

def to_bibtex(sources: Iterable[Source], cases: Iterable[Case] = (), url_base: str | None = None) -> str:
    """The original entries (without private fields), one blank line apart; then any case studies cited."""
    entries = [bibtex_entry(source) for source in sources] + [case_to_bibtex(case, url_base) for case in cases]
    return "\n\n".join(entries) + "\n" if entries else ""


def to_csl_json(items: list[dict]) -> str:
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


RIS_TYPES = {"article-journal": "JOUR", "article-newspaper": "NEWS", "article-magazine": "MGZN", "book": "BOOK",
             "chapter": "CHAP", "entry-encyclopedia": "ENCYC", "paper-conference": "CPAPER", "report": "RPRT",
             "thesis": "THES", "manuscript": "UNPB", "webpage": "ELEC", "pamphlet": "PAMP", "legal_case": "CASE",
             "legislation": "STAT", "dataset": "DATA", "patent": "PAT", "software": "COMP",
             "personal_communication": "PCOMM", "motion_picture": "MPCT", "song": "SOUND", "graphic": "ART",
             "standard": "STAND"}
_RIS_TEXT = {"container-title": "secondary_title", "volume": "volume", "issue": "number", "number": "note",
             "publisher": "publisher", "publisher-place": "place_published", "DOI": "doi", "edition": "edition",
             "genre": "type_of_work", "ISBN": "issn", "ISSN": "issn", "language": "language"}
# Where the 2011 RIS specification (and Zotero's RIS translator) puts editors and series, by type: a
# book's editors are A3 (its A2 is the series editor) and its series, like a report's, is T2; a
# chapter's or paper's editors are A2 and the series of the book it is in T3.
_EDITOR_TAG = {"BOOK": "tertiary_authors"}
_SERIES_IS_T2 = ("BOOK", "RPRT")


class _RisWriter(rispy.RisWriter):
    """RIS without rispy's `1.` counter line before each record, which other readers do not expect."""

    def set_header(self, count: int) -> str:
        return ""


def csl_to_ris(item: dict) -> dict:
    """A rispy record for one CSL-JSON item; titles lose their nocase markup."""
    kind = RIS_TYPES.get(item["type"], "GEN")
    record: dict = {"type_of_reference": kind, "id": item["id"]}
    if "title" in item:
        record["title"] = plain_text(item["title"])
    for role, tag in (("author", "authors"), ("editor", _EDITOR_TAG.get(kind, "secondary_authors"))):
        if item.get(role):
            record[tag] = [_ris_name(name) for name in item[role]]
    parts = item.get("issued", {}).get("date-parts", [[]])[0]
    if parts:
        record["year"] = str(parts[0])
        if len(parts) > 1:
            record["date"] = _ris_date(parts)
    accessed = item.get("accessed", {}).get("date-parts", [[]])[0]
    if accessed:
        record["access_date"] = _ris_date(accessed)
    for variable, key in _RIS_TEXT.items():
        if item.get(variable):
            record[key] = plain_text(item[variable])
    if item.get("collection-title"):
        series = "secondary_title" if kind in _SERIES_IS_T2 and "secondary_title" not in record else "tertiary_title"
        record[series] = plain_text(item["collection-title"])
    if item.get("page"):
        first, _, last = item["page"].partition("-")
        record["start_page"] = first
        if last:
            record["end_page"] = last
    if item.get("URL"):
        record["urls"] = [item["URL"]]
    if item.get("note"):
        record["notes"] = [item["note"]]
    return record


def _ris_date(parts: list[int]) -> str:
    """A RIS date, YYYY/MM/DD, with the parts not known left empty (2020/05/)."""
    return "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts)) + "/" * (3 - len(parts))


def _ris_name(name: dict) -> str:
    if "literal" in name:
        return name["literal"]
    family = " ".join(part for part in (name.get("non-dropping-particle"), name["family"]) if part)
    return ", ".join(part for part in (family, name.get("given"), name.get("suffix")) if part)


def to_ris(items: list[dict]) -> str:
    return rispy.dumps([csl_to_ris(item) for item in items], implementation=_RisWriter) if items else ""


def export(output_format: str, sources: list[Source], cases: list[Case] = (), url_base: str | None = None) -> str:
    """Sources (and case studies cited as such) in one of FORMATS."""
    if output_format == "bibtex":
        return to_bibtex(sources, cases, url_base)
    items = [source_to_csl(source) for source in sources] + [case_to_csl(case, url_base) for case in cases]
    return to_csl_json(items) if output_format == "csl-json" else to_ris(items)
