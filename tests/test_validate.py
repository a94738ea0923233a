"""Every bad input gives one line `path:line: severity: message` and the right exit code."""
from __future__ import annotations

import json

import pytest
from conftest import BIB, case_text

from kb.cli import main

P = "case_studies/sample-case.md"

BAD_CASES = [
    # (name, file text or bytes, expected line, exit code)
    ("empty file", "", f"{P}:1: error: the file is empty; a case study starts with a '---' front-matter block", 1),
    ("no front matter", "# Title\n\nText\n",
     f"{P}:1: error: front matter missing: the first line must be '---', followed by YAML keys and a closing '---'", 1),
    ("unclosed front matter", "---\nid: sample-case\n",
     f"{P}:1: error: front matter is not closed: add a '---' line after the YAML keys", 1),
    ("front matter a list", "---\n- a\n- b\n---\nbody\n",
     f"{P}:2: error: front matter must be a mapping of keys (id: ..., title: ...), not a list", 1),
    ("yaml syntax error", case_text(title='"unclosed'),
     f"{P}:3: error: YAML syntax error: unclosed quote in 'title: \"unclosed'; close the quote on this line", 1),
    ("yaml bad indentation", case_text(locality="Vancouver\n   bad: indent"),
     f"{P}:9: error: YAML syntax error: mapping values are not allowed in this context; check indentation, colons and quotes on this line", 1),
    ("not utf-8", case_text().replace("Vancouver", "Montr\xe9al").encode("latin-1"),
     f"{P}:8: error: byte 0xe9 at offset", 1),
    ("missing title", case_text(title=None),
     f"{P}:1: error: required field 'title' is missing; Title of the case study.", 1),
    ("bad id slug", case_text(case_id="../Etc/passwd"),
     f"{P}:2: error: id '../Etc/passwd' is not a valid id; use lowercase letters, digits and hyphens ([a-z0-9][a-z0-9-]*), e.g. 'etc-passwd'", 1),
    ("unknown theme", case_text(themes="[tolerated-canabis-markets]"),
     f"{P}:5: error: unknown theme 'tolerated-canabis-markets' in themes (did you mean 'tolerated-cannabis-markets'?)", 1),
    ("unknown concept", case_text(concepts="[harm-indicator]"),
     f"{P}:6: error: unknown concept 'harm-indicator' in concepts (did you mean 'harm-indicators'?)", 1),
    ("bad country", case_text(country="UK"),
     f"{P}:7: error: country 'UK' is not an ISO 3166-1 alpha-2 code (did you mean 'GB'?)", 1),
    ("unknown country code", case_text(country="[CA, XZ]"),
     f"{P}:7: error: country 'XZ' is not an ISO 3166-1 alpha-2 code; write two letters such as 'GB', 'NO' or 'CO'", 1),
    ("malformed period", case_text(period='"2003 to 2008"'),
     f"{P}:9: error: period '2003 to 2008' is malformed; write \"YYYY\", \"YYYY-YYYY\" or \"YYYY-\" (ongoing), in quotes", 1),
    ("backwards period", case_text(period='"2008-2003"'),
     f"{P}:9: error: period '2008-2003' runs backwards; write \"2003-2008\"", 1),
    ("bad date", case_text(updated="2024-13-01"),
     f"{P}:13: error: updated '2024-13-01' is not an ISO date; write YYYY-MM-DD", 1),
    ("bad status", case_text(status="final"),
     f"{P}:12: error: unknown status 'final' in status (use one of: draft, published)", 1),
    ("strength out of range", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: \"[@doe2020policing]\"\n    outcome: violence\n    direction: improved\n    design: rct\n    strength: 7"),
     f"{P}:21: error: strength '7' is out of range; use an integer from 1 to 5 (Maryland Scientific Methods Scale) or leave it out", 1),
    ("unknown direction", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: \"[@doe2020policing]\"\n    outcome: violence\n    direction: better\n    design: rct"),
     f"{P}:19: error: unknown direction 'better' in evidence[0].direction (use one of: improved, worsened, mixed, no-change, unclear)", 1),
    ("unknown design", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: \"[@doe2020policing]\"\n    outcome: violence\n    direction: improved\n    design: quasi-experiment"),
     f"{P}:20: error: unknown design 'quasi-experiment' in evidence[0].design (did you mean 'quasi-experimental'?)", 1),
    ("unknown outcome", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: \"[@doe2020policing]\"\n    outcome: violense\n    direction: improved\n    design: rct"),
     f"{P}:18: error: unknown outcome 'violense' in evidence[0].outcome (did you mean 'violence'?)", 1),
    ("duplicate evidence ids", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: \"[@doe2020policing]\"\n    outcome: violence\n    direction: improved\n    design: rct\n  - id: e1\n    claim: y\n    cite: \"[@roe2015cannabis]\"\n    outcome: violence\n    direction: improved\n    design: rct"),
     f"{P}:21: error: duplicate evidence id 'e1' (also at line 15); evidence ids must be unique within a case", 1),
    ("evidence cite not a citation", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: doe2020policing\n    outcome: violence\n    direction: improved\n    design: rct"),
     f"{P}:17: error: evidence[0].cite: 'doe2020policing' is not a citation; write it like \"[@key, p. 12; @other]\"", 1),
    ("unknown key in body", case_text(body="Text [@doe2020polcing].\n"),
     f"{P}:23: error: citation key '@doe2020polcing' is not in bibliography.bib (did you mean '@doe2020policing'?)", 1),
    ("unknown key in evidence", case_text(evidence="evidence:\n  - id: e1\n    claim: x\n    cite: \"[@nobody1999]\"\n    outcome: violence\n    direction: improved\n    design: rct"),
     f"{P}:17: error: evidence 'e1' cites '@nobody1999', which is not in bibliography.bib; add the entry or fix the key", 1),
    ("malformed body citation", case_text(body="See [@doe2020policing!x] here.\n"),
     f"{P}:23: error: malformed citation '[@doe2020policing!x]': '@doe2020policing!x': key @doe2020policing runs into '!'; write [@key] or [@key, p. 12; @other]", 1),
    ("duplicate front-matter key", case_text() .replace("locality: Vancouver", "locality: Vancouver\nlocality: Burnaby"),
     f"{P}:9: error: key 'locality' appears twice; keep one", 1),
    ("unknown key is a warning", case_text(flavour="blue"),
     f"{P}:14: warning: unknown key 'flavour' is ignored (known keys: authors, checked, concepts, cost, country, drugs, evidence, "
     "former_ids, id, indicators, lead_agencies, legal_regime, locality, market_levels, period, population, setting, "
     "status, summary, tags, themes, title, updated)", 0),
    ("misspelt key", case_text(summry="x"),
     f"{P}:14: warning: unknown key 'summry' is ignored (did you mean 'summary'?)", 0),
    # hostile content: unsafe links, costs without bound
    ("javascript link in the body", case_text(body="Intro.\n\nSee [this](javascript:alert(1)).\n"),
     f"{P}:25: error: link 'javascript:alert(1)' uses the scheme 'javascript'; only http and https links are allowed", 1),
    ("data autolink in the body", case_text(body="<data:text/html,hello>\n"),
     f"{P}:23: error: link 'data:text/html,hello' uses the scheme 'data'", 1),
    ("link reference to a file", case_text(body="[x][r]\n\n[r]: file:///etc/passwd\n"),
     f"{P}:25: error: link 'file:///etc/passwd' uses the scheme 'file'", 1),
    ("yaml alias bomb", case_text(locality="&a Vancouver", tags="[*a, *a]"),
     f"{P}:11: error: YAML alias '*a' is not allowed in front matter; write the value out in full", 1),
    ("nesting too deep", case_text(tags="[[[[[[[[[x]]]]]]]]]"),
     f"{P}:11: error: front matter is nested more than 8 levels deep here", 1),
    ("quotes nested too deep", case_text(body=">" * 150 + " deep\n"),
     f"{P}:23: error: quotes or lists in the body nest 151 levels deep, more than 100; flatten them", 1),
    ("too many citations", case_text(body="[@doe2020policing] " * 2001 + "\n"),
     f"{P}:23: error: the body has 2,001 citations, more than 2,000; split the case study", 1),
    ("reserved evidence id", case_text(evidence="evidence:\n  - id: history\n    claim: x\n    cite: \"[@doe2020policing]\"\n    outcome: violence\n    direction: improved\n    design: rct"),
     f"{P}:15: error: evidence[0].id 'history' is reserved: the review pages use it in their addresses", 1),
    ("reserved case id", case_text(case_id="reconcile"),
     f"{P}:2: error: id 'reconcile' is reserved", 1),
    ("file too large", case_text(body="x" * (1024 * 1024)),
     f"{P}:1: error: the file is 1,049,167 bytes, more than the 1,048,576 a file may have", 1),
]


@pytest.mark.parametrize("name,text,expected,code", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_case_file(kb_root, runner, name, text, expected, code):
    root = kb_root({"sample-case.md": text})
    result = runner.invoke(main, ["--root", str(root), "validate"])
    lines = result.output.splitlines()
    assert any(line.startswith(expected) for line in lines), result.output
    assert result.exit_code == code
    assert "Traceback" not in result.output


BAD_URLS = [
    ("url = {javascript:alert(1)}", "url 'javascript:alert(1)' is not an http or https address"),
    ("url = {JavaScript:alert(1)}", "url 'JavaScript:alert(1)' is not an http or https address"),
    ("url = {data:text/html;base64,PHNjcmlwdD4=}", "url 'data:text/html;base64,PHNjcmlwdD4=' is not an http"),
    ("url = { javascript:alert(1)}", "url 'javascript:alert(1)' is not an http or https address"),
    ("url = {java\tscript:alert(1)}", "url 'java\\tscript:alert(1)' is not an http or https address"),
    ("howpublished = {\\url{vbscript:msgbox}}", "howpublished 'vbscript:msgbox' is not an http or https address"),
    ("url = {//evil.example/x}", "url '//evil.example/x' is not an http or https address"),
]


@pytest.mark.parametrize("field,message", BAD_URLS)
def test_unsafe_bibliography_urls_are_errors_with_their_line(kb_root, runner, field, message):
    bib = BIB.replace("  doi     = {10.1000/jdp.2020.1}, options = {useprefix=true}\n",
                      "  doi     = {10.1000/jdp.2020.1}, options = {useprefix=true},\n  " + field + "\n")
    root = kb_root(bib=bib)
    result = runner.invoke(main, ["--root", str(root), "validate", "--strict"])
    assert f"bibliography.bib:9: error: entry 'doe2020policing': {message}" in result.output, result.output
    assert result.exit_code == 1


def test_overlong_bibliography_field_is_an_error(kb_root, runner):
    root = kb_root(bib=BIB.replace("title   = {Policing", "title   = {" + "very " * 2500 + "Policing"))
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert "bibliography.bib:1: error: entry 'doe2020policing': field 'title' is 12,542 characters long, more than 10,000; shorten it" in result.output
    assert result.exit_code == 1


def test_warning_fails_under_strict(kb_root, runner):
    root = kb_root({"sample-case.md": case_text(colour="blue")})
    assert runner.invoke(main, ["--root", str(root), "validate"]).exit_code == 0
    assert runner.invoke(main, ["--root", str(root), "validate", "--strict"]).exit_code == 1


def test_valid_collection_reports_nothing(kb_root, runner):
    root = kb_root({"sample-case.md": case_text(body="Text [@doe2020policing; @roe2015cannabis] and [@bank2018laundering].\n")})
    result = runner.invoke(main, ["--root", str(root), "validate", "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_all_problems_in_one_pass(kb_root, runner):
    root = kb_root({"a.md": case_text("a", themes="[nope]"), "b.md": case_text("b", country="ZZ")})
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert "case_studies/a.md:5: error: unknown theme 'nope'" in result.output
    assert "case_studies/b.md:7: error: country 'ZZ'" in result.output
    assert result.exit_code == 1


def test_duplicate_case_ids_name_both_files(kb_root, runner):
    root = kb_root({"one/same.md": case_text("same"), "two/same.md": case_text("same")})
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert ("case_studies/one/same.md:2: error: duplicate case id 'same': also used by case_studies/two/same.md; "
            "ids must be unique across the collection") in result.output
    assert ("case_studies/two/same.md:2: error: duplicate case id 'same': also used by case_studies/one/same.md; "
            "ids must be unique across the collection") in result.output
    assert result.exit_code == 1


def test_file_name_differs_from_id_is_a_warning(kb_root, runner):
    root = kb_root({"other-name.md": case_text("sample-case")})
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert ("case_studies/other-name.md:2: warning: file name 'other-name.md' does not match id 'sample-case'; "
            "rename it to sample-case.md") in result.output
    assert result.exit_code == 0


def test_yaml_scalars_stay_strings(kb_root, runner):
    """`NO` is Norway, a period 2003 stays text, a BOM is accepted."""
    text = case_text(country="NO", period="2003", updated="2024-05-01")
    root = kb_root({"sample-case.md": b"\xef\xbb\xbf" + text.encode("utf-8")})
    result = runner.invoke(main, ["--root", str(root), "validate", "--strict"])
    assert result.exit_code == 0, result.output


def test_json_format_is_the_same_list(kb_root, runner):
    root = kb_root({"sample-case.md": case_text(country="UK")})
    result = runner.invoke(main, ["--root", str(root), "validate", "--format", "json"])
    assert json.loads(result.stdout) == [{
        "path": P, "line": 7, "severity": "error", "code": "bad-country",
        "message": "country 'UK' is not an ISO 3166-1 alpha-2 code (did you mean 'GB'?)",
    }]
    assert result.exit_code == 1


def test_uncited_entries_are_info(kb_root, runner):
    root = kb_root()
    result = runner.invoke(main, ["--root", str(root), "validate", "-v"])
    assert "bibliography.bib:11: info: entry 'roe2015cannabis' is not cited by any case" in result.output
    assert result.exit_code == 0


def test_missing_case_studies_folder(tmp_path, runner):
    result = runner.invoke(main, ["--root", str(tmp_path), "validate"])
    assert result.exit_code == 1
    assert f"Error: {tmp_path.resolve()}/case_studies: no case_studies folder here" in result.output


def test_vocabulary_extension(kb_root, runner):
    root = kb_root({"sample-case.md": case_text(themes="[prison-drug-markets]")})
    (root / "vocabulary.yaml").write_text("themes:\n  prison-drug-markets:\n    label: Prison drug markets\n    help: x\n")
    result = runner.invoke(main, ["--root", str(root), "validate", "--strict"])
    assert result.exit_code == 0, result.output


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from kb.content.loader import parse_case_bytes  # noqa: E402
from kb.vocabulary import default_vocabulary  # noqa: E402

YAMLISH = st.text(alphabet=st.sampled_from(list("abc:-[]{}'\"#&*!|>@%\n \t019NOyes.\u00e9\ufeff")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.one_of(YAMLISH.map(lambda t: "---\n" + t + "\n---\nbody [@x]\n"), YAMLISH, st.binary(max_size=200)))
def test_no_content_raises(content):
    """Whatever a file holds, reading it gives problems, never an exception."""
    raw = content if isinstance(content, bytes) else content.encode("utf-8")
    parsed = parse_case_bytes(raw, "case_studies/x.md", default_vocabulary())
    assert parsed.case is not None or parsed.problems
    assert all(p.line >= 1 and p.path == "case_studies/x.md" for p in parsed.problems)


def test_the_date_a_case_was_checked(kb_root, runner):
    """`checked`: when the content was last checked against its sources; a date, not in the future."""
    root = kb_root({"sample-case.md": case_text(checked="2026-13-02"), "other.md": case_text("other", checked="2999-01-01"),
                    "fine.md": case_text("fine", checked="2026-11-30")})
    result = runner.invoke(main, ["--root", str(root), "validate"])
    assert "error: checked '2026-13-02' is not an ISO date; write YYYY-MM-DD" in result.output
    assert "error: checked '2999-01-01' is in the future; write the date it happened" in result.output
    assert "fine.md" not in result.output and result.exit_code == 1
