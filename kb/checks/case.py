"""Per-file checks: turn one parsed front matter into a Case, reporting every problem found.

Each field kind has a small checker `(value, ctx) -> (converted value, [Problem])`, registered in
CHECKERS; `case_from_document` runs them over the declared fields in `kb/fields.py`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

import pycountry

from ..citations import keys as citekeys
from ..content import markup
from ..content.frontmatter import Document
from ..errors import ERROR, WARNING, Problem, shown
from ..fields import (CASE_FIELDS, COST_FIELDS, EFFECT_FIELDS, EVIDENCE_FIELDS, INDICATOR_GROUPS, RESERVED_IDS, SLUG,
                      FieldSpec, parse_period)
from ..model import Case, EvidenceItem
from ..urls import SCHEMES, scheme_of
from ..vocabulary import Vocabulary
from . import subsections, values

COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
MAX_CITATIONS = 2000  # citation groups in one body; the most in a shipped case is about 60
# link targets in Markdown: inline `](url`, autolinks `<scheme:...>` and reference definitions;
# every pattern stops at a bracket, space or line end, so each is linear
_LINK_TARGETS = re.compile(r"\]\(\s*<?(?P<inline>(?:[^\s()<>]|\([^\s()<>]*\))+)|<(?P<auto>[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*)>"
                           r"|^ {0,3}\[[^\[\]\n]+\]:[ \t]*<?(?P<ref>[^\s<>]+)", re.M)


@dataclass
class Ctx:
    path: str
    doc: Document
    vocab: Vocabulary
    where: tuple  # key path of the field being checked, e.g. ("evidence", 0, "outcome")
    label: str    # how the field is named in messages, e.g. "evidence[0].outcome"

    def problem(self, message: str, *, severity: str = ERROR, code: str = "invalid", sub=()) -> Problem:
        return Problem(self.path, self.doc.line(*self.where, *sub), severity, code, message)


def _text(value: Any, ctx: Ctx):
    if isinstance(value, (dict, list)):
        return "", [ctx.problem(f"{ctx.label} must be text, not a {'mapping' if isinstance(value, dict) else 'list'}")]
    text = "" if value is None else str(value).strip()
    if not text:
        return "", [ctx.problem(f"{ctx.label} is empty; write some text", code="empty")]
    return text, []


def _slug(value: Any, ctx: Ctx):
    text, problems = _text(value, ctx)
    if text in RESERVED_IDS:
        problems.append(ctx.problem(f"{ctx.label} {text!r} is reserved: the review pages use it in their addresses; "
                                    f"choose another id, e.g. {text + '-1'!r}", code="bad-id"))
    elif text and not SLUG.match(text):
        problems.append(ctx.problem(
            f"{ctx.label} {text!r} is not a valid id; use lowercase letters, digits and hyphens "
            f"([a-z0-9][a-z0-9-]*), e.g. {_slugify(text)!r}", code="bad-id"))
    return text, problems


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "case-id"


def _as_list(value: Any, ctx: Ctx) -> tuple[list, list[Problem]]:
    if value is None:
        return [], []
    if isinstance(value, dict):
        return [], [ctx.problem(f"{ctx.label} must be a list, not a mapping; write [a, b]")]
    items = value if isinstance(value, list) else [value]
    problems = [ctx.problem(f"{ctx.label} item {item!r} must be text", sub=(i,))
                for i, item in enumerate(items) if isinstance(item, (dict, list)) or item is None]
    return [str(item).strip() for item in items if isinstance(item, str)], problems


def _strings(value: Any, ctx: Ctx):
    return _as_list(value, ctx)


def _slugs(value: Any, ctx: Ctx):
    items, problems = _as_list(value, ctx)
    for i, item in enumerate(items):
        if not SLUG.match(item):
            problems.append(ctx.problem(f"{ctx.label} {item!r} is not a valid id; use [a-z0-9][a-z0-9-]*", sub=(i,)))
    return items, problems


def _vocab_problem(ctx: Ctx, kind_terms, value: str, what: str, sub=()) -> Problem:
    guess = ctx.vocab.suggest(kind_terms, value)
    hint = f"did you mean {guess!r}?" if guess else f"use one of: {', '.join(kind_terms)}"
    return ctx.problem(f"unknown {what} {value!r} in {ctx.label} ({hint})", code="unknown-term", sub=sub)


def _terms(value: Any, ctx: Ctx, spec: FieldSpec):
    items, problems = _as_list(value, ctx)
    terms = ctx.vocab.terms(spec.vocabulary)
    what = spec.vocabulary.rstrip("s").replace("_", " ")
    problems += [_vocab_problem(ctx, terms, item, what, sub=(i,)) for i, item in enumerate(items) if item not in terms]
    if spec.required and not items and not problems:
        problems.append(ctx.problem(f"{ctx.label} needs at least one term; use one of: {', '.join(terms)}", code="empty"))
    return items, problems


def _choice(value: Any, ctx: Ctx, spec: FieldSpec):
    text, problems = _text(value, ctx)
    if problems:
        return text, problems
    terms = ctx.vocab.indicators() if spec.vocabulary == "indicators" else ctx.vocab.terms(spec.vocabulary)
    what = {"indicators": "outcome", "directions": "direction", "designs": "design", "statuses": "status",
            "legal_regimes": "legal regime", "changes": "change", "effect_types": "effect type",
            "significance": "significance"}[spec.vocabulary]
    if text not in terms:
        return text, [_vocab_problem(ctx, terms, text, what)]
    return text, []


def _countries(value: Any, ctx: Ctx):
    items, problems = _as_list(value, ctx)
    codes = []
    for i, item in enumerate(items):
        code = item.upper()
        if code in COUNTRY_ALIASES:
            problems.append(ctx.problem(f"country {item!r} is not an ISO 3166-1 alpha-2 code (did you mean {COUNTRY_ALIASES[code]!r}?)", code="bad-country", sub=(i,)))
        elif len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            problems.append(ctx.problem(f"country {item!r} is not an ISO 3166-1 alpha-2 code; write two letters such as 'GB', 'NO' or 'CO'", code="bad-country", sub=(i,)))
        else:
            codes.append(code)
    if not items and not problems:
        problems.append(ctx.problem(f"{ctx.label} needs at least one ISO 3166-1 alpha-2 code", code="empty"))
    return codes, problems


def _period(value: Any, ctx: Ctx):
    text, problems = _text(value, ctx)
    if problems:
        return text, problems
    parsed = parse_period(text)
    if parsed is None:
        return text, [ctx.problem(f"period {text!r} is malformed; write \"YYYY\", \"YYYY-YYYY\" or \"YYYY-\" (ongoing), in quotes", code="bad-period")]
    start, end = parsed
    if end is not None and end < start:
        return text, [ctx.problem(f"period {text!r} runs backwards; write \"{end}-{start}\"", code="bad-period")]
    return text, []


def _date(value: Any, ctx: Ctx):
    text, problems = _text(value, ctx)
    if problems:
        return text, problems
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return text, [ctx.problem(f"{ctx.label} {text!r} is not an ISO date; write YYYY-MM-DD", code="bad-date")]
    if dt.date.fromisoformat(text) > dt.date.today() + dt.timedelta(days=1):
        return text, [ctx.problem(f"{ctx.label} {text!r} is in the future; write the date it happened", code="bad-date")]
    return text, []


def _indicators(value: Any, ctx: Ctx):
    result: dict[str, list[str]] = {"traditional": [], "harm": []}
    if value is None:
        return result, []
    if not isinstance(value, dict):
        return result, [ctx.problem("indicators must be a mapping with lists 'traditional' and 'harm'")]
    problems = []
    for group, items in value.items():
        if group not in INDICATOR_GROUPS:
            problems.append(ctx.problem(f"unknown indicators group {group!r}; use 'traditional' or 'harm'", sub=(group,)))
            continue
        sub = Ctx(ctx.path, ctx.doc, ctx.vocab, ctx.where + (group,), f"indicators.{group}")
        spec = FieldSpec(group, "terms", False, INDICATOR_GROUPS[group])
        result[group], more = _terms(items, sub, spec)
        problems += more
    return result, problems


def _strength(value: Any, ctx: Ctx):
    if value is None:
        return None, []
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        return None, [ctx.problem(f"strength {text!r} is out of range; use an integer from 1 to 5 (Maryland Scientific Methods Scale) or leave it out", code="bad-strength")]
    return int(text), []


def _cite(value: Any, ctx: Ctx):
    text, problems = _text(value, ctx)
    if problems:
        return [], problems
    try:
        return citekeys.parse_cite_field(text), []
    except citekeys.CitationSyntaxError as exc:
        return [], [ctx.problem(f"{ctx.label}: {exc}", code="bad-citation")]


def _mapping(value: Any, ctx: Ctx, specs, example: str):
    if not isinstance(value, dict):
        return None, [ctx.problem(f"{ctx.label} must be a mapping of keys ({', '.join(s.name for s in specs)}), "
                                  f"e.g. {example}")]
    return _check_fields(value, specs, ctx)


def _effect(value: Any, ctx: Ctx):
    found, problems = _mapping(value, ctx, EFFECT_FIELDS, "{value: -63, type: percent-change, unit: homicides per month}")
    if found is None:
        return None, problems
    ci, number = found.get("ci"), found.get("value")
    if ci and number is not None and not ci[0] <= number <= ci[1]:
        problems.append(ctx.problem(f"{ctx.label}.ci [{ci[0]}, {ci[1]}] does not contain the value {number}; "
                                    "copy both from the source (a ratio's interval is on the ratio's scale)",
                                    code="bad-ci", sub=("ci",)))
    return (None if any(p.severity == ERROR for p in problems) else found), problems


def _cost(value: Any, ctx: Ctx):
    found, problems = _mapping(value, ctx, COST_FIELDS, '{amount: 1500000, currency: GBP, year: 2016, cite: "[@key, p. 4]"}')
    if found is None:
        return None, problems
    if found.get("amount") is not None and found["amount"] < 0:
        problems.append(ctx.problem(f"{ctx.label}.amount {found['amount']} is negative; a cost is a positive amount",
                                    code="bad-number", sub=("amount",)))
    return (None if any(p.severity == ERROR for p in problems) else found), problems


CHECKERS: dict[str, Callable] = {
    "text": _text, "slug": _slug, "strings": _strings, "slugs": _slugs, "countries": _countries,
    "period": _period, "date": _date, "indicators": _indicators, "strength": _strength, "cite": _cite,
    "number": values.number, "count": values.count, "probability": values.probability, "ci": values.interval,
    "year": values.year, "currency": values.currency, "effect": _effect, "cost": _cost,
}


def _check_fields(data: dict, specs, ctx: Ctx) -> tuple[dict, list[Problem]]:
    values, problems = {}, []
    known = {spec.name for spec in specs}
    for key in data:
        if key not in known:
            guess = ctx.vocab.suggest(list(known), str(key))
            hint = f"did you mean {guess!r}?" if guess else f"known keys: {', '.join(sorted(known))}"
            problems.append(Problem(ctx.path, ctx.doc.line(*ctx.where, key), WARNING, "unknown-key",
                                    f"unknown key {'.'.join(map(str, ctx.where + (key,)))!r} is ignored ({hint})"))
    for spec in specs:
        label = f"{ctx.label}.{spec.name}" if ctx.where else spec.name
        sub = Ctx(ctx.path, ctx.doc, ctx.vocab, ctx.where + (spec.name,), label)
        if spec.name not in data or data[spec.name] in (None, "", []):
            if spec.required:
                line = ctx.doc.line(*ctx.where) if ctx.where else 1
                problems.append(Problem(ctx.path, line, ERROR, "missing",
                                        f"required field {label!r} is missing; {spec.help}"))
                continue
            if spec.name not in data:
                continue
        if spec.kind in ("terms",):
            value, more = _terms(data[spec.name], sub, spec)
        elif spec.kind == "choice":
            value, more = _choice(data[spec.name], sub, spec)
        elif spec.kind == "evidence":
            value, more = _evidence(data[spec.name], sub)
        else:
            value, more = CHECKERS[spec.kind](data[spec.name], sub)
        values[spec.name] = value
        problems += more
    return values, problems


def _evidence(value: Any, ctx: Ctx):
    if not isinstance(value, list):
        return [], [ctx.problem("evidence must be a list of items (- id: ..., claim: ...)")]
    items, problems, seen = [], [], {}
    for index, raw in enumerate(value):
        item_ctx = Ctx(ctx.path, ctx.doc, ctx.vocab, ("evidence", index), f"evidence[{index}]")
        if not isinstance(raw, dict):
            problems.append(item_ctx.problem(f"evidence[{index}] must be a mapping with id, claim, cite, outcome, direction, design"))
            continue
        fields, more = _check_fields(raw, EVIDENCE_FIELDS, item_ctx)
        problems += more
        item = EvidenceItem(id=fields.get("id", ""), claim=fields.get("claim", ""), cite=str(raw.get("cite") or ""),
                            outcome=fields.get("outcome", ""), direction=fields.get("direction", ""),
                            design=fields.get("design", ""), strength=fields.get("strength"),
                            effect=fields.get("effect"), studies=fields.get("studies"), change=fields.get("change", ""),
                            citations=fields.get("cite", []), line=ctx.doc.line("evidence", index),
                            cite_line=ctx.doc.line("evidence", index, "cite"))
        if item.id and item.id in seen:
            problems.append(item_ctx.problem(f"duplicate evidence id {item.id!r} (also at line {seen[item.id]}); evidence ids must be unique within a case", code="duplicate-evidence-id", sub=("id",)))
        seen.setdefault(item.id, item.line)
        if item.effect is not None and item.claim:
            problems += _effect_in_claim(item, item_ctx)
        items.append(item)
    return items, problems


def _effect_in_claim(item: EvidenceItem, ctx: Ctx) -> list[Problem]:
    """The content rule: an effect's value is a figure the reader can see in the claim."""
    value = abs(item.effect["value"])
    if any(abs(value - found) < 1e-9 for found in values.numbers_in(item.claim)):
        return []
    return [ctx.problem(f"{ctx.label}.effect.value {item.effect['value']} is not a figure of the claim; write the "
                        "figure in the claim as the source gives it (and check it at the cited locator)",
                        severity=WARNING, code="effect-not-in-claim", sub=("effect", "value"))]


def case_from_document(doc: Document, path: str, vocab: Vocabulary) -> tuple[Case, list[Problem]]:
    ctx = Ctx(path, doc, vocab, (), "")
    problems = [Problem(path, line, ERROR, "duplicate-key", f"key {key!r} appears twice; keep one") for line, key in doc.duplicate_keys]
    values, more = _check_fields(doc.data, CASE_FIELDS, ctx)
    problems += more
    case = Case(id=values.pop("id", ""), path=path, body=doc.body, body_line=doc.body_line,
                **{k: v for k, v in values.items() if v is not None})
    citations, bad = citekeys.find_citations(doc.body)
    problems += [Problem(path, doc.body_line + line - 1, ERROR, "bad-citation", message) for line, message in bad]
    problems += _body_problems(doc, path, len(citations))
    case.citations = [ref for citation in citations for ref in citation.refs]
    case.citation_lines = {ref.key: doc.body_line + c.line - 1 for c in reversed(citations) for ref in c.refs}
    if case.cost is not None:       # the cost's source is cited by the case, like a citation in the body
        case.citations += case.cost["cite"]
        for ref in case.cost["cite"]:
            case.citation_lines.setdefault(ref.key, doc.line("cost", "cite"))
        case.cost = {**case.cost, "cite": str(doc.data["cost"].get("cite", ""))}
    case.subsections, found = subsections.find(doc.body)
    problems += [Problem(path, doc.body_line + line - 1, WARNING, code, message) for line, code, message in found]
    return case, problems


def _body_problems(doc: Document, path: str, citations: int) -> list[Problem]:
    """What would make the body unsafe or costly to show: links that are not http(s), more
    citations than a page can format, and quotes or lists nested deeper than can be rendered."""
    problems = []
    if citations > MAX_CITATIONS:
        problems.append(Problem(path, doc.body_line, ERROR, "too-many-citations",
                                f"the body has {citations:,} citations, more than {MAX_CITATIONS:,}; split the case study"))
    depth = markup.too_deep(doc.body)
    if depth:
        problems.append(Problem(path, doc.body_line, ERROR, "too-deep",
                                f"quotes or lists in the body nest {depth} levels deep, more than {markup.MAX_NESTING}; "
                                "flatten them"))
    line, counted = doc.body_line, 0
    for match in _LINK_TARGETS.finditer(doc.body):
        target = match.group("inline") or match.group("auto") or match.group("ref")
        scheme = scheme_of(target)
        if scheme and scheme not in SCHEMES:
            line += doc.body.count("\n", counted, match.start())
            counted = match.start()
            problems.append(Problem(path, line, ERROR, "unsafe-link",
                                    f"link {shown(target)} uses the scheme {scheme!r}; only http and https links are "
                                    "allowed (write https://...)"))
    return problems
