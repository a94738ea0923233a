"""Did you mean" over a Whoosh generation: the words as written are the `text` field's spelling
words, stems its analysed terms, cases its posting sets (the rules are kb/search/spelling.py)."""
from __future__ import annotations

from itertools import islice

from ..spelling import CANDIDATES, SUGGEST_SECONDS, SUGGEST_WORDS, Speller, Word
from .queries import DocSets, text_of
from .queries import _seen as seen

__all__ = ["CANDIDATES", "SUGGEST_SECONDS", "SUGGEST_WORDS", "Speller", "WhooshSpeller", "Word"]


class WhooshSpeller(Speller):
    """Corrections for one index generation: `fields` are the indexed fields that have spelling
    fields (the words as written), `docsets` the posting sets of the `text` field."""

    def __init__(self, reader, analyzer, docsets: DocSets, fields: tuple[str, ...]):
        self.reader, self.analyzer, self.docsets, self.fields = reader, analyzer, docsets, fields
        self.spelling = tuple(reader.schema[name].spelling_fieldname(name) for name in fields)

    def stems(self, word: str) -> list[str]:
        return [token.text for token in self.analyzer(word)]

    def cases(self, stems: list[str], visible: frozenset[int]) -> frozenset[int]:
        return frozenset().union(*(self.docsets.term("text", stem) for stem in stems)) & visible

    def spelled(self, word: str, visible: frozenset[int]) -> bool:
        """Whether a visible case has the word as typed (accents folded); postings are read only
        up to the first visible case."""
        forms = [token.text for token in self.analyzer(word, no_morph=True)]
        return any(seen(self.reader, name, form, visible) for name in self.spelling for form in forms)

    def close_words(self, word: str, distance: int) -> list[str]:
        """Words as written in the cases (drafts too: callers count visible cases), `distance`
        Damerau-Levenshtein edits away, with the same first letter, alphabetical, at most
        CANDIDATES of them per segment and field. Each segment is asked on its own: a
        multi-segment reader would compare every word with that first letter in Python."""
        found = set()
        for leaf, _ in self.reader.leaf_readers():
            for name in self.fields:
                found.update(text_of(term) for term in islice(leaf.terms_within(name, word, distance, prefix=1),
                                                              CANDIDATES))
        found.discard(word)
        return sorted(found)[:CANDIDATES * 2]
