"""`kb evidence`: the evidence list (kb/evidence.py) in a terminal, as JSON or as CSV."""
from __future__ import annotations

import json

import click

from .. import facets, tables
from ..errors import KbError
from ..evidence import PARAMS, SORTS
from .common import Context, checked_values, pass_ctx


def _evidence_options(command):
    """`--theme`, `--region`, ..., `--outcome`, `--direction`, `--design`: every filter of /evidence."""
    for param in reversed(PARAMS):
        facet = facets.BY_PARAM[param]
        hint = f", e.g. {facet.example}" if facet.example else ""
        command = click.option(facet.option, param, multiple=True, metavar="VALUE",
                               help=f"Only items with this {facet.help}{hint} (repeatable; values OR-ed).")(command)
    return command


@click.command()
@click.argument("query", nargs=-1)
@_evidence_options
@click.option("--min-strength", type=click.IntRange(1, 5), help="Only items graded at least this SMS level.")
@click.option("--reconciled", is_flag=True, help="Only items an editor reconciled.")
@click.option("--sort", type=click.Choice(SORTS), default="case", show_default=True)
@click.option("--style", default="apa", show_default=True, help="Citation style of the in-text citations.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True,
              help="Items shown (csv: every item, whatever the limit).")
@click.option("--drafts", is_flag=True, help="Include the items of draft cases.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@pass_ctx
def evidence(obj: Context, query: tuple[str, ...], min_strength: int | None, reconciled: bool, sort: str, style: str,
             limit: int, drafts: bool, output_format: str, **chosen) -> None:
    """List evidence items (not cases): each claim with its case, outcome, direction, design,
    strength and in-text citation. QUERY searches the cases' text, as `kb search` does.

    \b
    Examples:
      kb evidence --region latin-america-and-the-caribbean --outcome violence --direction improved
      kb evidence "focused deterrence" --min-strength 3 --format csv > evidence.csv
    """
    from ..citations.styles import STYLES
    if style not in STYLES:
        raise click.BadParameter(f"unknown style {style!r}; choose from: {', '.join(STYLES)}", param_hint="--style")
    try:
        kb = obj.knowledge_base()
        options = dict(filters=checked_values(kb.vocabulary, chosen, PARAMS), min_strength=min_strength, reconciled=reconciled,
                       drafts=drafts, sort=sort)
        text = " ".join(query)
        if output_format == "csv":
            base = obj.settings.base_url.rstrip("/")
            click.echo(kb.evidence_csv(text, style, lambda case, item=None: f"{base}/cases/{case}" + (f"#evidence-{item}" if item else ""),
                                       **options), nl=False)
            return
        found, searched = kb.evidence(text, **options, limit=limit)
        citations = kb.evidence_citations(found.rows, style)
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps({
            "total": found.total, "cases": found.cases,
            "items": [{"case": r.case_id, "case_title": r.case_title, "id": r.id, "claim": r.claim, "outcome": r.outcome,
                       "direction": r.direction, "design": r.design, "strength": r.strength,
                       "citation": tables.plain(cite), "sources": list(r.keys)} for r, cite in zip(found.rows, citations)],
            "facets": found.facets}, indent=2, ensure_ascii=False))
        return
    if searched is not None and searched.suggestion:
        click.echo(f"Did you mean: {searched.suggestion}")
    click.echo(f"{found.total} evidence item(s) from {found.cases} case(s)")
    for n, (row, cite) in enumerate(zip(found.rows, citations), start=1):
        strength = f"SMS {row.strength}" if row.strength else "not graded"
        click.echo(f"{n:>3}. {' '.join(row.claim.split())} {tables.plain(cite)}")
        click.echo(f"     {row.case_title} [{row.case_id}/{row.id}]  {row.outcome}, {row.direction}, {row.design}, {strength}")
