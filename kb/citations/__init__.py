"""Citations: the bibliography (`bibliography`), citation keys in text (`keys`), styles and their
formatting with citeproc-py (`styles`, corrected by `citeproc_fixes`), exports to BibTeX, RIS and
CSL-JSON (`exports`), and what a selection of cases cites (`selection`). The bibliography's own
checks are in kb.checks.bibliography.

Public names for the web and other callers (`from kb.citations import Formatter`), resolved on
first use (PEP 562), so that reading the bibliography does not load citeproc-py.
"""
from __future__ import annotations

import importlib

EXPORTS = {
    "decoded": "bibliography", "Formatter": "styles", "STYLES": "styles", "source_to_csl": "exports",
    "case_to_csl": "exports", "export": "exports", "source_links": "exports",
    "Basket": "selection", "basket_citations": "selection", "unique_sources": "selection",
}


def __getattr__(name: str):
    if name not in EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{EXPORTS[name]}"), name)
    globals()[name] = value
    return value
