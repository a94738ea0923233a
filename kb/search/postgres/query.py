"""The query language of kb (Whoosh's parser, with the same fallbacks: kb/search/whoosh/queries.py)
compiled to SQL for PostgreSQL.

The parser runs over a schema whose text fields only split and lower-case words, so its terms
are words as typed; `Compiler` asks PostgreSQL for their stems (through `kb_english`, with the
American spelling and the British/American variants the build found) and turns the tree into a
WHERE clause: text parts become tsqueries on the vector of their field (`title:` and `summary:` are
weight labels of the main vector), `field:value` parts match the `keys` array, and AND/OR/NOT
combine both. It also gives the tsquery to rank and to mark snippets with.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh import fields as wf
from whoosh import query as wq
from whoosh.analysis import LowercaseFilter, RegexTokenizer

from ..variants import american
from ..whoosh.queries import make_parser
from ..whoosh.schema import WORD_PATTERN, schema
from .schema import KEYWORD_FIELDS, TEXT_FIELDS

MIN_LITERAL = 2   # letters a wildcard must start with (as kb.search.whoosh.queries)


@lru_cache(maxsize=1)
def parser():
    """Whoosh's query parser over the index schema with plain-word text fields."""
    words = RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
    raw = schema()
    for name in TEXT_FIELDS:
        raw.remove(name)
        raw.add(name, wf.TEXT(analyzer=words))
    return make_parser(raw)


def fold(word: str) -> str:
    """Accents folded (as unaccent does), for prefixes, which are not stemmed."""
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def words_of(q: wq.Query) -> set[str]:
    """Every word of a text field in the tree (to be stemmed in one round trip)."""
    found: set[str] = set()
    for leaf in [q] if q.is_leaf() else q.leaves():
        if getattr(leaf, "fieldname", None) not in TEXT_FIELDS:
            continue
        if isinstance(leaf, wq.Phrase):
            found.update(leaf.words)
        elif isinstance(leaf, (wq.Term, wq.FuzzyTerm)) and not isinstance(leaf, (wq.Prefix, wq.Wildcard)):
            found.add(leaf.text)
        elif isinstance(leaf, wq.Wildcard):
            found.add(re.sub(r"[*?]", "", leaf.text))   # a wildcard too short to expand is looked for as a word
    return {word for word in found if word}


def american_forms(words: set[str]) -> dict[str, str]:
    return {word: american(fold(word)) for word in words}


@dataclass
class Part:
    """A compiled part: a tsquery on one vector column (`ts`), or an SQL condition."""
    column: str = ""
    ts: str = ""
    sql: str = ""

    def condition(self, compiler: "Compiler") -> str:
        if self.column:
            return f"d.{self.column} @@ CAST({compiler.param(self.ts)} AS tsquery)"
        return self.sql


TRUE, FALSE = Part(sql="TRUE"), Part(sql="FALSE")
NOTHING = Part(sql="")   # a stop word: left out of the AND or OR it stands in, as the analyzer drops it


@dataclass
class Compiler:
    """Compiles one parsed query; `stems` maps each word to its stems (alternatives, any of which
    matches; empty for a stop word)."""

    stems: dict[str, frozenset[str]]
    params: dict[str, object] = field(default_factory=dict)
    marked: list[str] = field(default_factory=list)   # tsquery parts of the main vector, for ranking and snippets
    simplified: bool = False

    def param(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def where(self, q: wq.Query) -> str:
        part = self.compile(q)
        return "FALSE" if part is NOTHING else part.condition(self)

    def rank_query(self) -> str:
        return " | ".join(f"({part})" for part in dict.fromkeys(self.marked))

    # --- the tree -------------------------------------------------------------------------------

    def compile(self, q: wq.Query, negated: bool = False) -> Part:
        if isinstance(q, wq.Every):
            return TRUE
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return FALSE
        if isinstance(q, wq.AndNot):
            return self.combine([self.compile(q.a, negated), self.negate(self.compile(q.b, not negated))], "&")
        if isinstance(q, wq.AndMaybe):
            return self.compile(q.a, negated)
        if isinstance(q, wq.Require):
            return self.combine([self.compile(q.a, negated), self.compile(q.b, negated)], "&")
        if isinstance(q, wq.Not):
            return self.negate(self.compile(q.query, not negated))
        if isinstance(q, wq.And):
            return self.combine([self.compile(child, negated) for child in q.subqueries], "&")
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            return self.combine([self.compile(child, negated) for child in q.subqueries], "|")
        return self.leaf(q, negated)

    def negate(self, part: Part) -> Part:
        if part is NOTHING:
            return NOTHING
        if part is TRUE:
            return FALSE
        if part is FALSE:
            return TRUE
        if part.column:
            return Part(part.column, f"!({part.ts})")
        return Part(sql=f"NOT ({part.sql})")

    def combine(self, parts: list[Part], op: str) -> Part:
        """AND (&) or OR (|) of parts: tsqueries on one column joined in one tsquery, the rest in SQL."""
        absorbing, neutral = (FALSE, TRUE) if op == "&" else (TRUE, FALSE)
        parts = [part for part in parts if part is not NOTHING]
        if not parts:
            return NOTHING
        if any(part is absorbing for part in parts):
            return absorbing
        parts = [part for part in parts if part is not neutral]
        if not parts:
            return neutral
        by_column: dict[str, list[str]] = {}
        others: list[Part] = []
        for part in parts:
            if part.column:
                by_column.setdefault(part.column, []).append(part.ts)
            else:
                others.append(part)
        joined = [Part(column, f" {op} ".join(f"({ts})" for ts in queries)) for column, queries in by_column.items()]
        combined = joined + others
        if len(combined) == 1:
            return combined[0]
        word = " AND " if op == "&" else " OR "
        return Part(sql="(" + word.join(f"({part.condition(self)})" for part in combined) + ")")

    def leaf(self, q: wq.Query, negated: bool) -> Part:
        name = getattr(q, "fieldname", None)
        if name in TEXT_FIELDS:
            return self.text_leaf(q, name, negated)
        if name in KEYWORD_FIELDS or name == "id":
            return self.keyword_leaf(q, name)
        if isinstance(q, wq.NumericRange) and name == "period_start":
            low, high = q.start if q.start is not None else -10**9, q.end if q.end is not None else 10**9
            return Part(sql=f"d.period_start BETWEEN {self.param(int(low))} AND {self.param(int(high))}")
        self.simplified = True
        return FALSE

    def text_leaf(self, q: wq.Query, name: str, negated: bool) -> Part:
        column, weight = TEXT_FIELDS[name]
        if isinstance(q, wq.Phrase):
            ts = self.phrase(q.words, weight)
        elif isinstance(q, wq.Prefix):
            ts = self.prefix(q.text, weight)
        elif isinstance(q, wq.Wildcard):
            literal = re.split(r"[*?]", q.text, maxsplit=1)[0]
            self.simplified = self.simplified or q.text.rstrip("*") != literal
            if len(literal) >= MIN_LITERAL:
                ts = self.prefix(literal, weight)
            else:
                letters = re.sub(r"[*?]", "", q.text)
                ts = self.word(letters, weight) if len(letters) >= MIN_LITERAL else None
        elif isinstance(q, (wq.Term, wq.FuzzyTerm)):
            ts = self.word(q.text, weight)
        else:   # a range over words: not offered by this backend
            self.simplified = True
            return FALSE
        if ts is None:
            return NOTHING
        if column == "tsv" and not negated:
            self.marked.append(ts)
        return Part(column, ts)

    def word(self, word: str, weight: str) -> str | None:
        stems = sorted(self.stems.get(word, ()))
        if not stems:
            return None
        suffix = f":{weight}" if weight else ""
        alternatives = [quoted(stem) + suffix for stem in stems]
        return alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"

    def prefix(self, letters: str, weight: str) -> str | None:
        """`dealer*`; a prefix of one letter stands for thousands of words (at 10,000 cases an AND
        of eleven took 1.9 s): it must have MIN_LITERAL letters, else it is dropped (and said so)."""
        letters = fold(letters.lower())
        if len(letters) < MIN_LITERAL:
            self.simplified = True
            return None
        return quoted(letters) + ":*" + weight

    def phrase(self, words: list[str], weight: str) -> str | None:
        """Words in order; a stop word between two words widens the distance (`<2>`), as in the text."""
        pieces, gap = [], 0
        for word in words:
            ts = self.word(word, weight)
            if ts is None:
                gap += 1
                continue
            if pieces:
                pieces.append(f" <{gap + 1}> " if gap else " <-> ")
            pieces.append(ts)
            gap = 0
        return "".join(pieces) or None

    def keyword_leaf(self, q: wq.Query, name: str) -> Part:
        if name == "id":
            if isinstance(q, wq.Term):
                return Part(sql=f"d.case_id = {self.param(str(q.text))}")
            self.simplified = True
            return FALSE
        if isinstance(q, wq.Term):
            return Part(sql=f"d.keys @> ARRAY[CAST({self.param(f'{name}:{q.text}'.lower())} AS text)]")
        if isinstance(q, wq.Phrase):   # several words in a keyword field: all of them
            return self.combine([Part(sql=f"d.keys @> ARRAY[CAST({self.param(f'{name}:{w}'.lower())} AS text)]")
                                 for w in q.words], "&")
        if isinstance(q, (wq.Prefix, wq.Wildcard)):
            literal = re.split(r"[*?]", q.text, maxsplit=1)[0].lower()
            pattern = f"{name}:{literal}".replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            return Part(sql=f"EXISTS (SELECT 1 FROM unnest(d.keys) k WHERE k LIKE {self.param(pattern)})")
        if isinstance(q, wq.TermRange):
            low = f"{name}:{q.start or ''}".lower()
            high = f"{name}:{q.end}".lower() if q.end is not None else f"{name};"
            lower = ">" if q.startexcl else ">="
            upper = "<" if q.endexcl or q.end is None else "<="
            return Part(sql=f"EXISTS (SELECT 1 FROM unnest(d.keys) k WHERE k {lower} {self.param(low)} "
                            f"AND k {upper} {self.param(high)} AND k LIKE {self.param(name + ':%')})")
        self.simplified = True
        return FALSE
