"""Checkers of the numeric and coded values of the evidence model (an item's `effect`, a case's
`cost`): `(value, ctx) -> (converted value, [Problem])`, as in kb/checks/case.py, which registers
them. Front matter keeps every scalar as the string it is written as, so numbers are parsed here:
`-63`, `0.61`, `1.5e3`; never `1,000` or `63%`, which would hide what the figure is."""
from __future__ import annotations

import math
import re
from typing import Any

import pycountry

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$")
YEARS = (1800, 2100)


def _scalar(value: Any, ctx) -> tuple[str, list]:
    if isinstance(value, (dict, list)) or value is None:
        kind = "mapping" if isinstance(value, dict) else "list" if isinstance(value, list) else "empty value"
        return "", [ctx.problem(f"{ctx.label} must be a single value, not a {kind}")]
    return str(value).strip(), []


def as_number(text: str) -> int | float | None:
    """'-63' -> -63, '0.61' -> 0.61, '1e3' -> 1000; None for anything else."""
    if not _NUMBER.match(text) or len(text) > 40:
        return None
    number = float(text)
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number


def number(value: Any, ctx):
    text, problems = _scalar(value, ctx)
    if problems:
        return None, problems
    found = as_number(text)
    if found is None:
        plain = re.sub(r"[,%\s]", "", text)
        hint = f"; write {plain!r}" if as_number(plain) is not None else ""
        return None, [ctx.problem(f"{ctx.label} {text!r} is not a number; write digits with an optional sign and "
                                  f"decimal point, without separators, units or %{hint}", code="bad-number")]
    return found, []


def count(value: Any, ctx):
    text, problems = _scalar(value, ctx)
    if problems:
        return None, problems
    if not text.isdigit() or int(text) < 1:
        return None, [ctx.problem(f"{ctx.label} {text!r} must be a whole number from 1 (a count, never negative "
                                  "or zero); leave it out when the source does not give it", code="bad-count")]
    return int(text), []


def probability(value: Any, ctx):
    found, problems = number(value, ctx)
    if problems:
        return None, problems
    if not 0 <= found <= 1:
        return None, [ctx.problem(f"{ctx.label} {found!r} is not a p-value from 0 to 1; write it as printed, "
                                  "e.g. 0.03 (for 'p < 0.05' write `significant: \"yes\"` instead)", code="bad-p")]
    return found, []


def interval(value: Any, ctx):
    if not isinstance(value, list) or len(value) != 2:
        return None, [ctx.problem(f"{ctx.label} must be a list of two numbers [low, high], as the source prints it",
                                  code="bad-ci")]
    bounds, problems = [], []
    for bound in value:
        found, more = number(bound, ctx)
        problems += more
        bounds.append(found)
    if problems:
        return None, problems
    low, high = bounds
    if low > high:
        return None, [ctx.problem(f"{ctx.label} [{low}, {high}] runs backwards; write [{high}, {low}]", code="bad-ci")]
    return [low, high], []


def year(value: Any, ctx):
    text, problems = _scalar(value, ctx)
    if problems:
        return None, problems
    if not (text.isdigit() and len(text) == 4 and YEARS[0] <= int(text) <= YEARS[1]):
        return None, [ctx.problem(f"{ctx.label} {text!r} is not a year; write four digits, e.g. 2016", code="bad-year")]
    return int(text), []


def currency(value: Any, ctx):
    text, problems = _scalar(value, ctx)
    if problems:
        return None, problems
    if len(text) == 3 and text.isalpha() and pycountry.currencies.get(alpha_3=text.upper()) is not None:
        if text != text.upper():
            return text.upper(), [ctx.problem(f"{ctx.label} {text!r} is written in capitals: {text.upper()!r}",
                                              code="bad-currency")]
        return text, []
    return None, [ctx.problem(f"{ctx.label} {text!r} is not an ISO 4217 currency code; write three capitals "
                              "such as 'USD', 'GBP', 'EUR' or 'COP'", code="bad-currency")]


def numbers_in(text: str) -> set[float]:
    """Every number written in a text, as a value: '1,256 billion' -> 1256.0; '63%' -> 63.0."""
    found = set()
    for token in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
        plain = token.replace(",", "")
        try:
            found.add(float(plain))
        except ValueError:
            continue
    return found
