"""Our references against a plain pandoc run over the whole shipped bibliography, per style.

The figures are those of docs/citations.md ("Agreement with pandoc"); every difference must be one
of the corrections listed there, and each style must agree on at least 90% of the entries.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from agreement import measure, normalised  # noqa: E402

from kb.citations.styles import STYLES  # noqa: E402


def explained(ours: str, theirs: str) -> bool:
    """A difference docs/citations.md lists: an open page range, or a published article labelled
    "[Preprint]" by Cite Them Right."""
    ours, theirs = normalised(ours), normalised(theirs)
    theirs = re.sub(r"\b(\d+)-\d+\b", lambda m: m.group(1) + "-" if re.search(rf"\b{m.group(1)}-(?!\d)", ours)
                    else m.group(0), theirs)   # "205-205" or "1103-3" for pages = {205--}
    theirs = theirs.replace(" [Preprint]", "")
    return ours == theirs


@pytest.fixture(scope="module")
def agreement():
    return {found.style: found for found in measure(ROOT / "bibliography.bib")}


@pytest.mark.parametrize("style", list(STYLES))
def test_agreement_with_pandoc(agreement, style):
    found = agreement[style]
    assert found.total >= 180
    assert found.share >= 0.9, f"{style}: {found.identical} of {found.total}"
    unexplained = [(key, ours, theirs) for key, ours, theirs in found.different if not explained(ours, theirs)]
    assert unexplained == []


def test_the_documented_figures_are_the_measured_ones(agreement):
    text = (ROOT / "docs" / "citations.md").read_text(encoding="utf-8")
    for style, found in agreement.items():
        row = f"| {style} | {found.identical} | {found.total} | {found.share:.1%} |"
        assert row in text, f"docs/citations.md should have the row {row}"
