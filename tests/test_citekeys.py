"""The pandoc citation parser: examples, plus property tests with hypothesis."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.citations.keys import CitationSyntaxError, find_citations, format_group, parse_cite_field
from kb.model import CiteRef


@pytest.mark.parametrize("text,expected", [
    ("[@key]", [CiteRef("key")]),
    ("[@key, p. 12]", [CiteRef("key", "p. 12")]),
    ("[@a; @b, ch. 4]", [CiteRef("a"), CiteRef("b", "ch. 4")]),
    ("[see @doe:2020/x, pp. 33-35; -@roe]", [CiteRef("doe:2020/x", "pp. 33-35", "see"), CiteRef("roe", suppress_author=True)]),
    ("[@{weird_key}]", [CiteRef("weird_key")]),
])
def test_parse_examples(text, expected):
    citations, bad = find_citations(text)
    assert bad == []
    assert [ref for c in citations for ref in c.refs] == expected


@pytest.mark.parametrize("text", [
    "`[@code]` is code", "```\n[@fenced]\n```", "[@link](http://example.org)", "mail me at [a@b.com]",
    "no citation here", "[just brackets]",
])
def test_not_citations(text):
    assert find_citations(text) == ([], [])


def test_line_numbers():
    citations, _ = find_citations("one\ntwo [@a]\n\nfour [@b; @c]")
    assert [(c.line, [r.key for r in c.refs]) for c in citations] == [(2, ["a"]), (4, ["b", "c"])]


@pytest.mark.parametrize("value", ["doe2020", "[@a] extra", "", "[p. 12]"])
def test_cite_field_rejects_non_citations(value):
    with pytest.raises(CitationSyntaxError):
        parse_cite_field(value)


keys = st.from_regex(r"[A-Za-z0-9_](?:[A-Za-z0-9_:.#$%&+?<>~/-]{0,20}[A-Za-z0-9_])?", fullmatch=True)
locators = st.one_of(st.just(""), st.from_regex(r"(p\.|pp\.|ch\.|sec\.) [0-9]{1,4}(-[0-9]{1,4})?", fullmatch=True))
refs = st.builds(CiteRef, key=keys, locator=locators)


@given(st.lists(refs, min_size=1, max_size=5))
def test_format_then_parse_round_trips(group):
    assert parse_cite_field(format_group(group)) == group


@given(st.text(max_size=300))
def test_any_text_never_raises(text):
    citations, bad = find_citations(text)
    for citation in citations:
        assert text[citation.start] == "[" and text[citation.end - 1] == "]"
        assert all(ref.key for ref in citation.refs)


@given(st.text(alphabet=st.characters(blacklist_characters="[]`"), max_size=80), st.lists(refs, min_size=1, max_size=3))
def test_citation_found_inside_prose(prose, group):
    text = f"{prose} {format_group(group)} {prose}"
    citations, _ = find_citations(text)
    assert any(list(c.refs) == group for c in citations)
