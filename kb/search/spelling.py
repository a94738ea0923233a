""""Did you mean": a query corrected word by word from the words of the cases a reader may see,
whatever the engine: a backend subclasses `Speller` with its own `stems`, `cases`, `spelled` and
`close_words` (kb/search/whoosh/suggestions.py, kb/search/postgres/reader.py).

Each plain word of the query is one of:
- unknown: its stem is in no visible case. Corrected to the closest word (one edit, else two) that
  visible cases have, the one in most cases first;
- misspelt: its stem is in some visible case but no visible case has it as typed, and it is no
  form of a word they have (an inflection, or the British or American spelling of one): a
  `deterence` that stems like `deter`. Corrected, one edit away, only to a word in more cases;
- rare: visible cases have it as typed, but at most RARE of them. Looked at only when the query's
  words together are in at most FEW cases, and corrected only to a word, one edit away, in at
  least three times as many cases, and only when the corrected query is then in clearly more.
Stop words, operators, `field:` names and values, prefixes and region names are left as typed;
a stop word is never proposed. Counts come from posting sets, so a correction never costs a search.
"""
from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from itertools import islice
from typing import AbstractSet

from ..regions import named_regions

SUGGEST_WORDS = 20       # words of a query looked at (as many as a search takes, kb.search.whoosh.queries)
SUGGEST_SECONDS = 0.03   # CPU time (this thread's: not a busy machine's) after which words are left as typed
CANDIDATES = 16          # close words looked at for one word at one distance, per segment and field
MAX_LETTERS = 30         # longer words are left as typed (a 500-letter word cost 95 ms of automaton)
FEW = 2                  # results few enough for a rare typed word to get a second look
RARE = 2                 # cases a word may be in and still be taken for a typo when results are few
OPERATOR = re.compile(r"^(AND|OR|NOT|ANDNOT|ANDMAYBE)$")
_PLAIN = re.compile(r"(?<![\w:])[^\W\d_]+(?![\w:*])")
_SYNTAX = re.compile(r'[":()*?\[\]{}^~+]|(?<!\w)-|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b')


@dataclass
class Word:
    match: re.Match
    text: str
    stems: list[str]
    cases: frozenset


class Speller:
    """The rules of "did you mean"; `visible` is the set of the cases a reader may see, in
    whatever the backend counts cases by (document numbers, case ids). A subclass says what a
    word's stems are, which visible cases have them, whether a visible case has a word as typed,
    and which written words are close to one."""

    @staticmethod
    def clock() -> float:
        """This thread's CPU time: a busy machine does not cut suggestions short. A backend whose
        work is in another process (PostgreSQL) counts wall time instead."""
        return time.thread_time()

    @staticmethod
    def seconds() -> float:
        return SUGGEST_SECONDS

    def stems(self, word: str) -> list[str]:
        raise NotImplementedError

    def cases(self, stems: list[str], visible: AbstractSet) -> frozenset:
        raise NotImplementedError

    def spelled(self, word: str, visible: AbstractSet) -> bool:
        raise NotImplementedError

    def close_words(self, word: str, distance: int) -> list[str]:
        """Words as written in the cases (drafts too: callers count visible cases), `distance`
        Damerau-Levenshtein edits away, with the same first letter, alphabetical, at most
        2 * CANDIDATES of them."""
        raise NotImplementedError

    def suggest(self, text: str, visible: AbstractSet) -> str | None:
        deadline = self.clock() + self.seconds()
        text = unicodedata.normalize("NFC", text[:500])
        regions = [(start, end) for start, end, _ in named_regions(text)]
        matches = islice((m for m in _PLAIN.finditer(text) if 3 <= len(m.group(0)) <= MAX_LETTERS
                          and not OPERATOR.match(m.group(0)) and not any(a <= m.start() < b for a, b in regions)),
                         SUGGEST_WORDS)
        words: list[Word] = []
        fixes: dict[int, tuple[str, frozenset[int]]] = {}
        for match in matches:
            if self.clock() > deadline:
                break
            word = self.word(match, visible)
            if not word.stems:
                continue   # a stop word stays as typed
            words.append(word)
            if not word.cases:
                fix = self.best(word, visible, (1, 2), 0, deadline)
            elif not self.spelled(word.text, visible) and not self.is_a_form(word):
                fix = self.best(word, visible, (1,), len(word.cases), deadline)
            else:
                continue
            if fix:
                fixes[len(words) - 1] = fix
        if not _SYNTAX.search(text):
            self.fix_rare(words, fixes, visible, deadline)
        if not fixes:
            return None
        for n in sorted(fixes, reverse=True):
            match = words[n].match
            text = text[:match.start()] + fixes[n][0] + text[match.end():]
        return text

    def fix_rare(self, words: list[Word], fixes: dict, visible: AbstractSet, deadline: float) -> None:
        """On few results, rare typed words corrected where that finds clearly more cases."""
        def together(replaced: dict) -> frozenset[int]:
            sets = [replaced[n][1] if n in replaced else word.cases for n, word in enumerate(words)]
            return frozenset.intersection(visible, *sets)
        found = together(fixes) if words else frozenset()
        if not words or len(found) > FEW:
            return
        for n, word in enumerate(words):
            if n in fixes or not 0 < len(word.cases) <= RARE or self.clock() > deadline:
                continue
            fix = self.best(word, visible, (1,), 3 * len(word.cases) - 1, deadline)
            if fix and len(more := together({**fixes, n: fix})) >= max(FEW + 1, 2 * len(found) + 1):
                fixes[n], found = fix, more

    def word(self, match: re.Match, visible: AbstractSet) -> Word:
        text = match.group(0).lower()
        stems = self.stems(text)
        return Word(match, text, stems, self.cases(stems, visible))

    def is_a_form(self, word: Word) -> bool:
        """Whether a word the cases have, up to two edits away, stems alike: `focussed` for
        `focused`, `neighborhood` for `neighbourhood`, a plural for its singular."""
        return any(self.stems(other) == word.stems for other in self.close_words(word.text, 2))

    def best(self, word: Word, visible: AbstractSet, distances: tuple[int, ...], more_than: int,
             deadline: float) -> tuple[str, frozenset[int]] | None:
        """The closest word in most visible cases, in more than `more_than`, that means something
        else than `word` (another stem) and is no stop word."""
        for distance in distances:
            best: tuple[str, frozenset[int]] | None = None
            for other in self.close_words(word.text, distance):
                if self.clock() > deadline:
                    return best
                stems = self.stems(other) if other.isalpha() else []
                if not stems or stems == word.stems:
                    continue
                cases = self.cases(stems, visible)
                if len(cases) > more_than and (best is None or (-len(cases), other) < (-len(best[1]), best[0])):
                    best = (other, cases)
            if best:
                return best
        return None
