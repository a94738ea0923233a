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
from kb.citations.styles import Formatter, claim_with_citation, parse_locator
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
ITEMS = [source_to_csl(source) for source in SOURCES.values()]
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
    formatter = Formatter(ITEMS, style, output)
    claim = claim_with_citation("Overdose deaths near the site fell.", formatter.cite([("doe2020policing", "p. 5")]))
    case = Formatter([case_to_csl(SAMPLE_CASE, "https://kb.example.org")], style, output).references()
    return "\n".join(["## references", *formatter.references(), "", "## citations",
                      *[formatter.cite(cite) for cite in CITES], "", "## claim", claim, "", "## case study", *case, ""])


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("output", ["text", "markdown", "html"])
def test_golden_output(style, output):
    check_golden(f"{style}.{ {'text': 'txt', 'markdown': 'md', 'html': 'html'}[output]}", sample(style, output))


def references(style: str) -> dict[str, str]:
    formatter = Formatter(ITEMS, style)
    return dict(zip(sorted(SOURCES), sorted(formatter.references(), key=lambda entry: _owner(entry))))


def _owner(entry: str) -> str:
    for key, word in (("bank2018laundering", "World Bank"), ("doe2020policing", "Doe"), ("muller2019crackdowns", "Müller"),
                      ("roe2015cannabis", "Roe"), ("unodc2021report", "United Nations")):
        if entry.startswith(word):
            return key
    raise AssertionError(f"unexpected entry {entry!r}")


@pytest.mark.parametrize("style,key,expected", [
    # particles, diacritics, corporate authors and a missing year, in each style
    ("apa", "doe2020policing", "Doe, J., & van der Meer, P. (2020). Policing Open Drug Markets in Zürich. Journal of Drug Policy, 12, 1–20. https://doi.org/10.1000/jdp.2020.1"),
    ("apa", "muller2019crackdowns", "Müller, I., & Silva, J. (n.d.). Why Do Crackdowns Displace HIV Risk? In M. A. R. Kleiman (Ed.), Handbook of Drug Market Policing (pp. 33–44). Example Press."),
    ("apa", "bank2018laundering", "World Bank. (2018). Money Laundering and Drug Markets. World Bank."),
    ("chicago-author-date", "doe2020policing", "Doe, Jane, and Piet van der Meer. 2020. “Policing Open Drug Markets in Zürich.” Journal of Drug Policy 12: 1–20. https://doi.org/10.1000/jdp.2020.1."),
    ("chicago-author-date", "muller2019crackdowns", "Müller, Inês, and João Silva. n.d. “Why Do Crackdowns Displace HIV Risk?” In Handbook of Drug Market Policing, edited by Mark A. R. Kleiman. Example Press."),
    ("chicago-author-date", "bank2018laundering", "World Bank. 2018. Money Laundering and Drug Markets. World Bank."),
    ("harvard", "doe2020policing", "Doe, J. and van der Meer, P. (2020) ‘Policing Open Drug Markets in Zürich’, Journal of Drug Policy, 12, pp. 1–20. Available at: https://doi.org/10.1000/jdp.2020.1."),
    ("harvard", "muller2019crackdowns", "Müller, I. and Silva, J. (no date) ‘Why Do Crackdowns Displace HIV Risk?’, in M.A.R. Kleiman (ed.) Handbook of Drug Market Policing. London: Example Press, pp. 33–44."),
    ("harvard", "unodc2021report", "United Nations Office on Drugs and Crime (2021) ‘World Drug Report 2021’. United Nations publication, Sales No. E.21.XI.8. Available at: https://www.unodc.org/unodc/en/data-and-analysis/wdr2021.html."),
])
def test_reference(style, key, expected):
    assert references(style)[key] == expected


def test_chicago_corrections():
    """citeproc-py alone gives `Doe, J., and P. van der Meer` and `Zürich”.`; we give what CMOS wants."""
    entry = references("chicago-author-date")["doe2020policing"]
    assert entry.startswith("Doe, Jane, and Piet van der Meer. 2020.")
    assert "Zürich.” Journal" in entry
    assert "”." not in "".join(Formatter(ITEMS, "chicago-author-date").references())


@pytest.mark.parametrize("style,cites,expected", [
    ("apa", [("doe2020policing", "p. 12")], "(Doe & van der Meer, 2020, p. 12)"),
    ("apa", [("roe2015cannabis", "ch. 4")], "(Roe, 2015, Chapter 4)"),
    ("apa", [("muller2019crackdowns", "")], "(Müller & Silva, n.d.)"),
    # APA orders the works of one citation alphabetically; the prefix stays with its work
    ("apa", [("bank2018laundering", "pp. 3-5"), ("roe2015cannabis", "", "see")], "(see Roe, 2015; World Bank, 2018, pp. 3–5)"),
    ("chicago-author-date", [("doe2020policing", "p. 12")], "(Doe and van der Meer 2020, 12)"),
    ("chicago-author-date", [("roe2015cannabis", "ch. 4")], "(Roe 2015, chap. 4)"),
    ("chicago-author-date", [("muller2019crackdowns", "")], "(Müller and Silva, n.d.)"),
    ("harvard", [("doe2020policing", "p. 12")], "(Doe and van der Meer, 2020, p. 12)"),
    ("harvard", [("muller2019crackdowns", "")], "(Müller and Silva, no date)"),
    ("harvard", [("unodc2021report", "table 3")], "(United Nations Office on Drugs and Crime, 2021, table 3)"),
])
def test_in_text_citation(style, cites, expected):
    assert Formatter(ITEMS, style).cite(cites) == expected


@pytest.mark.parametrize("text,label,value,suffix", [
    ("p. 12", "page", "12", ""),
    ("pp. 3-5", "page", "3-5", ""),
    ("12", "page", "12", ""),
    ("ch. 4", "chapter", "4", ""),
    ("chapter 4", "chapter", "4", ""),
    ("sec. 2.1", "section", "2.1", ""),
    ("pp. 3, 7-9", "page", "3, 7-9", ""),
    ("§ 3", "section", "3", ""),
    ("para. 7", "paragraph", "7", ""),
    ("fig. 2", "figure", "2", ""),
    ("vol. II", "volume", "II", ""),
    ("table 3", None, None, ", table 3"),
    ("sec. Introduction", None, None, ", sec. Introduction"),
    ("", None, None, ""),
])
def test_parse_locator(text, label, value, suffix):
    locator, rest = parse_locator(text)
    assert (locator.label if locator else None, locator.identifier if locator else None, rest) == (label, value, suffix)


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
        "title": "Policing Open Drug Markets in Zürich", "container-title": "Journal of Drug Policy", "volume": "12",
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
    assert result.stdout == ("United Nations Office on Drugs and Crime. 2021. “World Drug Report 2021.” United Nations "
                             "publication, Sales No. E.21.XI.8. https://www.unodc.org/unodc/en/data-and-analysis/wdr2021.html.\n")


def test_cite_theme_leaves_drafts_out(runner, root):
    result = cite(runner, root, "--theme", "targeted-deterrence", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("- United Nations Office on Drugs and Crime. (2021). *World Drug Report 2021*")
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
    (["a", "--style", "mla"], "Error: Invalid value for '--style': 'mla' is not one of 'apa', 'chicago-author-date', "
     "'harvard', 'harvard-cite-them-right'."),
    (["a", "--format", "docx"], "Error: Invalid value for '--format': 'docx' is not one of 'text', 'markdown', 'bibtex', "
     "'ris', 'csl-json'."),
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
    """citeproc-py's own HTML formatter left `&` raw wherever a style changed case."""
    item = {"id": "x", "type": "article-journal", "title": "Crime & <Punishment> *now*",
            "container-title": "Criminology & Public Policy", "author": [{"family": "Roe", "given": "R."}],
            "issued": {"date-parts": [[2001]]}}
    html = Formatter([item], style, "html").references()[0]
    assert "Crime &amp; &lt;Punishment&gt;" in html
    assert "Criminology &amp; Public Policy</i>" in html and " & " not in html
    markdown = Formatter([item], style, "markdown").references()[0]
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
    from kb.citations.exports import source_to_csl
    from kb.citations.styles import format_references
    bib = ("@article{a2020, author={Doe, Jane}, title={Published Work}, journal={J}, year={2020}}\n"
           "@article{b2021, author={Roe, Ann}, title={Draft Work}, journal={J}, year={2021}, pubstate={prepublished}}\n")
    sources, _ = parse_bibliography(bib, "bibliography.bib")
    lines = format_references([source_to_csl(s) for s in sources.values()], "harvard")
    assert [("[Preprint]" in line) for line in lines] == [False, True]


@pytest.mark.parametrize("style,expected_cite,expected_year", [
    ("apa", "(Wood et al., 2006a, p. 3; Wood et al., 2006b)", "(2006a)"),
    ("chicago-author-date", "(Wood et al. 2006a, 3; Wood et al. 2006b)", "2006a."),
    ("harvard", "(Wood, Tyndall and Kerr, 2006a, p. 3; Wood, Tyndall and Kerr, 2006b)", "(2006a)"),
])
def test_same_authors_same_year_get_year_suffixes(style, expected_cite, expected_year):
    """citeproc-py does not disambiguate; two Wood et al. 2006 works must not look like one."""
    from kb.citations.styles import Formatter
    authors = [{"family": "Wood", "given": "Evan"}, {"family": "Tyndall", "given": "Mark"}, {"family": "Kerr", "given": "Thomas"}]
    items = [{"id": key, "type": "article-journal", "title": title, "author": authors, "container-title": "J",
              "issued": {"date-parts": [[2006]]}, "volume": "1", "page": "1-2"}
             for key, title in (("wood2006impact", "Impact"), ("wood2006summary", "Summary"))]
    formatter = Formatter(items, style, "text")
    assert formatter.cite([("wood2006impact", "p. 3"), ("wood2006summary", "")]) == expected_cite
    assert [expected_year in entry for entry in formatter.references()] == [True, False]
    assert "year-suffix" not in items[0]   # the caller's items are not changed
