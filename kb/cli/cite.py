"""`kb cite` and `kb bib check`: options parsed here, the work done by kb.citations and kb.checks.bibliography."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from ..checks.bibliography import ALL_STYLES, check_bibliography
from ..citations.selection import CITE_FORMATS, CiteRequest, Library, backlinks, choices_message, cite_output
from ..citations.styles import STYLES, find_styles, style_name
from ..errors import KbError, UnknownIdError, exit_code
from .common import Context, _print_problems, pass_ctx



class StyleName(click.ParamType):
    """A short-list name or any CSL style id; an unknown one names the closest."""

    name = "style"

    def convert(self, value, param, ctx):
        try:
            return style_name(value)
        except UnknownIdError as exc:
            self.fail(str(exc), param, ctx)


def list_styles(ctx: click.Context, param, value) -> None:
    """`--list-styles TEXT`: the styles whose id or title has every word of TEXT, then exit."""
    if value is None or ctx.resilient_parsing:
        return
    for name, title in find_styles(value, limit=200):
        click.echo(f"{name}\t{title}")
    ctx.exit()


class BadInput(click.ClickException):
    """An unknown id, theme or style: `Error: <message>` and exit 2, like click's own usage errors."""

    exit_code = 2


FILE_FORMATS = ("docx", "odt")   # briefings, written to --output


def emit(text: str | bytes, output: Path | None) -> None:
    """To stdout, or to `output` written atomically (never half-written); errors name the file."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        write_atomically(output, text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a failure leaves no half-written file."""
    binary = isinstance(text, bytes)
    handle = tempfile.NamedTemporaryFile("wb" if binary else "w", encoding=None if binary else "utf-8",
                                         dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _load(obj: Context):
    from ..content.loader import load_collection
    try:
        return load_collection(obj.root)
    except KbError as exc:
        raise click.ClickException(str(exc)) from None


def _library(obj: Context) -> Library:
    """The current build's cases (drafts too: an author may cite one by id) and sources: what the
    web shows, not the Markdown as it is being edited (run `kb build` first)."""
    try:
        kb = obj.knowledge_base()
        return Library(kb.full_cases(drafts=True), kb.sources(), kb.vocabulary.terms("themes"))
    except KbError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--evidence", multiple=True, metavar="CASE/EVIDENCE", help="Cite one evidence item (repeatable).")
@click.option("--theme", metavar="THEME", help="Cite the published cases of a theme.")
@click.option("--query", metavar="TEXT", help="Cite the cases a search finds (needs `kb build`).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Search hits taken by --query.")
@click.option("--format", "output_format", type=click.Choice([*CITE_FORMATS, *FILE_FORMATS]), default="text",
              show_default=True, help="text or markdown: a formatted reference list; bibtex, ris, csl-json: an export; "
              "docx, odt: a briefing (the case studies, the claims with their citations, the references) to --output.")
@click.option("--style", type=StyleName(), default="apa", show_default=True,
              help=f"Citation style for text and markdown: {', '.join(STYLES)} or any CSL style id.")
@click.option("--list-styles", metavar="TEXT", callback=list_styles, expose_value=False, is_eager=True,
              help="List the styles whose id or title has every word of TEXT (\"\" for all) and exit.")
@click.option("--case-itself", is_flag=True, help="Cite the case studies themselves, not their sources.")
@click.option("--claims", is_flag=True, help="Print each evidence item's claim followed by its in-text citation.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@pass_ctx
def cite(obj: Context, ids, evidence, theme, query, limit, output_format, style, case_itself, claims, output) -> None:
    """Formatted references or an export of the sources behind cases, evidence items, a theme or a search.

    Several IDs and --evidence options make a basket; sources are listed once, in order of first
    appearance (in a reference list, in the style's order). Examples:

    \b
      kb cite boston-operation-ceasefire --style chicago-author-date
      kb cite --evidence boston-operation-ceasefire/shootings --claims
      kb cite --theme targeted-deterrence --format bibtex --output deterrence.bib
      kb cite boston-operation-ceasefire --case-itself --format ris
    """
    if output_format in FILE_FORMATS and output is None:
        raise BadInput(f"--format {output_format} writes a file: give --output FILE.{output_format}")
    library = _library(obj)
    request = CiteRequest(tuple(ids), tuple(evidence), theme, (), output_format, style, case_itself, claims)
    try:
        if query:
            request.hit_ids = tuple(hit.id for hit in obj.knowledge_base().search(query, limit=limit).hits)
            if not request.hit_ids and not (ids or evidence or theme):
                click.echo(f"no case matches {query!r}", err=True)
                return
        if output_format in FILE_FORMATS:
            from ..citations.briefing import briefing_output
            emit(briefing_output(library, request, output_format, obj.settings.base_url), output)
            return
        text = cite_output(library, request, obj.settings.base_url)
    except UnknownIdError as exc:
        raise BadInput(str(exc)) from None
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    if not text:
        click.echo("the selection cites no sources", err=True)
    emit(text, output)


@click.group()
def bib() -> None:
    """Bibliography tools."""


@bib.command("check")
@click.option("--style", "styles", multiple=True, type=click.Choice(ALL_STYLES),
              help="Only the fields these styles need (repeatable; default all).")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def check(obj: Context, styles: tuple[str, ...], strict: bool, output_format: str) -> None:
    """Duplicates, malformed DOIs and URLs, fields the styles need, unused entries.

    One line per problem, `path:line: severity: message`; exit 1 when there is an error (with
    --strict: an error or warning), 0 otherwise.
    """
    problems = check_bibliography(_load(obj), styles or ALL_STYLES)
    _print_problems(problems, output_format, True)
    sys.exit(exit_code(problems, strict))


@bib.command("cited-by")
@click.argument("key")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def cited_by(obj: Context, key: str, output_format: str) -> None:
    """Every case and evidence item of the current build that cites bibliography entry KEY, with
    its locators."""
    library = _library(obj)
    if key not in library.sources:
        raise click.UsageError(choices_message("bibliography key", key, library.sources, "keys"))
    links = backlinks(library.cases).get(key, [])
    if output_format == "json":
        click.echo(json.dumps([{"case": link.case_id, "evidence": link.evidence_id, "locator": link.locator}
                               for link in links], indent=2))
        return
    if not links:
        click.echo(f"{key} is not cited by any case")
    for link in links:
        where = f"{link.case_id}/{link.evidence_id}" if link.evidence_id else f"{link.case_id} (body)"
        click.echo(f"{where}{', ' + link.locator if link.locator else ''}")
