"""Exports read back by programs no one here wrote: pandoc --citeproc, rispy and bibtexparser."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import bibtexparser
import pytest
import rispy
from test_cite import FULL_BIB, SAMPLE_CASE, SOURCES

from kb.citations.bibliography import parse_bibliography
from kb.citations.exports import case_to_bibtex, case_to_csl, export, source_to_csl, to_csl_json, to_ris
from kb.cli import main
from kb.model import Case

URL = "https://kb.example.org"
CASES = [SAMPLE_CASE, Case(id="no-authors", path="x.md", title="Coffeeshops & the 50% rule_of {thumb}", updated="")]


def test_bibtex_is_the_original_text():
    assert export("bibtex", list(SOURCES.values())) == "\n\n".join(source.raw for source in SOURCES.values()) + "\n"
    assert "Z{\\\"u}rich" in export("bibtex", [SOURCES["doe2020policing"]])


def test_bibtex_reads_back_to_the_same_entries():
    exported = export("bibtex", list(SOURCES.values()), CASES, URL)
    again = bibtexparser.parse_string(exported)
    original = bibtexparser.parse_string(FULL_BIB)
    assert again.failed_blocks == []
    fields = lambda entry: (entry.entry_type, {f.key: f.value for f in entry.fields})  # noqa: E731
    assert {e.key: fields(e) for e in again.entries if not e.key.startswith("case:")} == {e.key: fields(e) for e in original.entries}
    assert {e.key: fields(e) for e in again.entries if e.key.startswith("case:")} == {
        "case:sample-case": ("misc", {
            "author": "Doe, Jane and {Drug Policy Unit}", "title": "Sample case of police and harm reduction",
            "howpublished": "Drug Law Enforcement Evidence Knowledge Base", "year": "2024", "month": "5",
            "date": "2024-05-01", "url": "https://kb.example.org/cases/sample-case"}),
        "case:no-authors": ("misc", {
            "title": "Coffeeshops \\& the 50\\% rule\\_of \\{thumb\\}",
            "howpublished": "Drug Law Enforcement Evidence Knowledge Base", "url": "https://kb.example.org/cases/no-authors"}),
    }


def test_ris_reads_back_with_same_titles_authors_years():
    items = [source_to_csl(source) for source in SOURCES.values()] + [case_to_csl(case, URL) for case in CASES]
    records = rispy.loads(to_ris(items))
    assert [(r.get("id"), r.get("title"), r.get("authors"), r.get("year")) for r in records] == [
        ("doe2020policing", "Policing Open Drug Markets in Zürich", ["Doe, Jane", "van der Meer, Piet"], "2020"),
        ("roe2015cannabis", "Cannabis Coffeeshops and the Law", ["Roe, Richard"], "2015"),
        ("bank2018laundering", "Money Laundering and Drug Markets", ["World Bank"], "2018"),
        ("muller2019crackdowns", "Why Do Crackdowns Displace HIV Risk?", ["Müller, Inês", "Silva, João"], None),
        ("unodc2021report", "World Drug Report 2021", ["United Nations Office on Drugs and Crime"], "2021"),
        ("case:sample-case", "Sample case of police and harm reduction", ["Doe, Jane", "Drug Policy Unit"], "2024"),
        ("case:no-authors", "Coffeeshops & the 50% rule_of {thumb}", None, None),
    ]
    assert records[0] == {
        "type_of_reference": "JOUR", "id": "doe2020policing", "title": "Policing Open Drug Markets in Zürich",
        "authors": ["Doe, Jane", "van der Meer, Piet"], "year": "2020", "secondary_title": "Journal of Drug Policy",
        "volume": "12", "doi": "10.1000/jdp.2020.1", "start_page": "1", "end_page": "20",
    }


def test_ris_has_no_counter_lines():
    text = to_ris([source_to_csl(SOURCES["roe2015cannabis"])])
    assert text.splitlines()[0] == "TY  - BOOK"


def test_csl_json_is_json_of_the_items():
    items = [case_to_csl(CASES[1], URL)]
    assert json.loads(to_csl_json(items)) == [{
        "id": "case:no-authors", "type": "webpage", "title": "Coffeeshops & the 50% rule_of {thumb}",
        "container-title": "Drug Law Enforcement Evidence Knowledge Base", "URL": "https://kb.example.org/cases/no-authors"}]


def test_empty_selection_exports_nothing():
    assert [export(fmt, []) for fmt in ("bibtex", "ris", "csl-json")] == ["", "", "[]\n"]


# --- pandoc ------------------------------------------------------------------------------------

def pandoc() -> str:
    found = shutil.which("pandoc")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("CI must install pandoc (apt-get install -y pandoc), see .ci/run")
        pytest.skip("pandoc is not installed: apt-get install -y pandoc")
    return found


@pytest.mark.parametrize("output_format,suffix", [("bibtex", "bib"), ("csl-json", "json")])
def test_pandoc_formats_every_entry_without_warning(tmp_path, output_format, suffix):
    """pandoc's own citeproc reads our export and renders every entry; anything on stderr fails."""
    bibliography = tmp_path / f"export.{suffix}"
    bibliography.write_text(export(output_format, list(SOURCES.values()), CASES, URL), encoding="utf-8")
    document = tmp_path / "doc.md"
    document.write_text('---\nnocite: "@*"\n---\n', encoding="utf-8")
    result = subprocess.run([pandoc(), "--citeproc", f"--bibliography={bibliography}", "-t", "html", str(document)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stderr == ""
    rendered = set(re.findall(r'<div id="ref-([^"]+)" class="csl-entry"', result.stdout))
    assert rendered == set(SOURCES) | {"case:sample-case", "case:no-authors"}
    assert "Müller" in result.stdout and "van der Meer" in result.stdout and "World Bank" in result.stdout


def test_cli_exports_a_whole_case(kb_root, runner):
    root = kb_root(bib=FULL_BIB)
    assert runner.invoke(main, ["--root", str(root), "build"]).exit_code == 0   # kb cite reads the build
    result = runner.invoke(main, ["--root", str(root), "cite", "sample-case", "--format", "ris"])
    assert result.exit_code == 0, result.output
    assert [record["id"] for record in rispy.loads(result.stdout)] == ["doe2020policing"]
    result = runner.invoke(main, ["--root", str(root), "cite", "sample-case", "--case-itself", "--format", "bibtex"])
    assert result.exit_code == 0, result.output
    assert result.stdout == case_to_bibtex(_loaded_case(root), None) + "\n"


def _loaded_case(root):
    from kb.content.loader import load_collection
    return load_collection(root).cases[0]


def test_parse_of_export_keeps_bibliography_problems_away():
    sources, problems = parse_bibliography(export("bibtex", list(SOURCES.values())), "export.bib")
    assert set(sources) == set(SOURCES)
    assert [p for p in problems if p.severity == "error"] == []


# --- every entry type: its CSL type and RIS type, read back ------------------------------------

AUTHOR = "author = {Roe, Richard}, title = {A Title}, year = {2001}"
TYPES = [
    # (name, BibTeX entry, CSL type, RIS type, what the RIS record read back by rispy must hold)
    ("journal article", f"@article{{k, {AUTHOR}, journal = {{J}}, volume = {{1}}, number = {{2}}, pages = {{3--4}}}}",
     "article-journal", "JOUR", {"secondary_title": "J", "volume": "1", "number": "2", "start_page": "3", "end_page": "4"}),
    ("newspaper article", f"@article{{k, {AUTHOR}, journal = {{The Guardian}}, entrysubtype = {{newspaper}}}}",
     "article-newspaper", "NEWS", {"secondary_title": "The Guardian"}),
    ("magazine article", f"@article{{k, {AUTHOR}, journal = {{Time}}, entrysubtype = {{magazine}}}}",
     "article-magazine", "MGZN", {"secondary_title": "Time"}),
    ("book", f"@book{{k, {AUTHOR}, publisher = {{P}}, address = {{London}}, series = {{S}}, isbn = {{978-1-906246-03-7}}}}",
     "book", "BOOK", {"authors": ["Roe, Richard"], "publisher": "P", "place_published": "London", "secondary_title": "S",
                      "issn": "978-1-906246-03-7"}),
    ("edited book: editors are A3", "@book{k, editor = {Cano, Ignacio and Borges, Doriam}, title = {T}, publisher = {P}, year = {2012}}",
     "book", "BOOK", {"tertiary_authors": ["Cano, Ignacio", "Borges, Doriam"]}),
    ("chapter: the book's editors are A2", f"@incollection{{k, {AUTHOR}, booktitle = {{B}}, editor = {{King, Colin}}, "
     "publisher = {P}, pages = {141--}, series = {S}}", "chapter", "CHAP",
     {"secondary_title": "B", "secondary_authors": ["King, Colin"], "tertiary_title": "S", "start_page": "141"}),
    ("chapter of a book", f"@inbook{{k, {AUTHOR}, booktitle = {{B}}, publisher = {{P}}}}", "chapter", "CHAP", {"secondary_title": "B"}),
    ("conference paper", f"@inproceedings{{k, {AUTHOR}, booktitle = {{Proceedings}}}}", "paper-conference", "CPAPER",
     {"secondary_title": "Proceedings"}),
    ("technical report", f"@techreport{{k, {AUTHOR}, institution = {{RAND}}, type = {{Working Paper}}, number = {{WR-768}}}}",
     "report", "RPRT", {"publisher": "RAND", "type_of_work": "Working Paper", "note": "WR-768"}),
    ("biblatex report", f"@report{{k, {AUTHOR}, institution = {{I}}}}", "report", "RPRT", {"publisher": "I"}),
    ("PhD thesis", f"@phdthesis{{k, {AUTHOR}, school = {{University of Limerick}}}}", "thesis", "THES",
     {"publisher": "University of Limerick", "type_of_work": "PhD thesis"}),
    ("master's thesis", f"@mastersthesis{{k, {AUTHOR}, school = {{U}}}}", "thesis", "THES", {"type_of_work": "Master's thesis"}),
    ("web page", f"@online{{k, {AUTHOR}, url = {{https://example.org/page}}, urldate = {{2024-03-05}}}}", "webpage", "ELEC",
     {"urls": ["https://example.org/page"], "access_date": "2024/03/05"}),
    ("web page, BibTeX's www", f"@www{{k, {AUTHOR}, url = {{https://example.org/page}}}}", "webpage", "ELEC", {}),
    ("legal case", "@jurisdiction{k, title = {Gilligan v Criminal Assets Bureau}, year = {1997}}", "legal_case", "CASE",
     {"title": "Gilligan v Criminal Assets Bureau"}),
    ("statute", "@legislation{k, title = {Drug Summit Legislative Response Act 1999}, year = {1999}}", "legislation", "STAT", {}),
    ("dataset", f"@dataset{{k, {AUTHOR}, publisher = {{UK Data Service}}}}", "dataset", "DATA", {"publisher": "UK Data Service"}),
    ("unpublished", f"@unpublished{{k, {AUTHOR}, note = {{Working paper, 3 July 2014}}}}", "manuscript", "UNPB",
     {"notes": ["Working paper, 3 July 2014"]}),
    ("booklet", f"@booklet{{k, {AUTHOR}}}", "pamphlet", "PAMP", {}),
    ("misc: nothing better", f"@misc{{k, {AUTHOR}, howpublished = {{Press release UNIS/NAR/1249}}}}", "document", "GEN",
     {"publisher": "Press release UNIS/NAR/1249"}),
    ("non-English entry", f"@article{{k, {AUTHOR}, journal = {{J}}, langid = {{portuguese}}}}", "article-journal", "JOUR",
     {"language": "pt"}),
]


@pytest.mark.parametrize("entry,csl_type,ris_type,ris", [t[1:] for t in TYPES], ids=[t[0] for t in TYPES])
def test_each_entry_type_exports_as_its_own_type(entry, csl_type, ris_type, ris):
    sources, problems = parse_bibliography(entry, "bibliography.bib")
    assert [p for p in problems if p.severity == "error"] == []
    [item] = json.loads(export("csl-json", list(sources.values())))
    assert item["type"] == csl_type
    [record] = rispy.loads(export("ris", list(sources.values())))
    assert record["type_of_reference"] == ris_type
    assert {key: record.get(key) for key in ris} == ris
    if "editor" not in entry:
        assert not any(key in record for key in ("secondary_authors", "tertiary_authors"))


def test_an_edited_book_has_no_authors_and_no_series_editor():
    edited = next(t[1] for t in TYPES if t[0].startswith("edited book"))
    [record] = rispy.loads(export("ris", list(parse_bibliography(edited, "b.bib")[0].values())))
    assert "authors" not in record and "secondary_authors" not in record


VERIFIED = """@article{k,
  author       = {Roe, Richard},
  title        = {A Title},
  journal      = {J},
  year         = {2001},
  note         = {OnlineFirst 13 September 2011},
  verification = {Volume and pages not seen during verification}
}"""


@pytest.mark.parametrize("output_format", ["bibtex", "ris", "csl-json"])
def test_no_export_carries_the_verification_record(output_format):
    sources, _ = parse_bibliography(VERIFIED, "bibliography.bib")
    text = export(output_format, list(sources.values()))
    assert "OnlineFirst 13 September 2011" in text   # the note a reader should see stays
    assert "not seen" not in text and "verification" not in text.lower()


def test_bibtex_export_drops_only_the_verification_line():
    sources, _ = parse_bibliography(VERIFIED, "bibliography.bib")
    assert export("bibtex", list(sources.values())) == VERIFIED.replace(
        "2011},\n  verification = {Volume and pages not seen during verification}", "2011}") + "\n"
