"""`kb export`: the knowledge base in the formats other tools read. `kb export eppi-mapper` writes the
evidence map as the EPPI-Reviewer JSON that EPPI-Mapper builds maps from (docs/eppi-mapper.md)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import KbError
from ..eppi import dumps
from ..evidence import PARAMS
from .cite import emit
from .common import Context, checked_values, pass_ctx
from .evidence import _evidence_options


@click.group()
def export() -> None:
    """Export the knowledge base for other tools."""


@export.command("eppi-mapper")
@_evidence_options
@click.option("--min-strength", type=click.IntRange(1, 5), help="Only items graded at least this SMS level.")
@click.option("--drafts", is_flag=True, help="Include the items of draft cases.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically) instead of stdout.")
@pass_ctx
def eppi_mapper(obj: Context, min_strength: int | None, drafts: bool, output: Path | None, **chosen) -> None:
    """The evidence map as EPPI-Reviewer JSON for EPPI-Mapper: one code set (theme, outcome,
    direction, design, region, country, market level, concept) and one reference per evidence
    item, with the filters of `kb evidence`.

    \b
    Examples:
      kb export eppi-mapper --output evidence-map.eppi.json
      kb export eppi-mapper --region latin-america-and-the-caribbean --min-strength 3 -o latam.json
    """
    try:
        kb = obj.knowledge_base()
        found = kb.eppi_mapper(checked_values(kb.vocabulary, chosen, PARAMS), drafts, min_strength=min_strength)
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    emit(dumps(found), output)
