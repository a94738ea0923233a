"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json."""
from __future__ import annotations

from kb.facets import BY_PARAM, FACETS, SORTS
from kb.knowledgebase import EVIDENCE_PARAMS, EVIDENCE_SORTS, LEDGER_MOVES, VERDICTS

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["status", "code", "message"],
    "properties": {"status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}}}}}
STRINGS = {"type": "array", "items": {"type": "string"}}
FACET_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
SEARCH_RESULT = {"type": "object", "required": ["query", "total", "results", "facets", "suggestion"], "properties": {
    "query": {"type": "string"}, "total": {"type": "integer"},
    "results": {"type": "array", "items": {"type": "object", "required": ["id", "title", "score", "snippet", "themes", "country", "period"],
                                           "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                                          "score": {"type": "number"}, "snippet": {"type": "string", "description": "HTML with <mark> around matches"},
                                                          "themes": STRINGS, "country": STRINGS, "period": {"type": "string"},
                                                          "emmie": {**STRINGS, "description": "EMMIE dimensions the case documents"}}}},
    "facets": {"type": "object", "additionalProperties": FACET_COUNTS},
    "suggestion": {"type": ["string", "null"]},
    "relaxed": {"type": ["object", "null"], "description": "Set when no case has every word: cases with most of them are shown",
                "properties": {"most_words": {"type": "integer"}, "words": {"type": "integer"}}}}}
EVIDENCE_ITEM = {"type": "object", "required": ["case", "id", "claim", "outcome", "direction", "design", "citation", "url"],
                 "properties": {"case": {"type": "string"}, "case_title": {"type": "string"}, "id": {"type": "string"},
                                "claim": {"type": "string"}, "outcome": {"type": "string"}, "direction": {"type": "string"},
                                "design": {"type": "string"}, "strength": {"type": ["integer", "null"]},
                                "reconciled_strength": {"type": ["integer", "null"]},
                                "citation": {"type": "string", "description": "The formatted in-text citation (HTML)"},
                                "sources": STRINGS, "url": {"type": "string"}}}
EVIDENCE_LIST = {"type": "object", "required": ["total", "cases", "items", "facets"], "properties": {
    "total": {"type": "integer"}, "cases": {"type": "integer"}, "page": {"type": "integer"}, "limit": {"type": "integer"},
    "suggestion": {"type": ["string", "null"]}, "items": {"type": "array", "items": EVIDENCE_ITEM},
    "facets": {"type": "object", "additionalProperties": FACET_COUNTS},
    "strengths": {"type": "object", "description": "SMS level -> items", "additionalProperties": {"type": "integer"}}}}
VERDICT = {"type": "object", "required": ["verdict", "reason", "items", "sources", "badge"], "properties": {
    "verdict": {"type": "string", "enum": list(VERDICTS)}, "reason": {"type": "string"},
    "items": {"type": "integer"}, "sources": {"type": "integer", "description": "Distinct sources the items cite"},
    "best_strength": {"type": ["integer", "null"]}, "reviewed": {"type": "integer", "description": "Items reconciled"},
    "strong": {"type": "integer", "description": "Votes the rules weighed (docs/verdicts.md)"},
    "badge": {"type": "string"}, "cases": {"type": "integer"},
    "by_verdict": {"type": "object", "additionalProperties": {"type": "integer"}}}}
VERDICTS_RESULT = {"type": "object", "required": ["verdicts"], "properties": {
    "case": {"type": "string"}, "filters": {"type": "object"},
    "verdicts": {"type": "object", "description": "Harm outcome -> verdict", "additionalProperties": VERDICT}}}
LEDGER_ENTRY = {"type": "object", "properties": {"id": {"type": "string"}, "outcome": {"type": "string"},
                                                 "move": {"type": "string"}, "score": {"type": "string"},
                                                 "claim": {"type": "string"}}}
LEDGER = {"type": "object", "required": ["measuring_both", "opposite", "cells", "cases"], "properties": {
    "measuring_both": {"type": "integer"}, "opposite": {"type": "integer"},
    "cells": {"type": "array", "items": {"type": "object", "properties": {
        "output": {"type": "string", "enum": list(LEDGER_MOVES[0])}, "harm": {"type": "string", "enum": list(LEDGER_MOVES[1])},
        "cases": {"type": "integer"}}}},
    "groups": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
    "cases": {"type": "array", "items": {"type": "object", "properties": {
        "case": {"type": "string"}, "title": {"type": "string"}, "outputs": {"type": "array", "items": LEDGER_ENTRY},
        "harms": {"type": "array", "items": LEDGER_ENTRY}, "output_move": {"type": "string"}, "harm_move": {"type": "string"},
        "opposite": {"type": "boolean"}, "reading": {"type": "string"}, "url": {"type": "string"}}}}}}
CASE_SUMMARY = {"type": "object", "properties": {k: {"type": "string"} for k in ("id", "title", "summary", "period", "updated", "status", "url")}
                | {"themes": STRINGS, "country": STRINGS}}


def _param(name: str, description: str, *, many: bool = False, schema: dict | None = None, where: str = "query") -> dict:
    found = {"name": name, "in": where, "description": description, "required": where == "path",
             "schema": schema or ({"type": "array", "items": {"type": "string"}} if many else {"type": "string"})}
    if many:
        found.update(style="form", explode=True)
    return found


def _responses(ok_schema: dict, *errors: int) -> dict:
    found = {"200": {"description": "OK", "content": {"application/json": {"schema": ok_schema}}}}
    for status in errors:
        found[str(status)] = {"description": {400: "Bad parameters", 404: "Unknown id", 503: "No build yet"}[status],
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return found


def document(base_url: str) -> dict:
    search_params = [_param("q", "Query: words, \"phrases\", AND/OR/NOT, field:value, prefix*")] + [
        _param(facet.param, f"Filter by {facet.label.lower()} (repeatable)", many=True)
        for facet in FACETS if facet.indexed] + [
        _param("verdict", "Only cases with this verdict on some harm outcome (repeatable)", many=True,
               schema={"type": "array", "items": {"type": "string", "enum": list(VERDICTS)}}),
        _param("limit", "Results per page (1-100)", schema={"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
        _param("page", "Page number", schema={"type": "integer", "minimum": 1, "default": 1}),
        _param("sort", "Order", schema={"type": "string", "enum": list(SORTS)})]
    evidence_params = [_param("q", "Query over the cases' text, as in /api/search")] + [
        _param(param, f"Filter by {BY_PARAM[param].label.lower()} (repeatable, values OR-ed)", many=True)
        for param in EVIDENCE_PARAMS] + [
        _param("min_strength", "Only items graded at least this SMS level", schema={"type": "integer", "minimum": 1, "maximum": 5}),
        _param("reconciled", "1: only items an editor reconciled", schema={"type": "string", "enum": ["0", "1"]}),
        _param("style", "Citation style of `citation`", schema={"type": "string", "default": "apa"}),
        _param("limit", "Items per page (1-200)", schema={"type": "integer", "minimum": 1, "maximum": 200, "default": 20}),
        _param("page", "Page number", schema={"type": "integer", "minimum": 1, "default": 1}),
        _param("sort", "Order", schema={"type": "string", "enum": list(EVIDENCE_SORTS)})]
    group_params = [_param(param, f"Only cases with this {BY_PARAM[param].label.lower()} (repeatable)", many=True)
                    for param in EVIDENCE_PARAMS if param not in ("outcome", "direction", "design")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Drug Law Enforcement Evidence Knowledge Base API", "version": "1.0.0",
                 "description": "Read-only access to case studies, their evidence and sources. Errors share one shape."},
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": {
            "/api/search": {"get": {"summary": "Ranked search with facet counts over the whole result set",
                                    "parameters": search_params, "responses": _responses(SEARCH_RESULT, 400, 503)}},
            "/api/evidence": {"get": {"summary": "Evidence items (not cases) with filters for every case facet and their own",
                                      "parameters": evidence_params, "responses": _responses(EVIDENCE_LIST, 400, 503)}},
            "/api/cases": {"get": {"summary": "List cases, optionally of one theme, concept or country",
                                   "parameters": [_param("theme", "Theme id"), _param("concept", "Concept id"),
                                                  _param("country", "ISO 3166-1 alpha-2 code")],
                                   "responses": _responses({"type": "object", "properties": {
                                       "total": {"type": "integer"}, "cases": {"type": "array", "items": CASE_SUMMARY}}}, 400)}},
            "/api/cases/{case_id}": {"get": {"summary": "One case with its evidence items and citations",
                                             "parameters": [_param("case_id", "Case id", where="path")],
                                             "responses": _responses({"type": "object"}, 404)}},
            "/api/sources/{key}": {"get": {"summary": "One bibliography entry and what cites it",
                                           "parameters": [_param("key", "BibTeX key", where="path")],
                                           "responses": _responses({"type": "object"}, 404)}},
            "/api/verdicts": {"get": {"summary": "Verdicts per harm outcome of a case (`case`) or of the cases the filters choose",
                                      "parameters": [_param("case", "Case id")] + group_params,
                                      "responses": _responses(VERDICTS_RESULT, 400, 404)}},
            "/api/findings": {"get": {"summary": "A summary of findings per harm outcome (verdict, certainty, strongest item) "
                                                 "of the cases the filters choose (a theme, a region...)",
                                      "parameters": group_params,
                                      "responses": _responses({"type": "object", "required": ["findings"], "properties": {
                                          "filters": {"type": "object"}, "findings": {"type": "array", "items": {
                                              "type": "object", "properties": {
                                                  "outcome": {"type": "string"}, "verdict": VERDICT,
                                                  "certainty": {"type": "string", "enum": ["high", "moderate", "low", "very low"]},
                                                  "strongest": {"type": ["object", "null"]}}}}}}, 400)}},
            "/api/ledger": {"get": {"summary": "The output-versus-harm ledger of the cases the filters choose",
                                    "parameters": group_params + [
                                        _param("by", "Count by", schema={"type": "string", "enum": ["theme", "region", "country"]}),
                                        _param("opposite", "1: only cases whose outputs and harms moved in opposite directions",
                                               schema={"type": "string", "enum": ["0", "1"]}),
                                        _param("output", "Only cases whose outputs' count says", schema={"type": "string", "enum": list(LEDGER_MOVES[0])}),
                                        _param("harm", "Only cases whose harms", schema={"type": "string", "enum": list(LEDGER_MOVES[1])})],
                                    "responses": _responses(LEDGER, 400)}},
            "/api/themes": {"get": {"summary": "The six themes with case counts and their MDLE report",
                                    "responses": _responses({"type": "object"})}},
        },
        "components": {"schemas": {"Error": ERROR}},
    }
