"""Case pages, the lists by theme, concept and country, the evidence map, the comparison view,
pictures of time and place, the Atom feed, and each case's exports."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from markupsafe import escape

from kb.citations import available_styles, claim_with_citation, export, find_styles, format_references, style_name
from kb.errors import UnknownIdError
from kb.knowledgebase import EVIDENCE_PARAMS, MAP_SEGMENTS
from webapp import citing, pictures
from webapp.kbstore import can_see_drafts, get_kb, get_vocab, label, memo
from webapp.search import FILTERS, checked_filters, checked_values, display, int_arg, run_search
from webapp.security import local_target
from webapp.unapi import case_capture, coins_of

bp = Blueprint("cases", __name__)

EXPORTS = {"bib": ("bibtex", "application/x-bibtex"), "ris": ("ris", "application/x-research-info-systems"),
           "json": ("csl-json", "application/vnd.citationstyles.csl+json")}


def get_case_or_404(case_id: str):
    found = get_kb().case(case_id, drafts=can_see_drafts())
    if found is None:
        abort(404, f"no case study with id {case_id!r}")
    return found


def chosen_style() -> str:
    """The `style` parameter: a short-list name or any CSL style id (400 naming the closest ones)."""
    try:
        return style_name(request.args.get("style", "apa"))
    except UnknownIdError as exc:
        abort(400, str(exc))


STYLES_FOUND = 50


@bp.get("/styles")
def styles():
    """Find a citation style among all of them; each result links back to the page it came from."""
    q = request.args.get("q", "")[:100]
    target = local_target(request.args.get("next")) or "/"
    return render_template("cite/styles.html", q=q, next=target, found=find_styles(q, STYLES_FOUND),
                           limit=STYLES_FOUND, total=len(available_styles()))


@bp.get("/cases/<case_id>")
def case(case_id: str):
    style = chosen_style()
    drafts = can_see_drafts()
    found = memo("case", (case_id, style, drafts),
                 lambda: get_kb().case_page(case_id, style, current_app.config["BASE_URL"], drafts))
    if found is None:
        abort(404, f"no case study with id {case_id!r}")
    case, parts = found
    public = get_kb().public_reviews(case_id)   # reviews change between builds: read every time
    body, cited_in = citing.places(parts["body"], [ref.key for ref in case.citations],
                                   [[ref.key for ref in item.citations] for item in case.evidence])
    return render_template("cases/case.html", case=case, parts=parts, style=style, public=public,
                           evidence=[(item, cite, claim_with_citation(str(escape(item.claim)), cite))   # HTML, as text
                                     for item, cite in zip(case.evidence, parts["evidence_citations"])],
                           body=body, cited_in=cited_in, capture=case_capture(case),
                           verdicts=get_kb().verdicts(drafts).get(case_id, {}), emmie=get_kb().emmie(case),
                           ledger=get_kb().case_ledger(case_id, drafts))


def export_response(sources, cases, fmt: str, filename: str) -> Response:
    if fmt not in EXPORTS:
        abort(404, f"no export format {fmt!r}; use one of: {', '.join(EXPORTS)}")
    output_format, mimetype = EXPORTS[fmt]
    text = export(output_format, list(sources), list(cases), current_app.config["BASE_URL"])
    return Response(text, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})


@bp.get("/cases/<case_id>/cite.<fmt>")
def case_sources_export(case_id: str, fmt: str):
    found = get_case_or_404(case_id)
    return export_response(get_kb().sources(found.cited_keys()).values(), [], fmt, f"{case_id}-sources")


@bp.get("/cases/<case_id>/case.<fmt>")
def case_itself_export(case_id: str, fmt: str):
    return export_response([], [get_case_or_404(case_id)], fmt, case_id)


@bp.get("/cases/<case_id>/evidence/<evidence_id>/cite.<fmt>")
def evidence_export(case_id: str, evidence_id: str, fmt: str):
    found = get_case_or_404(case_id)
    item = next((e for e in found.evidence if e.id == evidence_id), None)
    if item is None:
        abort(404, f"case {case_id!r} has no evidence item {evidence_id!r}")
    keys = list(dict.fromkeys(ref.key for ref in item.citations))
    return export_response(get_kb().sources(keys).values(), [], fmt, f"{case_id}-{evidence_id}")


PULL_CASES = 500   # cases whose sources a pull URL of a search exports, best first


def _sources_of(case_ids: list[str]) -> list:
    """The sources the cases cite, each once, in order of first appearance."""
    cases = get_kb().full_cases(case_ids[:PULL_CASES], drafts=can_see_drafts())
    keys = list(dict.fromkeys(key for case in cases for key in case.cited_keys()))
    found = get_kb().sources(keys)
    return [found[key] for key in keys if key in found]


@bp.get("/themes/<name>/cite.<fmt>")
def theme_export(name: str, fmt: str):
    """Pull URL: the sources of a theme's published cases (as `kb cite --theme`), for curl or LaTeX."""
    if name not in get_vocab().terms("themes"):
        abort(404, f"no theme {name!r}; use one of: {', '.join(get_vocab().terms('themes'))}")
    ids = [case.id for case in get_kb().cases(kind="theme", name=name)]
    return export_response(_sources_of(ids), [], fmt, f"{name}-sources")


@bp.get("/search.<fmt>")
def search_export(fmt: str):
    """Pull URL: the sources of the cases a search finds (the parameters of /search; the first
    PULL_CASES cases, best first)."""
    if fmt not in EXPORTS:
        abort(404, f"no export format {fmt!r}; use one of: csv, {', '.join(EXPORTS)}")
    result, _, _, _ = run_search(request.args, default_limit=1)
    found = get_kb().search(result.query, filters=checked_filters(request.args), limit=PULL_CASES, offset=0,
                            drafts=can_see_drafts() and request.args.get("drafts") == "1",
                            sort=request.args.get("sort", "relevance"), only_ids=set(result.ids), counts=False)
    return export_response(_sources_of([hit.id for hit in found.hits]), [], fmt, "search-sources")


@bp.get("/themes")
def themes():
    counts = get_kb().term_counts("theme", can_see_drafts())
    return render_template("cases/themes.html", vocab=get_vocab(), counts=counts)


def _term_page(kind: str, vocab_kind: str | None, name: str, **extra):
    if vocab_kind and name not in get_vocab().terms(vocab_kind):
        abort(404, f"no {kind} {name!r}; use one of: {', '.join(get_vocab().terms(vocab_kind))}")
    items = get_kb().cases(drafts=can_see_drafts(), kind=kind, name=name)
    if not vocab_kind and not items:
        abort(404, f"no case studies for country {name!r}")
    term = get_vocab().terms(vocab_kind)[name] if vocab_kind else None
    report = None
    if term is not None and term.report:
        found = get_kb().sources([term.report]).get(term.report)
        report = format_references([found], "apa", "html")[0] if found else None
    drafts = can_see_drafts()
    group = {kind: [name]}
    return render_template("cases/list.html", kind=kind, name=name, term=term, items=items, report=report,
                           verdicts=get_kb().group_verdicts(group, drafts), ledger=get_kb().ledger(group, drafts=drafts),
                           report_key=term.report if term is not None else None,
                           report_coins=coins_of([found]).get(term.report) if report else None,
                           title=label(vocab_kind, name) if vocab_kind else label("country", name), **extra)


@bp.get("/themes/<name>")
def theme(name: str):
    return _term_page("theme", "themes", name)


@bp.get("/concepts/<name>")
def concept(name: str):
    return _term_page("concept", "concepts", name)


@bp.get("/regions")
def regions():
    counts = get_kb().term_counts("region", can_see_drafts())
    tree = [(found, depth) for found, depth in get_kb().region_tree()]
    return render_template("cases/regions.html", tree=tree, counts=counts)


@bp.get("/regions/<slug>")
def region_page(slug: str):
    found = get_kb().region(slug)
    if found is None:
        abort(404, f"no UN M49 region {slug[:60]!r}; see /regions for the list")
    parts = [r for r, _ in get_kb().region_tree() if r.parent == slug]
    return _term_page("region", "regions", slug, region=found, parent=get_kb().region(found.parent or ""), parts=parts)


@bp.get("/countries/<code>")
def country(code: str):
    if len(code) != 2 or not code.isalpha():
        abort(404, f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return _term_page("country", None, code.upper())


MAP_COLOURS = ("strength", "verdict")
DEFAULT_VIEW = {"rows": "theme", "cols": "outcome", "segment": "direction", "colour": "strength"}


def _map_request():
    """The evidence map's checked parameters: axes, segments, colour, filters (400 on any bad one)."""
    args = request.args
    rows, cols = args.get("rows", "theme"), args.get("cols", "outcome")
    for name, value in (("rows", rows), ("cols", cols)):
        if value not in EVIDENCE_PARAMS:
            abort(400, f"{name} must be one of: {', '.join(EVIDENCE_PARAMS)}")
    if rows == cols:
        abort(400, f"rows and cols must be two different facets, not {rows!r} twice")
    segment, colour = args.get("segment", "direction"), args.get("colour", "strength")
    if segment not in MAP_SEGMENTS:
        abort(400, f"segment must be one of: {', '.join(MAP_SEGMENTS)}")
    if colour not in MAP_COLOURS:
        abort(400, f"colour must be one of: {', '.join(MAP_COLOURS)}")
    if colour == "verdict" and "outcome" not in (rows, cols):
        abort(400, "colour=verdict needs the outcome as rows or cols: a verdict is on one outcome")
    filters = checked_values(args, [p for p in EVIDENCE_PARAMS if p not in (rows, cols)])
    min_strength = int_arg(args, "min_strength", 1, 1, 5) if args.get("min_strength") else None
    return rows, cols, segment, colour, filters, min_strength


def _axis_values(param: str, present: dict[str, int]) -> list[str]:
    """An axis's values: every term of its vocabulary (an empty row is a gap worth seeing), the harm
    outcomes for the outcome axis, or the values some item has (countries, decades)."""
    kind = FILTERS[param].vocabulary
    if param == "outcome":
        return list(get_vocab().kinds["indicators_harm"])
    if kind and kind != "regions":
        return list(get_vocab().values(kind))
    return sorted(present, key=lambda value: display(param, value))


@bp.get("/evidence-map")
def evidence_map():
    rows, cols, segment, colour, filters, min_strength = _map_request()
    drafts = can_see_drafts()
    cells = get_kb().evidence_grid(filters=filters, min_strength=min_strength, drafts=drafts, rows=rows, cols=cols,
                                   segment=segment, verdicts=colour == "verdict")
    everything = get_kb().evidence("", limit=0, drafts=drafts)[0].facets   # every value, for the menus and axes
    menus = [(param, FILTERS[param].label, [(value, display(param, value)) for value in sorted(everything[param])])
             for param in EVIDENCE_PARAMS if param not in (rows, cols) and everything.get(param)]
    opened = {param: values for param, values in filters.items()}
    if min_strength:
        opened["min_strength"] = [str(min_strength)]
    view = {"rows": rows, "cols": cols, "segment": segment, "colour": colour}
    axes = [(param, FILTERS[param].label) for param in EVIDENCE_PARAMS]

    def cell_url(row_value: str, col_value: str) -> str:
        """The evidence list a cell opens: its two values and the map's filters."""
        return url_for("evidence.evidence_list", **{**opened, rows: [row_value], cols: [col_value]})
    return render_template("cases/map.html", cells=cells, cell_url=cell_url, display=display, rows=rows, cols=cols, segment=segment, colour=colour,
                           row_values=_axis_values(rows, everything.get(rows, {})),
                           col_values=_axis_values(cols, everything.get(cols, {})),
                           segments=get_vocab().terms("directions" if segment == "direction" else "designs"),
                           verdicts=get_vocab().terms("verdicts"), menus=menus, chosen=filters,
                           min_strength=min_strength, opened=opened, view=view, axes=axes,
                           kept={**opened, **{k: [v] for k, v in view.items() if v != DEFAULT_VIEW[k]}})


@bp.get("/compare")
def compare():
    ids = list(dict.fromkeys(i for i in request.args.getlist("id") if i))
    if not 2 <= len(ids) <= 4:
        abort(400, "compare two to four cases: /compare?id=first-case&id=second-case")
    chosen = [get_case_or_404(i) for i in ids]
    drafts = can_see_drafts()
    every = get_kb().verdicts(drafts)
    return render_template("cases/compare.html", cases=chosen, verdicts=[every.get(c.id, {}) for c in chosen],
                           emmie=[get_kb().emmie(c) for c in chosen], ledgers=[get_kb().case_ledger(c.id, drafts) for c in chosen])


@bp.get("/charts")
def charts():
    items = get_kb().cases(drafts=can_see_drafts(), order="period")
    counts = get_kb().term_counts("country", can_see_drafts())
    return render_template("cases/charts.html", timeline=pictures.timeline(items, dt.date.today().year),
                           by_country=pictures.by_country(counts, lambda code: label("country", code)))


@bp.get("/feed.atom")
def feed():
    items = get_kb().cases(order="updated", limit=50)
    updated = max((i.updated for i in items if i.updated), default=dt.date.today().isoformat())
    xml = render_template("cases/feed.xml", items=items, updated=updated, base=current_app.config["BASE_URL"].rstrip("/"))
    return Response(xml, mimetype="application/atom+xml; charset=utf-8")
