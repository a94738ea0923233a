"""Turns a Case (and the sources it cites) into rows for storage and a document for the index."""
from __future__ import annotations

import re

from ..citations.bibliography import decoded
from ..citations.keys import citation_spans
from ..facets import FACETS, facet_values
from ..model import Case, Source
from ..search.results import IndexDoc
from ..vocabulary import country_name

# Bump when case_rows writes different rows for the same case (a new term kind, a new column):
# the next build then rewrites every case's rows (2: regions and directions as term rows).
ROWS_VERSION = "2"

_HEADING = re.compile(r"^#{1,6}[^\n]*\n?", re.M)
# Every pattern stops at the next bracket or line end: `\[([^\]]*)\]` ran to the end of the text
# from each `[`, quadratic on a body of brackets.
_MARKUP = re.compile(r"(^#{1,6}\s*|[*_`>|]+|!?\[([^\[\]\n]*)\]\([^()\n]*\))", re.M)



def plain_text(markdown: str) -> str:
    """Body text for indexing and snippets: citations and Markdown markup removed, in linear time."""
    kept, last = [], 0
    for start, end in citation_spans(markdown):
        kept.append(markdown[last:start].rstrip(" \t"))
        last = end
    kept.append(markdown[last:])
    text = _HEADING.sub("", "".join(kept))  # headings are the same in every case
    text = _MARKUP.sub(lambda m: m.group(2) or " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def index_doc(case: Case, sources: dict[str, Source], this_year: int) -> IndexDoc:
    cited = [sources[key] for key in case.cited_keys() if key in sources]
    span = case.span
    sources_text = "\n".join(f"{decoded(s, 'author')} {decoded(s, 'editor')} {decoded(s, 'title')}" for s in cited)
    names = " ".join(country_name(c) for c in case.country)
    body = plain_text(case.body)
    claims = "\n".join(item.claim for item in case.evidence)
    fields = {
        "id": case.id, "title": case.title, "summary": case.summary, "body": body,
        # Everything a plain word is matched against, in one field so that ranking can skip
        # non-competitive documents; the title counts three times and the summary twice.
        "text": "\n".join((case.title, case.title, case.title, case.summary, case.summary, body, claims,
                           " ".join(case.tags), case.locality, names, sources_text)),
        "tags": ",".join(case.tags),
        "indicators": ",".join(case.indicators.get("traditional", []) + case.indicators.get("harm", [])),
        "country_name": names, "years": ",".join(str(year) for year in span.years(this_year)) if span else "", "period": case.period,
        "sources": sources_text,
        "status": case.status or "published", "period_start": span.start if span else 0,
        "updated": case.updated or "",
    }
    facets = facet_values(case, this_year)
    fields.update((name, ",".join(values)) for name, values in facets.items())
    weighted = {"A": case.title, "B": case.summary,
                "C": "\n".join((claims, " ".join(case.tags), case.locality, names)), "D": f"{body}\n{sources_text}"}
    return IndexDoc(fields=fields, facets=facets, weighted=weighted)


def case_rows(case: Case) -> dict:
    """Rows for the cases, case_terms, evidence_items and citations tables."""
    start, end = case.period_years
    cache = case.to_dict()
    cache.pop("body")
    case_row = {
        "id": case.id, "path": case.path, "title": case.title, "summary": case.summary,
        "locality": case.locality, "period": case.period, "period_start": start, "period_end": end,
        "status": case.status or "published", "updated": case.updated or "", "body": case.body,
        "sha256": case.sha256, "data": cache,
    }
    term_rows = [{"case_id": case.id, "kind": kind, "name": name}
                 for kind, names in (*((f.param, f.values(case, 0)) for f in FACETS if f.terms), ("tag", case.tags),
                                     ("indicator_traditional", case.indicators.get("traditional", [])),
                                     ("indicator_harm", case.indicators.get("harm", [])))
                 for name in dict.fromkeys(names)]
    evidence_rows = [{"case_id": case.id, "id": item.id, "position": n, "claim": item.claim, "cite": item.cite,
                      "outcome": item.outcome, "direction": item.direction, "design": item.design,
                      "strength": item.strength} for n, item in enumerate(case.evidence)]
    cited = [(None, ref) for ref in case.citations] + [(item.id, ref) for item in case.evidence for ref in item.citations]
    citation_rows = [{"case_id": case.id, "evidence_id": evidence_id, "source_key": ref.key, "locator": ref.locator,
                      "position": n} for n, (evidence_id, ref) in enumerate(cited)]
    return {"case": case_row, "terms": term_rows, "evidence": evidence_rows, "citations": citation_rows}


def source_row(source: Source, position: int) -> dict:
    return {"key": source.key, "entry_type": source.entry_type, "title": decoded(source, "title"),
            "authors": decoded(source, "author") or decoded(source, "editor"),
            "year": source.fields.get("year", ""), "doi": source.fields.get("doi", ""),
            "url": source.fields.get("url", ""), "fields": source.fields, "raw": source.raw, "position": position}
