"""Lists as spreadsheet rows: the CSV downloads of search results and of the evidence list (the
web's /search.csv and /evidence.csv, `kb search --format csv`, `kb evidence --format csv`).

Columns are declared here once and documented in docs/csv.md (a test keeps the two together).
Cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
get a leading apostrophe, as OWASP's "CSV injection" advice says: these are read-only exports,
so nothing is lost but the formula.
"""
from __future__ import annotations

import csv
import html
import io
import re
from typing import Iterable, Sequence

from .regions import regions_of
from .storage.catalog import CaseSummary, EvidenceRow
from .verdicts import Finding

SEARCH_COLUMNS = ("rank", "id", "title", "summary", "themes", "countries", "regions", "period", "updated", "url")
EVIDENCE_COLUMNS = ("case_id", "case_title", "evidence_id", "claim", "outcome", "direction", "design", "strength",
                    "reconciled_strength", "citation", "sources", "period", "countries", "url", "change",
                    "effect_value", "effect_type", "effect_unit", "effect_ci_low", "effect_ci_high", "effect_n")
FINDINGS_COLUMNS = ("outcome", "verdict", "certainty", "cases", "items", "sources", "best_strength", "reviewed",
                    "reason", "strongest_case", "strongest_claim", "strongest_design", "strongest_strength",
                    "certainty_by", "downgraded_for")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_TAG = re.compile(r"<[^>]*>")
# what Markdown (pandoc's and GitHub's) would read as markup inside a table cell; the rest stays
# as written, so that the table reads well as text too
_MARKUP = re.compile(r"([\\`*_\[\]<>|$~^@#])")


def markdown_cell(value: object) -> str:
    """A table cell's text as literal Markdown, on one line."""
    return _MARKUP.sub(r"\\\1", " ".join(str(value).split()))


def neutralised(value: object) -> str:
    """A cell's text, with a leading apostrophe if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def plain(fragment: str) -> str:
    """HTML (a snippet, a formatted citation) as plain text."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """RFC 4180 CSV (CRLF line ends) with a header row; every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralised(cell) for cell in row])
    return out.getvalue()


def search_table(cases: Iterable[CaseSummary], url_of) -> str:
    """`cases` in their result order; `url_of(case_id)`: the address of a case page."""
    return to_csv(SEARCH_COLUMNS, ((n, c.id, c.title, c.summary, "; ".join(c.themes), "; ".join(c.country),
                                    "; ".join(regions_of(c.country)), c.period, c.updated, url_of(c.id))
                                   for n, c in enumerate(cases, start=1)))


def evidence_table(rows: Iterable[EvidenceRow], citations: Iterable[str], reconciled: dict, url_of) -> str:
    """Evidence rows with their formatted in-text citations (HTML, written as plain text)."""
    return to_csv(EVIDENCE_COLUMNS, ((r.case_id, r.case_title, r.id, r.claim, r.outcome, r.direction, r.design,
                                      r.strength or "", reconciled.get((r.case_id, r.id)) or "", plain(cite),
                                      "; ".join(r.keys), r.period, "; ".join(r.country), url_of(r.case_id, r.id),
                                      r.change, *_effect_cells(r.effect))
                                     for r, cite in zip(rows, citations)))


def _effect_cells(effect: dict | None) -> tuple:
    if not effect:
        return ("",) * 6
    ci = effect.get("ci") or ("", "")
    return effect["value"], effect["type"], effect.get("unit", ""), ci[0], ci[1], effect.get("n", "")


def findings_rows(found: Iterable[Finding], label) -> list[tuple]:
    """A summary of findings as rows of FINDINGS_COLUMNS (`label(kind, name)` names the terms)."""
    return [(label("indicators", f.outcome), label("verdicts", f.verdict.verdict), f.certainty, f.verdict.cases,
             f.verdict.items, f.verdict.sources, f.verdict.best or "", f.verdict.reviewed, f.verdict.reason,
             f.strongest.case_title if f.strongest else "", f.strongest.claim if f.strongest else "",
             label("designs", f.strongest.design) if f.strongest else "", f.strongest_strength or "",
             "reviewers (GRADE)" if f.graded else "rules", "; ".join(f.downgrades))
            for f in found]


def findings_csv(found: Iterable[Finding], label) -> str:
    return to_csv(FINDINGS_COLUMNS, findings_rows(found, label))


def findings_markdown(found: Iterable[Finding], title: str, label) -> str:
    """A pipe table a report can paste (pandoc and GitHub read it), with the rule set named."""
    head = ("Outcome", "Verdict", "Certainty", "Cases", "Items", "Sources", "Strongest study")
    lines = [f"## Summary of findings: {markdown_cell(title)}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in findings_rows(found, label):
        strongest = f"{row[9]}: {row[10]} ({row[11]}, SMS {row[12]})" if row[9] else ""
        certainty = f"{row[2]} (GRADE, reviewers" + (f"; rated down for {row[14]})" if row[14] else ")") \
            if row[13] != "rules" else row[2]
        cells = (row[0], row[1], certainty, *row[3:6], strongest)
        lines.append("| " + " | ".join(markdown_cell(c) for c in cells) + " |")
    lines += ["", "Verdicts and certainty follow the published rules of the knowledge base (docs/verdicts.md); "
              "a certainty marked GRADE is the reviewers' reconciled rating."]
    return "\n".join(lines) + "\n"
