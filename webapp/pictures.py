"""Pictures drawn on the server as SVG (no tiles, no scripts): cases over time, cases by country.
Each picture has a title and a description for screen readers, and links to the cases: so it is a
figure (role="figure"), not an image, whose children assistive technology would not reach."""
from __future__ import annotations

from html import escape
from typing import Callable

from flask import url_for
from markupsafe import Markup

ROW = 22
LEFT = 330
WIDTH = 900


def _svg(ident: str, width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="figure" '
        f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" class="chart" id="{ident}">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def timeline(items, this_year: int) -> Markup:
    """One bar per case from the first to the last year of its period; ongoing periods run to
    this year and end in an arrow."""
    dated = [item for item in items if item.period_start]
    if not dated:
        return _svg("timeline", WIDTH, 40, "Cases over time", "No dated case studies.", [])
    ends = [_end(item.period, this_year) for item in dated]
    first = min(item.period_start for item in dated) // 5 * 5
    last = max(ends) + 1
    scale = (WIDTH - LEFT - 20) / max(last - first, 1)
    height = 40 + ROW * len(dated)
    body = []
    for year in range(first, last + 1, 5):
        x = LEFT + (year - first) * scale
        body.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 10}" class="grid"/>'
                    f'<text x="{x:.1f}" y="14" class="axis" text-anchor="middle">{year}</text>')
    for row, (item, end) in enumerate(zip(dated, ends)):
        y = 28 + row * ROW
        x1 = LEFT + (item.period_start - first) * scale
        x2 = LEFT + (end + 1 - first) * scale
        ongoing = item.period.endswith("-")
        label = item.title if len(item.title) <= 48 else item.title[:46] + "…"
        body.append(
            f'<a href="{escape(url_for("cases.case", case_id=item.id))}">'
            f'<text x="{LEFT - 8}" y="{y + 12}" text-anchor="end" class="label">{escape(label)}</text>'
            f'<rect x="{x1:.1f}" y="{y}" width="{max(x2 - x1, 3):.1f}" height="14" rx="3" class="bar{" ongoing" if ongoing else ""}">'
            f'<title>{escape(item.title)}: {escape(item.period)}{" (ongoing)" if ongoing else ""}</title></rect></a>')
    desc = f"{len(dated)} case studies placed on a time line from {first} to {last - 1}; ongoing ones run to {this_year}."
    return _svg("timeline", WIDTH, height, "Cases over time", desc, body)


def _end(period: str, this_year: int) -> int:
    start, _, end = period.partition("-")
    return int(end) if end else (this_year if period.endswith("-") else int(start))


def by_country(counts: dict[str, int], name_of: Callable[[str], str]) -> Markup:
    """Horizontal bars: the number of case studies in each country, most first."""
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], name_of(kv[0])))
    if not rows:
        return _svg("by-country", WIDTH, 40, "Cases by country", "No case studies.", [])
    most = max(count for _, count in rows)
    scale = (WIDTH - 260) / most
    body = []
    for row, (code, count) in enumerate(rows):
        y = 10 + row * ROW
        body.append(
            f'<a href="{escape(url_for("cases.country", code=code))}">'
            f'<text x="200" y="{y + 12}" text-anchor="end" class="label">{escape(name_of(code))}</text>'
            f'<rect x="210" y="{y}" width="{count * scale:.1f}" height="14" rx="3" class="bar"/>'
            f'<text x="{216 + count * scale:.1f}" y="{y + 12}" class="value">{count}</text></a>')
    desc = "; ".join(f"{name_of(code)}: {count}" for code, count in rows)
    return _svg("by-country", WIDTH, 20 + ROW * len(rows), "Cases by country", desc, body)
