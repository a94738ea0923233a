"""Problems in bibliography.bib: each with its line, and the decoded display text."""
from __future__ import annotations

import pytest
from conftest import BIB

from kb.citations.bibliography import decode_latex, parse_bibliography
from kb.cli import main


def messages(text):
    _, problems = parse_bibliography(text, "bibliography.bib")
    return [str(p) for p in problems]


def test_clean_bibliography_has_no_problems():
    sources, problems = parse_bibliography(BIB, "bibliography.bib")
    assert problems == []
    assert list(sources) == ["doe2020policing", "roe2015cannabis", "bank2018laundering"]
    assert sources["doe2020policing"].raw.startswith("@article{doe2020policing,")


@pytest.mark.parametrize("text,expected", [
    ("@book{a, title={X}, publisher={P}, author={A, B}, year={2000}}\n@book{a, title={Y}, publisher={P}, author={A, B}, year={2001}}\n",
     "bibliography.bib:2: error: duplicate bibliography key 'a' (first at line 1); rename or remove one entry"),
    ("@book{a,\n title={X},\n title={Y},\n publisher={P}, author={A, B}, year={2000}}\n",
     "bibliography.bib:1: error: entry 'a': Duplicate field keys on entry: 'title'."),
    ("@misc{a, title = {broken\n",
     "bibliography.bib:1: error: entry '@misc{a, title = {broken' cannot be parsed"),
    ("@article{a, title={X}, year={2000}}\n",
     "bibliography.bib:1: warning: entry 'a' (@article) has no author; add it if the work has one, or explain its absence in `note`"),
])
def test_bibliography_problems(text, expected):
    assert any(m.startswith(expected) for m in messages(text)), messages(text)


def test_note_explaining_a_missing_field_silences_the_warning():
    text = "@article{a, author={A, B}, title={X}, year={2000}, note={Container not seen during verification}}\n"
    assert messages(text) == ["bibliography.bib:1: warning: entry 'a' (@article) has no journal; add it if the work has one, or explain its absence in `note`"]
    text = text.replace("Container", "Journal")
    assert messages(text) == []


def test_bad_bibliography_fails_validate(kb_root, runner):
    root = kb_root(bib=BIB + "\n@book{roe2015cannabis, title={Again}}\n")
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert "bibliography.bib:25: error: duplicate bibliography key 'roe2015cannabis' (first at line 11)" in result.output
    assert result.exit_code == 1


@pytest.mark.parametrize("raw,shown", [
    ('Z{\\"u}rich', "Zürich"),
    ("{World Bank}", "World Bank"),
    ("In{\\^e}s", "Inês"),
    ("pages 1--20", "pages 1–20"),
    ("The {HIV} Test", "The HIV Test"),
])
def test_decode_latex_for_display(raw, shown):
    assert decode_latex(raw) == shown
