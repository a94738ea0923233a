"""Problems in bibliography.bib: each with its line, and the decoded display text."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BIB

from kb.citations.bibliography import bibtex_entry, decode_latex, parse_bibliography, public_fields
from kb.cli import main
from kb.model import Source

ROOT = Path(__file__).resolve().parents[1]


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
     "bibliography.bib:1: warning: entry 'a' (@article) has no author; add it if the work has one, or explain its absence in `verification`"),
])
def test_bibliography_problems(text, expected):
    assert any(m.startswith(expected) for m in messages(text)), messages(text)


@pytest.mark.parametrize("field", ["verification", "note"])
def test_a_record_explaining_a_missing_field_silences_the_warning(field):
    text = f"@article{{a, author={{A, B}}, title={{X}}, year={{2000}}, {field}={{Container not seen during verification}}}}\n"
    assert messages(text) == ["bibliography.bib:1: warning: entry 'a' (@article) has no journal; add it if the work has one, "
                              "or explain its absence in `verification`"]
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


# --- the entry as exported: without the maintainers' `verification` record ----------------------

WITHOUT_VERIFICATION = [
    # (case, entry, the entry as exported)
    ("between two fields", "@misc{a,\n  title = {X},\n  verification = {Y},\n  year = {2000}\n}",
     "@misc{a,\n  title = {X},\n  year = {2000}\n}"),
    ("last field: the comma before it goes", "@misc{a,\n  title = {X},\n  verification = {Y}\n}",
     "@misc{a,\n  title = {X}\n}"),
    ("last field with a trailing comma", "@misc{a,\n  title = {X},\n  verification = {Y},\n}",
     "@misc{a,\n  title = {X},\n}"),
    ("first field", "@misc{a,\n  verification = {Y},\n  title = {X}\n}", "@misc{a,\n  title = {X}\n}"),
    ("only field", "@misc{a,\n  verification = {Y}\n}", "@misc{a,\n}"),
    ("one line, nested braces", "@misc{a, title={X}, verification = {Y {Z}}, year=2000}", "@misc{a, title={X}, year=2000}"),
    ("quoted value joined with #", '@misc{a, title={X}, verification = "Y {"} " # x, year=2000}',
     "@misc{a, title={X}, year=2000}"),
    ("parentheses, CRLF, capitals", "@misc(a,\r\n  title = {X},\r\n  Verification = {Y},\r\n  year = {2000}\r\n)",
     "@misc(a,\r\n  title = {X},\r\n  year = {2000}\r\n)"),
    ("the words inside another value", "@misc{a,\n  note = {verification = {Y}},\n  title = {X}\n}",
     "@misc{a,\n  note = {verification = {Y}},\n  title = {X}\n}"),
]


@pytest.mark.parametrize("entry,exported", [w[1:] for w in WITHOUT_VERIFICATION], ids=[w[0] for w in WITHOUT_VERIFICATION])
def test_bibtex_entry_cuts_out_the_verification_field(entry, exported):
    sources, problems = parse_bibliography(entry, "bibliography.bib")
    assert [p for p in problems if p.severity == "error"] == []
    assert bibtex_entry(sources["a"]) == exported
    again, _ = parse_bibliography(exported, "bibliography.bib")
    assert again["a"].fields == public_fields(sources["a"])
    assert "verification" not in public_fields(sources["a"])


def test_an_entry_the_scanner_cannot_follow_is_written_from_its_fields():
    source = Source("a", "misc", {"title": "X", "verification": "Y"}, raw="@misc{a, title = {X}, verification = {Y")
    assert bibtex_entry(source) == "@misc{a,\n  title = {X}\n}"


def test_shipped_entries_lose_their_verification_line_and_nothing_else():
    """Every entry of the real bibliography is exported without `verification`, the rest byte for byte."""
    sources, _ = parse_bibliography((ROOT / "bibliography.bib").read_text(encoding="utf-8"), "bibliography.bib")
    assert sum("verification" in source.fields for source in sources.values()) > 80
    for source in sources.values():
        lines = source.raw.split("\n")
        kept = [line for line in lines if not line.lstrip().startswith("verification")]
        if kept != lines and lines[-2].lstrip().startswith("verification"):
            kept[-2] = kept[-2].removesuffix(",")  # it was the last field: the comma before it goes
        assert bibtex_entry(source) == "\n".join(kept), source.key
