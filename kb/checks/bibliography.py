"""`kb bib check`: the bibliography's own problems, beyond what parsing and `kb validate` catch.

A registry of small checks over the parsed sources, each returning problems with a line and a
message that says what to do: duplicate works under different keys (same DOI, or same normalised
title and year), malformed DOIs and URLs, keys that differ only in case (citeproc-py and BibTeX
treat them as one), fields the chosen styles print but an entry lacks (information only when the
entry's `verification` record says the field was not seen), title words sentence case would
lowercase, and unused entries.
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Iterable
from urllib.parse import urlsplit

from ..citations.bibliography import decode_latex
from ..citations.exports import title_words
from ..errors import ERROR, INFO, WARNING, Problem
from ..model import Source
from ..urls import is_web_url
from .collection import field_line, url_values
from .registry import register, run

if TYPE_CHECKING:
    from ..content.collection import Collection

BIB_FILE = "bibliography.bib"
ALL_STYLES = ("apa", "chicago-author-date", "harvard")
DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
DOI = re.compile(r"^10\.\d{4,9}/\S+$")

# (entry type, field, styles that print it): what a reference needs beyond BibTeX's required fields.
STYLE_FIELDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("article", "volume", ALL_STYLES),
    ("article", "pages", ALL_STYLES),
    ("incollection", "editor", ALL_STYLES),
    ("incollection", "pages", ("apa", "harvard")),  # Chicago 18 leaves chapter pages out
    ("inproceedings", "pages", ("apa", "harvard")),
    ("misc", "year", ALL_STYLES),
    ("online", "year", ALL_STYLES),
    ("online", "urldate", ("harvard",)),
]
# The words a `verification` record uses for a field, and how it says the field was not seen
FIELD_WORDS = {"pages": ("page",), "volume": ("volume",), "year": ("year", "date"), "editor": ("editor",),
               "urldate": ("access date", "accessed")}
NOT_SEEN = re.compile(r"\bnot\b[^.;]*\b(?:seen|shown|displayed|given|known|applicable)\b|\bshows? no\b|\bundated\b", re.I)



def _problem(source: Source, severity: str, code: str, message: str) -> Problem:
    return Problem(BIB_FILE, source.line, severity, code, message)


def normalised_doi(value: str) -> str:
    return DOI_PREFIX.sub("", value.strip()).lower()


def normalised_title(value: str) -> str:
    """Title for comparison: LaTeX decoded, accents and punctuation dropped, case folded."""
    text = unicodedata.normalize("NFKD", decode_latex(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w\s]|_", " ", text).split())


@register("bibliography")
def duplicate_dois(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    first: dict[str, Source] = {}
    problems = []
    for source in collection.sources.values():
        doi = normalised_doi(source.fields.get("doi", ""))
        if not doi:
            continue
        if doi in first:
            other = first[doi]
            problems.append(_problem(source, ERROR, "duplicate-doi",
                                     f"entry {source.key!r} has the same DOI as {other.key!r} (line {other.line}): {doi}; "
                                     f"keep one entry and cite it by one key"))
        else:
            first[doi] = source
    return problems


@register("bibliography")
def duplicate_titles(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    first: dict[tuple[str, str], Source] = {}
    problems = []
    for source in collection.sources.values():
        title = normalised_title(source.fields.get("title", ""))
        if not title:
            continue
        key = (title, source.year.strip())
        other = first.setdefault(key, source)
        if other is source:
            continue
        dois = {normalised_doi(s.fields.get("doi", "")) for s in (source, other)} - {""}
        if len(dois) < 2:  # two different DOIs are two different works
            problems.append(_problem(source, WARNING, "duplicate-title",
                                     f"entry {source.key!r} has the same title and year as {other.key!r} (line {other.line}); "
                                     f"if they are one work, keep one entry and cite it by one key"))
    return problems


@register("bibliography")
def malformed_dois(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    problems = []
    for source in collection.sources.values():
        value = source.fields.get("doi", "").strip()
        if not value:
            continue
        bare = DOI_PREFIX.sub("", value)
        if not DOI.match(bare):
            problems.append(_problem(source, ERROR, "bad-doi",
                                     f"entry {source.key!r}: doi {value!r} is not a DOI; write it like '10.1016/j.drugpo.2020.102345'"))
        elif bare != value:
            problems.append(_problem(source, WARNING, "doi-prefix",
                                     f"entry {source.key!r}: write the bare DOI {bare!r}, not {value!r}; styles add https://doi.org/ themselves"))
    return problems


@register("bibliography")
def malformed_urls(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    return [_problem(source, ERROR, "bad-url", f"entry {source.key!r}: {field} {value!r} is not a web address; "
                                               "write it like 'https://www.example.org/report.pdf'")
            for source in collection.sources.values() for field, value in url_values(source) if not _is_url(value)]


def _is_url(value: str) -> bool:
    """An http(s) address (the one URL policy, kb/urls.py) whose host looks like a real one."""
    if not is_web_url(value):
        return False
    host = urlsplit(value).hostname or ""
    return ("." in host or host == "localhost") and not host.startswith(".") and not host.endswith(".")


@register("bibliography")
def keys_differing_in_case(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    first: dict[str, Source] = {}
    problems = []
    for source in collection.sources.values():
        other = first.setdefault(source.key.lower(), source)
        if other is not source:
            problems.append(_problem(source, ERROR, "key-case",
                                     f"key {source.key!r} differs from {other.key!r} (line {other.line}) only in case; "
                                     f"BibTeX and citation formatters treat them as one key: rename one"))
    return problems


@register("bibliography")
def missing_style_fields(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    problems = []
    for source in collection.sources.values():
        press = source.fields.get("entrysubtype", "").strip().lower() in ("newspaper", "magazine")
        for entry_type, field, printed_by in STYLE_FIELDS:
            wanted = [style for style in printed_by if style in styles]
            if press and field in ("volume", "pages"):
                continue  # a press article is cited by date, not volume and pages
            if source.entry_type == entry_type and wanted and not source.fields.get(field, "").strip():
                effect = " (they print 'n.d.')" if field == "year" else ""
                message = f"entry {source.key!r} (@{entry_type}) has no {field}, which {_join(wanted)} print{effect}"
                if acknowledged(source, field):
                    problems.append(_problem(source, INFO, "style-field",
                                             f"{message}; its `verification` record says it was not seen"))
                else:
                    problems.append(_problem(source, WARNING, "style-field", f"{message}; add it if the work has one"))
    return problems


def acknowledged(source: Source, field: str) -> bool:
    """Whether the entry's `verification` record says the field was not seen: one of its clauses
    (between full stops and semicolons) names the field and says "not seen" (shown, displayed...)."""
    record = source.fields.get("verification", "")
    return any(any(word in clause.lower() for word in FIELD_WORDS.get(field, (field,))) and NOT_SEEN.search(clause)
               for clause in re.split(r"[.;]", record))


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@register("bibliography")
def unused_entries(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    cited = {key for case in collection.cases for key in case.cited_keys()}
    return [_problem(source, WARNING, "unused", f"entry {source.key!r} is not cited by any case; cite it or remove it")
            for source in collection.sources.values() if source.key not in cited]




# Sentence case (APA, Cite Them Right, as pandoc applies it to English titles) lowercases every word
# but the first of the title and of each sentence or subtitle, and keeps {braced} words as written.
ENGLISH = ("", "english", "american", "british", "canadian", "australian", "newzealand", "ukenglish", "usenglish")
CASED_FIELDS = ("title", "booktitle")
_EDGES = "()[]\"'`“”‘’,;:?!"


@register("bibliography")
def sentence_case(collection: "Collection", styles: tuple[str, ...]) -> list[Problem]:
    """Title words sentence case would lowercase: all-caps words, and capitalised words in titles
    otherwise written in sentence case; braced words and non-English entries (`langid`) are left be."""
    problems = []
    for source in collection.sources.values():
        if source.fields.get("langid", "").strip().lower() not in ENGLISH:
            continue
        found = [(field, words) for field in CASED_FIELDS if (words := lowered_words(source.fields.get(field, "")))]
        if not found:
            continue
        words = [word for _, field_words in found for word in field_words]
        said = " and ".join(f"{', '.join(field_words)} in the {field}" for field, field_words in found)
        fix = ", ".join(f"{{{word}}}" for word in words)
        problems.append(Problem(BIB_FILE, field_line(source, found[0][0]), WARNING, "sentence-case",
                                f"entry {source.key!r}: sentence case (APA, Cite Them Right) can lowercase {said}; "
                                f"write {fix} to keep {'its' if len(words) == 1 else 'their'} case"))
    return problems


def lowered_words(title: str) -> list[str]:
    """The unbraced words of a title sentence case would lowercase, as they should be braced.

    Always an all-caps word (HIV, U.S.); a capitalised word after the first of its sentence only
    when the title is otherwise in sentence case (most of its longer words lowercase), since in a
    title written in title case a proper noun cannot be told from a common word."""
    allcaps, capitalised, lowercase, after_stop = [], [], 0, True
    for text, protected in title_words(title):
        starts, after_stop = after_stop, bool(re.search(r"[:.?!][\"'”’)\]]*$", text))
        word = re.sub(r"['’]s$", "", text.strip(_EDGES))
        word = word[:-1] if word.endswith(".") and word.count(".") == 1 else word
        letters = [char for char in word if char.isalpha()]
        if protected or not letters:
            continue
        if len(letters) >= 2 and "".join(letters).removesuffix("s" if len(letters) > 2 else "").isupper():
            allcaps.append(word)
        elif not starts and any(_capitalised(part) for part in re.split(r"[-–—/]", word)):
            capitalised.append(word)
        elif not starts and len(letters) >= 4 and letters[0].islower():
            lowercase += 1
    long_capitalised = sum(1 for word in capitalised if len(word) >= 4)
    return allcaps + (capitalised if lowercase > long_capitalised else [])


def _capitalised(part: str) -> bool:
    """Sydney, not McDonald or iPhone (pandoc keeps a capital inside a word)."""
    return part[:1].isupper() and part[1:] == part[1:].lower() and any(char.isalpha() for char in part[1:])


def check_bibliography(collection: "Collection", styles: Iterable[str] = ALL_STYLES) -> list[Problem]:
    """All problems of bibliography.bib in one pass: parsing (from the loader), then the registered checks."""
    styles = tuple(styles)
    problems = [p for p in collection.problems if p.path == BIB_FILE and p.code != "uncited"]
    problems += run("bibliography", collection, styles)
    return sorted(set(problems), key=lambda p: (p.line, p.severity, p.code, p.message))
