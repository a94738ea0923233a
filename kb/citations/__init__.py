"""Citations: the bibliography (`bibliography`), citation keys in text (`keys`), styles and their
formatting with pandoc's citeproc (`styles`), exports to BibTeX, RIS and
CSL-JSON (`exports`), what pages embed for reference managers (`embedded`: Highwire meta tags,
COinS, JSON-LD), and what a selection of cases cites (`selection`). The bibliography's own
checks are in kb.checks.bibliography.

Public names for the web and other callers (`from kb.citations import Formatter`), resolved on
first use (PEP 562), so that reading the bibliography loads no more than it needs.
"""
from __future__ import annotations

import importlib

EXPORTS = {
    "decoded": "bibliography", "bibtex_entry": "bibliography", "public_fields": "bibliography", "STYLES": "styles", "format_references": "styles", "format_documents": "styles",
    "Document": "styles", "style_name": "styles", "style_title": "styles", "find_styles": "styles",
    "available_styles": "styles", "source_to_csl": "exports",
    "case_to_csl": "exports", "export": "exports", "source_links": "exports",
    "Basket": "selection", "basket_citations": "selection", "unique_sources": "selection",
    "highwire": "embedded", "coins": "embedded", "source_json_ld": "embedded", "case_json_ld": "embedded",
    "json_ld": "embedded", "make_briefing": "briefing", "BRIEFING_FORMATS": "briefing", "BRIEFING_MIMETYPES": "briefing",
    "claim_with_citation": "styles",
}


def __getattr__(name: str):
    if name not in EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{EXPORTS[name]}"), name)
    globals()[name] = value
    return value
