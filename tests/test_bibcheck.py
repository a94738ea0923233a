"""`kb bib check`: one `path:line: severity: message` line per problem, exit 1 on errors."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import BIB, case_text

from kb.checks.bibliography import check_bibliography, lowered_words
from kb.cli import main
from kb.content.loader import load_collection

ROOT = Path(__file__).resolve().parents[1]

B = "bibliography.bib"
CITES_ALL = "[@doe2020policing; @roe2015cannabis; @bank2018laundering]"


def entry(key: str, entry_type: str = "article", **fields: str) -> str:
    defaults = {"article": {"author": "Roe, Richard", "title": "A Title", "journal": "J", "year": "2001", "volume": "1",
                            "pages": "1--2"}}.get(entry_type, {"author": "Roe, Richard", "title": "A Title", "year": "2001"})
    values = {**defaults, **fields}
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in values.items() if value is not None)
    return f"\n@{entry_type}{{{key},\n{body}\n}}\n"


BAD_BIBS = [
    # (name, extra entries after BIB, expected line, exit code); the new entry starts on line 25
    ("same doi as another key", entry("dup", doi="10.1000/JDP.2020.1"),
     f"{B}:25: error: entry 'dup' has the same DOI as 'doe2020policing' (line 1): 10.1000/jdp.2020.1; keep one entry and cite it by one key", 1),
    ("same doi written as url", entry("dup", doi="https://doi.org/10.1000/jdp.2020.1"),
     f"{B}:25: warning: entry 'dup': write the bare DOI '10.1000/jdp.2020.1', not 'https://doi.org/10.1000/jdp.2020.1'; styles add https://doi.org/ themselves", 1),
    ("same title and year", entry("dup", "book", title="Cannabis {Coffeeshops} and the Law!", year="2015", publisher="P"),
     f"{B}:25: warning: entry 'dup' has the same title and year as 'roe2015cannabis' (line 11); if they are one work, keep one entry and cite it by one key", 0),
    ("malformed doi", entry("bad", doi="10.1000 jdp"),
     f"{B}:25: error: entry 'bad': doi '10.1000 jdp' is not a DOI; write it like '10.1016/j.drugpo.2020.102345'", 1),
    ("malformed url", entry("bad", url="www.example.org/report"),
     f"{B}:25: error: entry 'bad': url 'www.example.org/report' is not a web address; write it like 'https://www.example.org/report.pdf'", 1),
    ("url with a space", entry("bad", url="https://example.org/a report.pdf"),
     f"{B}:25: error: entry 'bad': url 'https://example.org/a report.pdf' is not a web address", 1),
    ("url in howpublished", entry("bad", "misc", howpublished="\\url{htp:/example}"),
     f"{B}:25: error: entry 'bad': howpublished 'htp:/example' is not a web address", 1),
    ("keys differing in case", entry("Roe2015Cannabis", title="Other", year="1999"),
     f"{B}:25: error: key 'Roe2015Cannabis' differs from 'roe2015cannabis' (line 11) only in case; BibTeX and citation formatters treat them as one key: rename one", 1),
    ("article without pages", entry("bad", pages=None),
     f"{B}:25: warning: entry 'bad' (@article) has no pages, which apa, chicago-author-date and harvard print; add it if the work has one", 0),
    ("chapter without editor", entry("bad", "incollection", booktitle="B", publisher="P", pages="1--2"),
     f"{B}:25: warning: entry 'bad' (@incollection) has no editor, which apa, chicago-author-date and harvard print; add it if the work has one", 0),
    ("misc without year", entry("bad", "misc", year=None),
     f"{B}:25: warning: entry 'bad' (@misc) has no year, which apa, chicago-author-date and harvard print (they print 'n.d.'); add it if the work has one", 0),
    ("unused entry", entry("unused"),
     f"{B}:25: warning: entry 'unused' is not cited by any case; cite it or remove it", 0),
    ("required field, from the parser", entry("bad", journal=None),
     f"{B}:25: warning: entry 'bad' (@article) has no journal; add it if the work has one, or explain its absence in `verification`", 0),
    ("all-caps word in a title", entry("bad", title="Why Do Crackdowns Displace HIV Risk?"),
     f"{B}:27: warning: entry 'bad': sentence case (APA, Cite Them Right) can lowercase HIV in the title; "
     "write {HIV} to keep its case", 0),
    ("proper nouns in a sentence-case title and booktitle", entry("bad", "incollection", title="Policing the market in Sydney's west",
                                                                   booktitle="Drug markets in the EU", editor="E, F", publisher="P", pages="1--2"),
     f"{B}:27: warning: entry 'bad': sentence case (APA, Cite Them Right) can lowercase Sydney in the title and EU in the "
     "booktitle; write {Sydney}, {EU} to keep their case", 0),
    ("style field, acknowledged by the verification record", entry("bad", pages=None, verification="Pages not seen during verification"),
     f"{B}:25: info: entry 'bad' (@article) has no pages, which apa, chicago-author-date and harvard print; "
     "its `verification` record says it was not seen", 0),
    ("unparsable entry", "\n@article{broken,\n  title = {Unclosed\n}\n",
     f"{B}:25: error: entry '@article{{broken,' cannot be parsed", 1),
]


@pytest.mark.parametrize("name,extra,expected,code", BAD_BIBS, ids=[b[0] for b in BAD_BIBS])
def test_bad_bibliography(kb_root, runner, name, extra, expected, code):
    key = extra.split("{", 1)[1].split(",", 1)[0]
    cites = CITES_ALL if name == "unused entry" else CITES_ALL[:-1] + f"; @{key}]"
    root = kb_root({"sample-case.md": case_text(body=f"Text {cites}.\n")}, bib=BIB + extra)
    result = runner.invoke(main, ["--root", str(root), "bib", "check"])
    assert any(line.startswith(expected) for line in result.output.splitlines()), result.output
    assert result.exit_code == code
    assert "Traceback" not in result.output


def test_clean_bibliography(kb_root, runner):
    root = kb_root({"sample-case.md": case_text(body=f"Text {CITES_ALL}.\n")})
    result = runner.invoke(main, ["--root", str(root), "bib", "check", "--strict"])
    assert result.stdout == ""
    assert result.exit_code == 0


def test_only_chosen_styles(kb_root, runner):
    extra = entry("chap", "incollection", booktitle="B", publisher="P", editor="E, F", pages=None)
    root = kb_root({"sample-case.md": case_text(body=f"Text {CITES_ALL[:-1]}; @chap].\n")}, bib=BIB + extra)
    result = runner.invoke(main, ["--root", str(root), "bib", "check", "--style", "chicago-author-date", "--strict"])
    assert result.stdout == "" and result.exit_code == 0
    result = runner.invoke(main, ["--root", str(root), "bib", "check", "--style", "apa"])
    assert result.stdout == (f"{B}:25: warning: entry 'chap' (@incollection) has no pages, which apa print; "
                             "add it if the work has one\n")


def test_json_format(kb_root, runner):
    root = kb_root({"sample-case.md": case_text(body="Text [@doe2020policing; @roe2015cannabis].\n")})
    result = runner.invoke(main, ["--root", str(root), "bib", "check", "--format", "json"])
    assert json.loads(result.stdout) == [{
        "path": B, "line": 18, "severity": "warning", "code": "unused",
        "message": "entry 'bank2018laundering' is not cited by any case; cite it or remove it"}]
    assert result.exit_code == 0


def test_missing_bibliography_is_an_error(kb_root, runner):
    root = kb_root(bib=None)
    result = runner.invoke(main, ["--root", str(root), "bib", "check"])
    assert result.stdout.startswith(f"{B}:1: error: {B} is missing")
    assert result.exit_code == 1


def test_bib_help_lists_check(runner):
    result = runner.invoke(main, ["bib", "--help"])
    assert result.exit_code == 0
    assert re.search(r"check\s+Duplicates, malformed DOIs and URLs", result.output)
    assert re.search(r"cited-by\s+Every case and evidence item", result.output)


SENTENCE_CASE = [
    # (title, the words sentence case can lowercase): all-caps words always; capitalised words only
    # in a title otherwise in sentence case; never braced words or the first word of a sentence
    ("Why Do Crackdowns Displace HIV Risk in the U.S.?", ["HIV", "U.S."]),
    ("{UNODC}'s Report on {HIV} in the {U.S.}", []),
    ("The Impact of the Sydney Medically Supervised Injecting Centre on Crime", []),  # title case: cannot tell
    ("Policing the open drug market in Sydney's west: a study of Guinea-Bissau", ["Sydney", "Guinea-Bissau"]),
    ("Policing the open drug market in {Sydney}'s west: A study of {Guinea-Bissau}", []),
    ("Results from the evaluation of crackdowns. Second findings? Third part: Lessons learnt", []),
    ("Evidence from the evaluation of the McDonald programme in cities", []),  # pandoc keeps inner capitals
    ("Drug markets in the {EU} and beyond", []),
    ("Evaluating the UPPs and their critics in several cities", ["UPPs"]),
    ("Ten years of crime in Scotland, the Highlands and the Islands", []),  # as many capitalised as lowercase
]


@pytest.mark.parametrize("title,words", SENTENCE_CASE, ids=[t for t, _ in SENTENCE_CASE])
def test_words_sentence_case_would_lowercase(title, words):
    assert lowered_words(title) == words


@pytest.mark.parametrize("langid,warned", [("", True), ("english", True), ("british", True), ("portuguese", False),
                                           ("spanish", False), ("dutch", False)])
def test_non_english_entries_keep_their_case(kb_root, runner, langid, warned):
    extra = entry("bad", title="Estudo mostra que as UPPs salvam vidas no Rio", langid=langid or None)
    root = kb_root({"sample-case.md": case_text(body=f"Text {CITES_ALL[:-1]}; @bad].\n")}, bib=BIB + extra)
    result = runner.invoke(main, ["--root", str(root), "bib", "check", "--strict"])
    assert ("sentence case" in result.stdout) is warned
    assert result.exit_code == (1 if warned else 0)


def test_a_verification_record_that_names_another_field_acknowledges_nothing(kb_root, runner):
    extra = entry("bad", pages=None, verification="Volume seen on the publisher's page; DOI not seen")
    root = kb_root({"sample-case.md": case_text(body=f"Text {CITES_ALL[:-1]}; @bad].\n")}, bib=BIB + extra)
    result = runner.invoke(main, ["--root", str(root), "bib", "check"])
    assert f"{B}:25: warning: entry 'bad' (@article) has no pages" in result.stdout


def test_shipped_bibliography_keeps_its_case():
    """The real bibliography: no title word that sentence case would lower; the fields its
    `verification` records say were not seen are information, not warnings."""
    problems = check_bibliography(load_collection(ROOT))
    assert [str(p) for p in problems if p.code == "sentence-case"] == []
    assert sum(p.code == "style-field" and p.severity == "info" for p in problems) >= 10
