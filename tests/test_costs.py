"""Cost bounds on hostile input, in process: every parser and pattern that reads content or user
text finishes far below a second per 100 KB on the inputs that used to stall it (a review note of
20,000 `[` took Python-Markdown 37 s; a line of 1,600 backticks stalled the citation scanner;
200 KB of `[` stalled plain-text extraction; nested YAML aliases grew 588 bytes to 3 GB)."""
from __future__ import annotations

import json
import time

import pytest

from kb.citations import keys as citekeys
from kb.citations.bibliography import decode_latex
from kb.content import frontmatter
from kb.content.body import render_body
from kb.errors import KbError
from kb.reviews.io import load_file
from kb.reviews.notes import render_note
from kb.storage.documents import plain_text

SIZE = 100_000           # characters of each hostile input
BOUND = 0.4              # seconds per 100 KB: "far below a second" (the worst measured is 0.27)

# name -> the repeated unit; each is repeated to SIZE characters
MARKDOWN = {
    "open brackets": "[", "close brackets": "]", "image openers": "![", "unclosed links": "[a](",
    "bracketed citations": "[@a] ", "citation openers": "[@", "at signs in a bracket": "[" + "@" * 50,
    "backticks": "`", "backtick runs": "`` a ", "long backtick runs": "`" * 7 + "a",
    "fences": "```\n", "emphasis": "*a **a ", "underscores": "_", "strong runs": "**_",
    "nested lists": None, "nested quotes": ">", "link references": None, "entities": "&", "angle brackets": "<",
    "raw tags": "<a ", "headings": "# a\n", "table pipes": "|", "backslashes": "\\", "autolinks": "www.a.b ",
    "private-use": "\uf8f0", "placeholders": "\uf8f01\uf8f1",
}


def hostile(name: str, size: int = SIZE) -> str:
    if name == "nested lists":
        return "".join("  " * (i % 500) + "- a\n" for i in range(size // 500 + 1))[:size]
    if name == "link references":
        defs = "".join(f"[r{i}]: https://e.org/{i}\n" for i in range(2000 * size // SIZE))
        return (defs + "[r1] [r2][r3] " * size)[:size]
    unit = MARKDOWN[name]
    return (unit * (size // len(unit) + 1))[:size]


def seconds(work, *args) -> float:
    """The best of three runs: the bound is on the work, not on what else the machine is doing."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        work(*args)
        best = min(best, time.perf_counter() - started)
    return best


def per_100kb(work, text: str) -> float:
    return seconds(work, text) * 100_000 / max(len(text), 1)


def assert_linear(work, name, make=hostile, bound: float = BOUND, cap: float = 5 * BOUND) -> None:
    """Below BOUND per 100 KB; or, on a machine too busy for that, growing linearly: four times
    the input at most six times the time (a quadratic pattern takes sixteen), and still under two
    seconds. A timed bound alone failed under load on this 2-core machine (0.43-0.59 s)."""
    full = make(name, SIZE)
    if per_100kb(work, full) < bound:
        return
    quarter, whole = seconds(work, make(name, SIZE // 4)), seconds(work, full)
    assert whole < 6 * quarter + 0.02 and whole < cap, (name, quarter, whole)


def test_the_linearity_check_catches_a_quadratic_pattern():
    """With the timed bound out of the way (bound 0, no cap), only the growth is judged."""
    def quadratic(text: str) -> None:          # rescans the text up to each 16th character
        for end in range(0, len(text), 16):
            text.count("[", 0, end)

    def linear(text: str) -> None:
        for start in range(0, len(text), 16):
            text.count("[", start, start + 2000)
    with pytest.raises(AssertionError):
        assert_linear(quadratic, "open brackets", bound=0, cap=float("inf"))
    assert_linear(linear, "open brackets", bound=0, cap=float("inf"))


@pytest.mark.parametrize("name", list(MARKDOWN))
def test_review_notes_render_in_linear_time(name):
    assert_linear(render_note, name)


@pytest.mark.parametrize("name", list(MARKDOWN))
def test_case_bodies_render_in_linear_time(name):
    assert_linear(lambda text: render_body(text, lambda refs: "(cited)"), name)


@pytest.mark.parametrize("name", list(MARKDOWN))
def test_citation_scanner_and_plain_text_are_linear(name):
    assert_linear(citekeys.find_citations, name)
    assert_linear(plain_text, name)


def test_the_defects_as_reported():
    """The three measured cases: 20,000 `[` in a note, 1,600 backticks on a line, 200 KB of `[`."""
    assert seconds(render_note, "[" * 20_000) < BOUND
    assert seconds(citekeys.find_citations, "`" * 1600) < 0.05
    assert seconds(plain_text, "[" * 200_000) < 2 * BOUND


ALIASES = """---
id: bomb
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
---
"""


@pytest.mark.parametrize("text,line,message", [
    (ALIASES, 4, "YAML alias '*a' is not allowed in front matter"),
    ("---\nid: x\ntitle: &t Title\nsummary: *t\n---\n", 4, "YAML alias '*t' is not allowed"),
    ("---\nid: x\ndeep: " + "[" * 9 + "]" * 9 + "\n---\n", 3, "nested more than 8 levels deep"),
    ("---\nid: x\ndeep: " + "[" * 5000 + "]" * 5000 + "\n---\n", 3, "nested more than 8 levels deep"),
    ("---\nid: x\nlong: '" + "x" * 300_000 + "'\n---\n", 2, "characters long, more than 262,144"),
])
def test_front_matter_bombs_are_refused_with_their_line(text, line, message):
    started = time.perf_counter()
    with pytest.raises(frontmatter.FrontMatterError) as caught:
        frontmatter.parse(text)
    assert time.perf_counter() - started < BOUND
    assert caught.value.line == line and message in caught.value.message


@pytest.mark.parametrize("value", [
    "\\'e" * 30_000, "{" * 20_000 + "\\'e" + "}" * 20_000, "{\\" * 20_000, "$" * 60_000, "\\emph{" * 10_000,
])
def test_latex_decoding_is_bounded(value):
    assert seconds(decode_latex.__wrapped__, value) < BOUND


@pytest.mark.parametrize("content,message", [
    (b'{"format": "kb-reviews", "version": 1, "records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     "nested too deeply"),
    (b'{"format": "kb-reviews", "version": 1, "records": [{"version": ' + b"9" * 5000 + b"}]}",
     "not a reviews export"),
    (b'{"format": "kb-reviews", "version": 1, "records": [{"note": "\xff\xfe"}]}', "is not UTF-8"),
    (b'{"format": "kb-reviews", "version": ' + b"1" * 5000 + b', "records": []}', "not a reviews export"),
])
def test_hostile_imports_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "reviews.json"
    path.write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(KbError, match=message) as caught:
        load_file(path)
    assert time.perf_counter() - started < 1
    assert str(path) in str(caught.value) and len(str(caught.value)) < 400


def test_hostile_csv_import_is_one_clear_error(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("record,case_id\n" + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(KbError, match=r"reviews.csv:\d+: not a valid CSV export|lacks column"):
        load_file(path)
    assert json.dumps({}) == "{}"


@pytest.mark.parametrize("name", list(MARKDOWN) + ["link targets", "long lines of parens"])
def test_validating_a_hostile_body_is_linear(name):
    """`kb validate` reads the whole file: front matter, citations, links, nesting."""
    from conftest import case_text

    from kb.content.loader import parse_case_bytes
    from kb.vocabulary import default_vocabulary
    def make(name: str, size: int) -> bytes:
        body = {"link targets": ("](" + "a(" * 20 + " ") * (size // 44), "long lines of parens": "](" + "(" * size}.get(name)
        return case_text(body=body or hostile(name, size)).encode("utf-8")
    vocab = default_vocabulary()
    assert_linear(lambda raw: parse_case_bytes(raw, "case_studies/x.md", vocab), name, make)


# --- search: what one query may cost is bounded, whatever the collection's size ----------------

@pytest.fixture
def index(built_root):
    from kb.knowledgebase import KnowledgeBase
    kb = KnowledgeBase(built_root)
    yield kb.index
    kb.close()


def test_only_the_first_words_of_a_query_are_searched(index):
    from kb.search.whoosh.queries import MAX_WORDS, first_words
    text = " OR ".join(f"word{n}" for n in range(40))
    kept, cut = first_words(text)
    assert cut and len([w for w in kept.split() if w != "OR"]) == MAX_WORDS
    assert first_words("police AND health")[1] is False
    assert index.search(text).fallback is True


@pytest.mark.parametrize("query,leaves", [("*e*", 0), ("?olice", 1), ("*ol*ce", 1), ("po*", None), ("title:[a TO z]", None)])
def test_wildcards_prefixes_and_ranges_stand_for_a_few_words(index, query, leaves):
    from whoosh import query as wq

    from kb.search.whoosh.queries import MAX_EXPANSIONS, bound_expansions
    parsed, _ = index.parse(query)
    bounded, _ = bound_expansions(parsed, index._searcher.reader(), index._docsets.all)
    found = [] if bounded is wq.NullQuery else ([bounded] if bounded.is_leaf() else list(bounded.leaves()))
    assert not any(isinstance(leaf, wq.MultiTerm) for leaf in found)
    assert len(found) <= MAX_EXPANSIONS if leaves is None else len(found) == leaves


def test_ranking_stops_at_its_time_limit_with_complete_counts(index, monkeypatch):
    from kb.search.whoosh import reader
    full = index.search("police OR health OR drug")

    monkeypatch.setattr(reader, "RANK_SECONDS", -1.0)      # the time is up before the first match
    cut = index.search("police OR health OR drug")
    assert cut.fallback is True and cut.total == full.total and cut.facets == full.facets


def test_an_evidence_cite_field_is_linear():
    """An evidence item's `cite` of many groups was cut up one group at a time (quadratic)."""
    assert per_100kb(citekeys.parse_cite_field, "[@a] " * (SIZE // 5)) < BOUND
