"""Home and search pages. `run_search` is shared with /api/search."""
from __future__ import annotations

import dataclasses
import datetime as dt

from flask import Blueprint, Response, abort, current_app, g, render_template, request, url_for

from kb.facets import FACETS, SORTS
from kb.reviews import PUBLIC_REVIEW_STATES, REVIEW_STATES
from webapp.kbstore import can_see_drafts, get_kb, get_vocab, label, memo, url_with
from webapp.params import whole_number

bp = Blueprint("search", __name__)

# URL parameter -> facet (kb.facets declares them all)
FILTERS = {facet.param: facet for facet in FACETS}
FACET_PARAM = {facet.name: facet.param for facet in FACETS}
MAX_PAGE = 500


def page_count(total: int, limit: int) -> int:
    """Pages of `total` results, `limit` a page: never more than a request may ask for (MAX_PAGE),
    so "Next" never leads to a page that answers 400."""
    return max(1, min(MAX_PAGE, -(-total // limit)))


def checked_values(args, params) -> dict[str, list[str]]:
    """URL parameter -> its values, each checked against its facet's vocabulary or form (400 if not)."""
    vocab = get_vocab()
    chosen: dict[str, list[str]] = {}
    for param in params:
        facet = FILTERS[param]
        values = [v for v in args.getlist(param) if v]
        for value in values:
            known = vocab.values(facet.vocabulary) if facet.vocabulary else None
            if known is not None and value not in known:
                abort(400, f"unknown {param} {value[:60]!r}; use one of: {', '.join(known)}")
            if param == "country" and not facet.check(value):
                abort(400, f"country {value[:40]!r} is not an ISO 3166-1 alpha-2 code such as 'GB' or 'NO'")
            if not facet.check(value):
                abort(400, f"{param} {value[:40]!r} must look like {facet.example!r}")
        if values:
            chosen[param] = [v.upper() if facet.upper else v for v in values]
    return chosen


def checked_filters(args) -> dict[str, list[str]]:
    """The index's filters (facet name -> values); review status is not in the index (see run_search)."""
    return {FILTERS[param].name: values for param, values in checked_values(args, FILTERS).items()
            if FILTERS[param].indexed}


def int_arg(args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name, str(default))
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        abort(400, f"{name} must be a whole number from {low} to {high}, not {raw[:40]!r}")
    return number


def run_search(args, default_limit: int | None = None):
    """Validate the request's parameters and search; returns (result, page, limit, sort)."""
    limit = int_arg(args, "limit", default_limit or current_app.config["PAGE_SIZE"], 1, 100)
    page = int_arg(args, "page", 1, 1, MAX_PAGE)
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        abort(400, f"sort must be one of: {', '.join(SORTS)}")
    query = args.get("q", "")
    if len(query) > 500:
        abort(400, "the query is longer than 500 characters")
    drafts = can_see_drafts() and args.get("drafts") == "1"
    filters = checked_filters(args)
    reader = not g.user.can("review.read")
    states = get_kb().review_states(public=reader)
    offered = PUBLIC_REVIEW_STATES if reader else REVIEW_STATES
    chosen_states = [v for v in args.getlist("review") if v]
    for value in chosen_states:
        if value not in offered:
            abort(400, f"unknown review status {value[:40]!r}; use one of: {', '.join(offered)}")
    chosen_verdicts = checked_values(args, ("verdict",)).get("verdict", [])
    with_verdict = get_kb().cases_with_verdict(chosen_verdicts, drafts) if chosen_verdicts else set()
    options = dict(filters=filters, limit=limit, offset=(page - 1) * limit, drafts=drafts, sort=sort)
    if chosen_states or chosen_verdicts:   # reviews change between builds: no memo, the index is told which cases
        everything = get_kb().search(query, **{**options, "limit": 1, "offset": 0})
        options["only_ids"] = {i for i in everything.ids
                               if (not chosen_states or states.get(i, "unreviewed") in chosen_states)
                               and (not chosen_verdicts or i in with_verdict)}
        result = get_kb().search(query, **options)
    else:
        key = (query, tuple(sorted((k, tuple(v)) for k, v in filters.items())), limit, page, drafts, sort)
        result = memo("search", key, lambda: get_kb().search(query, **options))
    if states:              # the review-status facet appears once reviews exist
        counts: dict[str, int] = {}
        for case_id in result.ids:
            counts[states.get(case_id, "unreviewed")] = counts.get(states.get(case_id, "unreviewed"), 0) + 1
        result = dataclasses.replace(result, facets={**result.facets, "review": dict(sorted(counts.items(), key=lambda kv: -kv[1]))})
    # a chosen facet counts its other values: over the search without the verdict filter
    by_verdict = get_kb().verdict_facet(everything.ids if chosen_verdicts else result.ids, drafts)
    if by_verdict:
        result = dataclasses.replace(result, facets={**result.facets, "verdict": by_verdict})
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


def toggled(param: str, value: str) -> dict:
    """URL changes that add `value` to filter `param`, or remove it if present (back to page 1)."""
    chosen = request.args.getlist(param)
    return {param: [v for v in chosen if v != value] if value in chosen else chosen + [value], "page": None}


@bp.get("/search")
def search():
    result, page, limit, sort = run_search(request.args)
    chips = [(param, value, display(param, value), url_with(**toggled(param, value)))
             for param in FILTERS for value in request.args.getlist(param) if value]
    panels = [(FILTERS[FACET_PARAM[field]].label,
               [(display(FACET_PARAM[field], value), count, value in request.args.getlist(FACET_PARAM[field]),
                 url_with(**toggled(FACET_PARAM[field], value))) for value, count in counts.items()])
              for field, counts in result.facets.items() if counts]
    return render_template("search/results.html", result=result, page=page, limit=limit, sort=sort,
                           pages=page_count(result.total, limit), chips=chips, panels=panels, sorts=list(SORTS),
                           verdicts=get_kb().verdicts(can_see_drafts()))


@bp.get("/search.csv")
def search_csv():
    """Every case the search finds, as CSV (columns: docs/csv.md), with the parameters of /search."""
    result, _, _, sort = run_search(request.args, default_limit=1)
    drafts = can_see_drafts() and request.args.get("drafts") == "1"
    base = current_app.config["BASE_URL"].rstrip("/")
    text = get_kb().search_csv(result.query, lambda case_id: base + url_for("cases.case", case_id=case_id),
                               filters=checked_filters(request.args), drafts=drafts, sort=sort, only_ids=set(result.ids))
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="search.csv"'})


FEED_SIZE = 50


@bp.get("/search.atom")
def search_feed():
    """An Atom feed of any search, with the parameters of /search, newest change first unless a
    sort is given: a reader follows "corruption cases in West Africa" and sees what was added or
    revised. Entries are the first FEED_SIZE cases."""
    args = request.args.copy()
    args.setdefault("sort", "updated")
    result, _, _, _ = run_search(args, default_limit=1)
    drafts = can_see_drafts() and args.get("drafts") == "1"
    ids = list(result.ids)[:FEED_SIZE]
    found = {c.id: c for c in get_kb().cases(ids=ids, drafts=drafts)}
    items = [found[i] for i in ids if i in found]
    updated = max((i.updated for i in items if i.updated), default=dt.date.today().isoformat())
    words = [f"“{result.query}”"] if result.query.strip() else []
    words += [display(param, value) for param in FILTERS for value in args.getlist(param) if value]
    query = request.query_string.decode("ascii", "replace")
    base = current_app.config["BASE_URL"].rstrip("/")
    xml = render_template("cases/feed.xml", items=items, updated=updated, base=base,
                          title="Drug Law Enforcement Evidence Knowledge Base: "
                                + (f"cases found by {', '.join(words)}" if words else "every case, newest change first"),
                          self_href=url_for("search.search_feed") + (f"?{query}" if query else ""),
                          alternate_href=url_for("search.search") + (f"?{query}" if query else ""))
    return Response(xml, mimetype="application/atom+xml; charset=utf-8")


# The query-help page's examples of the query language: (heading, query, what it does). The
# `field:value` and filter examples are made from the collection itself (see search_help).
HELP_EXAMPLES = (
    ("Words", "police health", "Cases with all the words, anywhere in a case: its title, summary, text, evidence "
     "claims, tags, place, countries and the authors and titles of the sources it cites. Word endings do not "
     "matter (police, policing). When no case has all the words, the cases with most of them are shown, those "
     "with the most first, and the page says so."),
    ("Phrases", '"harm reduction"', "Words in quotes: the words side by side, in this order."),
    ("Either word", "police OR gangs", "OR: cases with at least one of the words."),
    ("Leaving out", "police NOT gangs", "NOT: cases with the first word but not the word after NOT."),
    ("Grouping", "(police OR gangs) health", "Brackets group words: here, cases with police or gangs, and with health."),
    ("Prefixes", "polic*", "A word ending in * stands for the words it starts: police, policing, policy. It "
     "needs two letters before the *, and stands for the ten most frequent such words. Words are matched by their "
     "stems, so a prefix works best cut before the word's ending: organ* rather than organis*."),
    ("British and American spellings", "decriminalization", "British and American spellings find each other: "
     "decriminalization finds decriminalisation, behavior finds behaviour, programme finds program, centre "
     "finds center."),
    ("Accents", "Zurich", "Accents do not matter: Zurich finds Zürich, Ines finds Inês, and the other way round."),
    ("Regions", "Latin America", "Words naming a UN M49 region, such as Latin America, West Africa or "
     "South-East Asia, find the cases set in a country of that region as well as the cases with the words."),
)


@bp.get("/search/help")
def search_help():
    """How to write a query, with examples that run; the fields come from the facets and the index."""
    kb = get_kb()
    everything = memo("help", (), lambda: kb.search("", limit=0))
    facets = {facet.name: facet for facet in FACETS if facet.indexed}
    fields = []
    for name, (names, help_text) in kb.query_fields().items():
        facet = facets.get(name)
        value = next(iter(everything.facets.get(name, {})), None) if facet else None
        shown = label(facet.vocabulary, value) if facet and facet.vocabulary and value else None
        fields.append((names, facet.label if facet else None, help_text, value, shown))
    filters = [(facet, value, display(facet.param, value)) for facet in facets.values()
               for value in list(everything.facets.get(facet.name, {}))[:1]]
    return render_template("search/help.html", examples=HELP_EXAMPLES, fields=fields, filters=filters,
                           sorts=list(SORTS))
