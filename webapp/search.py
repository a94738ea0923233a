"""Home and search pages. `run_search` is shared with /api/search."""
from __future__ import annotations

import dataclasses

from flask import Blueprint, abort, current_app, g, render_template, request

from kb.facets import FACETS, SORTS
from kb.reviews import PUBLIC_REVIEW_STATES, REVIEW_STATES
from webapp.kbstore import can_see_drafts, get_kb, get_vocab, label, memo, url_with
from webapp.params import whole_number

bp = Blueprint("search", __name__)

# URL parameter -> facet (kb.facets declares them all)
FILTERS = {facet.param: facet for facet in FACETS}
FACET_PARAM = {facet.name: facet.param for facet in FACETS}
MAX_PAGE = 500


def _checked_filters(args) -> dict[str, list[str]]:
    vocab = get_vocab()
    filters: dict[str, list[str]] = {}
    for param, facet in FILTERS.items():
        values = [v for v in args.getlist(param) if v]
        for value in values:
            known = vocab.values(facet.vocabulary) if facet.vocabulary else None
            if known is not None and value not in known:
                abort(400, f"unknown {param} {value!r}; use one of: {', '.join(known)}")
            if param == "country" and not facet.check(value):
                abort(400, f"country {value!r} is not an ISO 3166-1 alpha-2 code such as 'GB' or 'NO'")
            if not facet.check(value):
                abort(400, f"{param} {value!r} must look like {facet.example!r}")
        if values and facet.indexed:   # review status is not in the index (see run_search)
            filters[facet.name] = [v.upper() if facet.upper else v for v in values]
    return filters


def _int_arg(args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name, str(default))
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        abort(400, f"{name} must be a whole number from {low} to {high}, not {raw[:40]!r}")
    return number


def run_search(args, default_limit: int | None = None):
    """Validate the request's parameters and search; returns (result, page, limit, sort)."""
    limit = _int_arg(args, "limit", default_limit or current_app.config["PAGE_SIZE"], 1, 100)
    page = _int_arg(args, "page", 1, 1, MAX_PAGE)
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        abort(400, f"sort must be one of: {', '.join(SORTS)}")
    query = args.get("q", "")
    if len(query) > 500:
        abort(400, "the query is longer than 500 characters")
    drafts = can_see_drafts() and args.get("drafts") == "1"
    filters = _checked_filters(args)
    reader = not g.user.can("review.read")
    states = get_kb().review_states(public=reader)
    offered = PUBLIC_REVIEW_STATES if reader else REVIEW_STATES
    chosen_states = [v for v in args.getlist("review") if v]
    for value in chosen_states:
        if value not in offered:
            abort(400, f"unknown review status {value[:40]!r}; use one of: {', '.join(offered)}")
    options = dict(filters=filters, limit=limit, offset=(page - 1) * limit, drafts=drafts, sort=sort)
    if chosen_states:       # reviews change between builds: no memo, and the index is told which cases
        everything = get_kb().search(query, **{**options, "limit": 1, "offset": 0})
        options["only_ids"] = {i for i in everything.ids if states.get(i, "unreviewed") in chosen_states}
        result = get_kb().search(query, **options)
    else:
        key = (query, tuple(sorted((k, tuple(v)) for k, v in filters.items())), limit, page, drafts, sort)
        result = memo("search", key, lambda: get_kb().search(query, **options))
    if states:              # the review-status facet appears once reviews exist
        counts: dict[str, int] = {}
        for case_id in result.ids:
            counts[states.get(case_id, "unreviewed")] = counts.get(states.get(case_id, "unreviewed"), 0) + 1
        result = dataclasses.replace(result, facets={**result.facets, "review": dict(sorted(counts.items(), key=lambda kv: -kv[1]))})
    return result, page, limit, sort


@bp.get("/")
def home():
    kb = get_kb()
    drafts = can_see_drafts()
    return render_template("search/home.html", vocab=get_vocab(),
                           theme_counts=kb.term_counts("theme", drafts),
                           concept_counts=kb.term_counts("concept", drafts),
                           recent=kb.cases(drafts=drafts, order="updated", limit=8))


def display(param: str, value: str) -> str:
    kind = FILTERS[param].vocabulary
    if kind:
        return label(kind, value)
    return f"{label('country', value)} ({value})" if param == "country" else value


def _toggled(param: str, value: str) -> dict:
    """URL changes that add `value` to filter `param`, or remove it if present (back to page 1)."""
    chosen = request.args.getlist(param)
    return {param: [v for v in chosen if v != value] if value in chosen else chosen + [value], "page": None}


@bp.get("/search")
def search():
    result, page, limit, sort = run_search(request.args)
    chips = [(param, value, display(param, value), url_with(**_toggled(param, value)))
             for param in FILTERS for value in request.args.getlist(param) if value]
    panels = [(FILTERS[FACET_PARAM[field]].label,
               [(display(FACET_PARAM[field], value), count, value in request.args.getlist(FACET_PARAM[field]),
                 url_with(**_toggled(FACET_PARAM[field], value))) for value, count in counts.items()])
              for field, counts in result.facets.items() if counts]
    return render_template("search/results.html", result=result, page=page, limit=limit, sort=sort,
                           pages=max(1, -(-result.total // limit)), chips=chips, panels=panels, sorts=list(SORTS))
