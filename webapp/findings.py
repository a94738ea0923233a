"""What the evidence says, per outcome: the verdict rules (/verdicts), the output-versus-harm
ledger (/ledger, /api/ledger), a theme's summary of findings (/themes/<t>/findings, .csv, .md)
and verdicts as JSON (/api/verdicts). The rules are kb/verdicts.py's, explained in docs/verdicts.md."""
from __future__ import annotations

import json
import threading

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import ServiceUnavailable

from kb.knowledgebase import EMMIE, EVIDENCE_PARAMS, LEDGER_MOVES, VERDICT_RULES
from webapp.kbstore import can_see_drafts, get_kb, get_vocab, label
from webapp.search import FILTERS, checked_values, display, int_arg

bp = Blueprint("findings", __name__)


@bp.record_once
def _globals(state) -> None:
    """Names the macros of findings/_model.html use (imported macros see globals, not the context)."""
    state.app.jinja_env.globals["EMMIE"] = EMMIE


# the case facets the ledger and the verdicts of a group can be narrowed by (URL parameters)
GROUP_PARAMS = tuple(param for param in EVIDENCE_PARAMS if param not in ("outcome", "direction", "design"))
LEDGER_BY = ("theme", "region", "country")


@bp.app_template_global()
def effect_text(effect: dict | None) -> str:
    """An item's effect in words: '−63% (mean monthly number of youth homicide victims);
    significant; n = 19 gangs; against matched comparison gangs'."""
    if not effect:
        return ""
    value, kind, unit = effect["value"], effect["type"], effect.get("unit", "")
    number = f"{value:+g}".replace("-", "−") if kind in ("percent-change", "absolute-change") else f"{value:g}"
    ci = effect.get("ci")
    interval = f" (CI {ci[0]:g} to {ci[1]:g})".replace("-", "−") if ci else ""
    if kind == "percent-change":
        head = f"{number}%{interval}" + (f" in {unit}" if unit else "")
    elif kind in ("rate-ratio", "odds-ratio", "risk-ratio", "standardised-mean-difference"):
        head = f"{label('effect_types', kind).lower()} {number}{interval}" + (f" ({unit})" if unit else "")
    else:
        head = f"{number}{interval}" + (f" {unit}" if unit else "")
    parts = [head]
    if "p" in effect:
        parts.append(f"p = {effect['p']:g}")
    if effect.get("significant"):
        parts.append({"yes": "significant", "no": "not significant", "unclear": "significance unclear"}[effect["significant"]])
    if "n" in effect:
        parts.append(f"n = {effect['n']:,}" + (f" {effect['unit_of_analysis']}" if effect.get("unit_of_analysis") else ""))
    if effect.get("comparison"):
        parts.append(f"against {effect['comparison']}")
    if effect.get("follow_up"):
        parts.append(f"follow-up {effect['follow_up']}")
    return "; ".join(parts)


@bp.app_template_global()
def ledger_reading(output_move: str, harm_move: str) -> str:
    """A case's or a cell's ledger in one sentence."""
    outputs = {"success": "The usual count of outputs calls it a success",
               "failure": "The usual count of outputs calls it a failure",
               "mixed": "The count of outputs is mixed", "no-change": "Outputs did not change",
               "": "No output's count is given"}[output_move]
    harms = {"improved": "harms improved", "worsened": "harms worsened", "mixed": "harms were mixed",
             "no-change": "harms did not change", "": "no harm with a direction"}[harm_move]
    if (output_move, harm_move) in (("success", "worsened"), ("failure", "improved")):
        return f"{outputs}, while {harms}: counting outputs tells the wrong story."
    return f"{outputs}; {harms}."


def _group_filters() -> dict[str, list[str]]:
    return checked_values(request.args, GROUP_PARAMS)


@bp.get("/verdicts")
def rules():
    """How verdicts, EMMIE coverage, certainty and the ledger are worked out (docs/verdicts.md)."""
    vocab = get_vocab()
    return render_template("findings/rules.html", verdicts=vocab.terms("verdicts"), emmie=vocab.terms("emmie"),
                           rules=VERDICT_RULES, dimensions=EMMIE)


def _ledger_request():
    by = request.args.get("by", "theme")
    if by not in LEDGER_BY:
        abort(400, f"by must be one of: {', '.join(LEDGER_BY)}")
    opposite = request.args.get("opposite", "")
    if opposite not in ("", "0", "1"):
        abort(400, "opposite must be 1 (only cases whose outputs and harms moved in opposite directions) or 0")
    moves = {}
    for name, allowed in (("output", LEDGER_MOVES[0]), ("harm", LEDGER_MOVES[1])):
        value = request.args.get(name, "")
        if value and value not in allowed:
            abort(400, f"{name} must be one of: {', '.join(allowed)}")
        moves[name] = value
    filters = _group_filters()
    found = get_kb().ledger(filters, opposite=opposite == "1", by=by, drafts=can_see_drafts())
    if moves["output"] or moves["harm"]:
        found.cases = [c for c in found.cases if (not moves["output"] or c.output_move == moves["output"])
                       and (not moves["harm"] or c.harm_move == moves["harm"])]
    return found, filters, by, opposite == "1", moves


@bp.get("/ledger")
def ledger():
    found, filters, by, opposite, moves = _ledger_request()
    everything = get_kb().evidence("", limit=0, drafts=can_see_drafts())[0].facets   # values for the menus
    menus = [(param, FILTERS[param].label, [(value, display(param, value)) for value in sorted(everything.get(param, {}))])
             for param in ("theme", "region", "country") if everything.get(param)]
    chosen = {**filters, **({"opposite": ["1"]} if opposite else {}), **({"by": [by]} if by != "theme" else {})}
    return render_template("findings/ledger.html", found=found, menus=menus, chosen=filters, by=by, opposite=opposite,
                           moves=moves, kept=chosen, output_moves=LEDGER_MOVES[0], harm_moves=LEDGER_MOVES[1],
                           group_label=FILTERS[by].label)


@bp.get("/api/ledger")
def ledger_api():
    found, filters, by, opposite, _ = _ledger_request()
    return jsonify({
        "filters": filters, "by": by, "opposite_only": opposite,
        "measuring_both": found.both, "opposite": found.opposite,
        "cells": [{"output": o, "harm": h, "cases": n} for (o, h), n in sorted(found.cells.items())],
        "groups": {value: counts for value, counts in sorted(found.groups.items())},
        "cases": [{**entry.to_dict(), "reading": ledger_reading(entry.output_move, entry.harm_move),
                   "url": url_for("cases.case", case_id=entry.case_id)} for entry in found.cases],
    })


@bp.get("/api/verdicts")
def verdicts_api():
    """Verdicts per harm outcome of the cases the filters choose; with `case`, of that case."""
    case_id = request.args.get("case", "")
    drafts = can_see_drafts()
    if case_id:
        if get_kb().case(case_id, drafts) is None:
            abort(404, f"no case study with id {case_id[:200]!r}")
        found = get_kb().verdicts(drafts).get(case_id, {})
        return jsonify({"case": case_id, "verdicts": {outcome: v.to_dict() for outcome, v in found.items()}})
    filters = _group_filters()
    found = get_kb().group_verdicts(filters, drafts)
    return jsonify({"filters": filters, "verdicts": {outcome: v.to_dict() for outcome, v in found.items()}})


# --- a theme's summary of findings -------------------------------------------------------------

FINDINGS_FORMATS = ("csv", "md")


@bp.get("/themes/<name>/findings")
def theme_findings(name: str):
    rows, term = _findings(name)
    return render_template("findings/findings.html", rows=rows, term=term, name=name)


@bp.get("/themes/<name>/findings.<fmt>")
def theme_findings_file(name: str, fmt: str):
    if fmt not in FINDINGS_FORMATS:
        abort(404, f"no findings format {fmt[:20]!r}; use one of: {', '.join(FINDINGS_FORMATS)}")
    rows, term = _findings(name)
    text = get_kb().findings_table(rows, term.label, fmt, label)
    mimetype = "text/csv" if fmt == "csv" else "text/markdown"
    return Response(text, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}-findings.{fmt}"'})


@bp.get("/api/findings")
def findings_api():
    """A summary of findings as JSON: of a theme (`theme`), or of the cases any filters choose."""
    filters = _group_filters()
    if not filters:
        abort(400, f"choose the cases: a theme (theme=...) or another filter ({', '.join(GROUP_PARAMS)})")
    found = get_kb().findings(filters, can_see_drafts())
    return jsonify({"filters": filters, "findings": [
        {"outcome": f.outcome, "verdict": f.verdict.to_dict(), "certainty": f.certainty,
         "strongest": {"case": f.strongest.case_id, "case_title": f.strongest.case_title, "id": f.strongest.id,
                       "claim": f.strongest.claim, "design": f.strongest.design, "strength": f.strongest_strength,
                       "url": url_for("cases.case", case_id=f.strongest.case_id) + f"#evidence-{f.strongest.id}"}
         if f.strongest else None} for f in found]})


def _findings(name: str):
    vocab = get_vocab()
    if name not in vocab.terms("themes"):
        abort(404, f"no theme {name[:60]!r}; use one of: {', '.join(vocab.terms('themes'))}")
    return get_kb().findings({"theme": [name]}, can_see_drafts()), vocab.terms("themes")[name]




@bp.app_template_global()
def verdict_outcomes(verdicts: list[dict]) -> list[str]:
    """The harm outcomes on which any of the compared cases has a verdict, in vocabulary order."""
    order = list(get_vocab().kinds["indicators_harm"])
    return sorted({outcome for found in verdicts for outcome in found}, key=order.index)


# --- the evidence map for EPPI-Mapper ----------------------------------------------------------

_EXPORTING = threading.BoundedSemaphore(1)

@bp.get("/evidence-map.eppi.json")
def evidence_map_eppi():
    """The evidence map's items as EPPI-Reviewer JSON (docs/eppi-mapper.md), with the map's filters:
    every facet of the evidence list (the map's MAP_PARAMS and its axes theme, outcome, direction)
    and min_strength; drafts only when asked (drafts=1) by someone who may see them."""
    filters = checked_values(request.args, EVIDENCE_PARAMS)
    min_strength = int_arg(request.args, "min_strength", 1, 1, 5) if request.args.get("min_strength") else None
    base = current_app.config["BASE_URL"].rstrip("/")
    drafts = can_see_drafts() and request.args.get("drafts") == "1"
    if not _EXPORTING.acquire(blocking=False):     # seconds of CPU at 10,000 cases: one at a time per worker
        raise ServiceUnavailable("another EPPI-Mapper export is being made by this server; try again in a few seconds",
                                 retry_after=5)
    try:
        found = get_kb().eppi_mapper(filters, drafts, min_strength=min_strength, item_url=lambda case, item:
                                     f"{base}{url_for('cases.case', case_id=case)}#evidence-{item}")
    finally:
        _EXPORTING.release()
    return Response(json.dumps(found, ensure_ascii=False, separators=(",", ":")) + "\n", mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="evidence-map.eppi.json"'})
