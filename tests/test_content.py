"""The shipped collection meets the bar the collection issue sets (this reads the real content)."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from kb.content.loader import load_collection
from kb.vocabulary import default_vocabulary

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = ["Context", "Intervention", "Outcomes", "Lessons for law enforcement"]
MDLE_REPORTS = ["monaghan2013police", "felbabbrown2013focused", "stevens2013applying",
                "monaghan2013practical", "levi2013drug", "comolli2013drug"]


@pytest.fixture(scope="module")
def collection():
    return load_collection(ROOT)


def body_words(body: str) -> int:
    text = re.sub(r"^#+ .*$", "", body, flags=re.M)        # headings
    text = re.sub(r"\[[^\[\]]*@[^\[\]]*\]", "", text)       # citations
    return len(text.split())


def test_validates_strictly(collection):
    problems = [str(p) for p in collection.all_problems() if p.severity != "info"]
    assert problems == []


def test_at_least_60_cases_and_8_per_theme(collection):
    assert len(collection.cases) >= 60
    per_theme = Counter(theme for case in collection.cases for theme in case.themes)
    short = {theme: per_theme[theme] for theme in default_vocabulary().terms("themes") if per_theme[theme] < 8}
    assert short == {}


@pytest.mark.parametrize("case_id", [p.stem for p in sorted((ROOT / "case_studies").rglob("*.md"))])
def test_case_meets_the_bar(collection, case_id):
    case = next(c for c in collection.cases if c.id == case_id)
    assert 400 <= body_words(case.body) <= 900, body_words(case.body)
    assert re.findall(r"^## (.+)$", case.body, flags=re.M) == HEADINGS
    assert len(case.evidence) >= 2
    assert all(item.outcome and item.direction and item.design for item in case.evidence)
    assert len(set(case.cited_keys())) >= 3
    assert case.status == "published" and case.updated


def test_every_mdle_report_is_cited(collection):
    cited = {key for case in collection.cases for key in case.cited_keys()}
    assert [key for key in MDLE_REPORTS if key not in cited] == []


def test_evidence_map_has_no_empty_theme_row(collection):
    harm = set(default_vocabulary().terms("indicators_harm"))
    rows = Counter(theme for case in collection.cases for theme in case.themes
                   for item in case.evidence if item.outcome in harm)
    assert [theme for theme in default_vocabulary().terms("themes") if not rows[theme]] == []


def test_results_are_not_only_good_news(collection):
    directions = Counter(item.direction for case in collection.cases for item in case.evidence)
    assert directions["worsened"] + directions["mixed"] + directions["no-change"] >= 15


@pytest.mark.parametrize("style", ["apa", "chicago-author-date", "harvard"])
def test_every_case_can_be_cited(collection, shipped_build, style):
    from click.testing import CliRunner

    from kb.cli import main
    ids = [case.id for case in collection.cases]
    result = CliRunner().invoke(main, ["--root", str(ROOT), "--data", str(shipped_build), "cite", *ids, "--style", style])
    assert result.exit_code == 0, result.output
    assert "Preprint" not in result.output   # press articles typed as such, not as journal articles
    assert len(result.output.strip().splitlines()) >= 150


@pytest.mark.parametrize("output_format,suffix", [("bibtex", "bib"), ("csl-json", "json")])
def test_pandoc_reads_the_whole_shipped_bibliography(tmp_path, shipped_build, output_format, suffix):
    """Every reference, exported, is read and formatted by pandoc's citeproc with no warning."""
    import subprocess

    from click.testing import CliRunner
    from test_export import pandoc

    from kb.cli import main
    out = tmp_path / f"all.{suffix}"
    ids = [p.stem for p in sorted((ROOT / "case_studies").rglob("*.md"))]
    result = CliRunner().invoke(main, ["--root", str(ROOT), "--data", str(shipped_build), "cite", *ids,
                                       "--format", output_format, "--output", str(out)])
    assert result.exit_code == 0, result.output
    document = tmp_path / "doc.md"
    document.write_text('---\nnocite: "@*"\n---\n', encoding="utf-8")
    run = subprocess.run([pandoc(), "--citeproc", f"--bibliography={out}", "-t", "plain", str(document)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stderr == ""
    assert "Monaghan" in run.stdout and "Felbab-Brown" in run.stdout


def test_the_record_of_checked_cases_is_up_to_date():
    """docs/collection-record.md lists, per checked case, each reference with where it was checked."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "collection_record.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
