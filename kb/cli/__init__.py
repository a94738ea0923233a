"""The `kb` command. Each command parses options and calls a plain library function.

The group builds the process's `Settings` once from its options, the `KB_` environment and the
defaults, and opens one database session for the whole command (kb.knowledgebase.session).
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from .. import __version__, facets
from ..citations.styles import STYLES
from ..errors import WARNING, KbError, ValidationFailed, exit_code
from ..knowledgebase import VERDICTS, session
from ..settings import SettingError, Settings
from ..storage.build import build as run_build
from .common import OUTPUT_FORMATS, Context, _print_problems, _progress, checked_values, pass_ctx, terminal_text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Knowledge-base root (holds case_studies/ and bibliography.bib; default .). Env: KB_ROOT.")
@click.option("--data", default=None,
              help="Data folder for the database and index (default ROOT/.kb). Env: KB_DATA_DIR.")
@click.version_option(__version__, prog_name="kb")
@click.pass_context
def main(ctx: click.Context, root: Path | None, data: str | None) -> None:
    """Evidence and case-study knowledge base for modern drug law enforcement."""
    try:
        settings = Settings.load({"ROOT": str(root) if root else None, "DATA_DIR": data}, source="option")
    except SettingError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = Context(settings)
    ctx.with_resource(session())


@main.command()
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also list info findings, such as uncited entries.")
@pass_ctx
def validate(obj: Context, strict: bool, output_format: str, verbose: bool) -> None:
    """Check every case study and the bibliography; report all problems in one pass.

    Exit 0 when there is no error (with --strict: no error or warning), 1 otherwise.
    """
    from ..content.loader import load_collection
    try:
        collection = load_collection(obj.settings.root, progress=_progress("reading"))
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    problems = collection.all_problems()
    _print_problems(problems, output_format, verbose)
    sys.exit(exit_code(problems, strict))


@main.command()
@click.option("--full", is_flag=True, help="Ignore caches: re-read every file and rebuild the index.")
@click.option("--procs", type=click.IntRange(1, 8), default=None, help="Index writer processes (default: automatic).")
@click.option("--strict", is_flag=True, help="Refuse to build when there are warnings.")
@click.option("-v", "--verbose", is_flag=True, help="Also show how long each phase took.")
@pass_ctx
def build(obj: Context, full: bool, procs: int | None, strict: bool, verbose: bool) -> None:
    """Validate, then write the database and search index (atomic and incremental)."""
    try:
        report = run_build(obj.settings, procs=procs, full=full, strict=strict, progress=_progress("reading"))
    except ValidationFailed as exc:
        _print_problems(exc.problems, "text", False)
        raise click.ClickException(str(exc)) from None
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    for problem in report.problems:
        if problem.severity == WARNING:
            click.echo(str(problem), err=True)
    if report.noop:
        click.echo(f"up to date: {report.cases} cases, {report.sources} sources ({report.seconds:.2f} s)")
    else:
        click.echo(f"built {report.cases} cases, {report.sources} sources in {report.seconds:.2f} s: "
                   f"{len(report.changed)} changed, {len(report.removed)} removed, {report.reindexed} indexed"
                   f"{' (full index)' if report.full_index else ''}")
    for move in report.moved:
        if move.moved:
            click.echo(f"{move.kind} {move.id} by {move.reviewer} followed its case from {move.old} to {move.new}")
        else:
            click.echo(f"{move.kind} {move.id} by {move.reviewer} stays at {move.old}: {move.reason}", err=True)
    if report.orphaned:
        click.echo(f"{len(report.orphaned)} orphaned review(s): their case or evidence item is no longer in the "
                   "collection; nothing was deleted (see `kb reviews orphans`)", err=True)
    if verbose:
        click.echo("phases: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report.timings.items()))


def _facet_options(command):
    """`--theme`, `--concept`, `--country`, ... : every filter the web has (kb.facets)."""
    for facet in reversed([f for f in facets.FACETS if f.indexed]):
        hint = f", e.g. {facet.example}" if facet.example else ""
        command = click.option(facet.option, facet.param, multiple=True, metavar="VALUE",
                               help=f"Only cases with this {facet.help}{hint} (repeatable).")(command)
    return command


def _checked_filters(vocab, chosen: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """The index's filters (facet name -> values) from the options."""
    return {facets.BY_PARAM[param].name: values
            for param, values in checked_values(vocab, chosen, [f.param for f in facets.FACETS]).items()}


@main.command()
@click.argument("query", nargs=-1)
@_facet_options
@click.option("--verdict", "verdicts", multiple=True, type=click.Choice(VERDICTS),
              help="Only cases with this verdict on some harm outcome (docs/verdicts.md; repeatable).")
@click.option("--sort", type=click.Choice(facets.SORTS), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--drafts", is_flag=True, help="Include draft cases.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True,
              help="csv: every matching case, whatever --limit (columns in docs/csv.md).")
@pass_ctx
def search(obj: Context, query: tuple[str, ...], sort: str, limit: int, drafts: bool, output_format: str,
           verdicts: tuple[str, ...], **chosen) -> None:
    """Ranked full-text search with facets.

    QUERY uses words, "phrases", AND/OR/NOT, field:value (themes:, country:, tags:, years: ...)
    and prefix* terms. Bad syntax never fails: it falls back to the plain words.
    """
    try:
        kb = obj.knowledge_base()
        filters = _checked_filters(kb.vocabulary, chosen)
        only = {"only_ids": kb.cases_with_verdict(verdicts, drafts)} if verdicts else {}
        if output_format == "csv":
            base = obj.settings.base_url.rstrip("/")
            click.echo(kb.search_csv(" ".join(query), lambda case_id: f"{base}/cases/{case_id}", filters=filters,
                                     drafts=drafts, sort=sort, **only), nl=False)
            return
        result = kb.search(" ".join(query), filters=filters, limit=limit, drafts=drafts, sort=sort, **only)
        counted = kb.search(" ".join(query), filters=filters, limit=1, drafts=drafts) if verdicts else result
        by_verdict = kb.verdict_facet(counted.ids, drafts)
        if by_verdict:
            result = dataclasses.replace(result, facets={**result.facets, "verdict": by_verdict})
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if result.suggestion:
        click.echo(f"Did you mean: {result.suggestion}")
    click.echo(f"{result.total} result(s)")
    for n, hit in enumerate(result.hits, start=1):
        click.echo(f"{n:>3}. {hit.title}  [{hit.id}]  {', '.join(hit.country)} {hit.period}  score {hit.score:.2f}")
        snippet = terminal_text(hit.snippet)
        if snippet:
            click.echo(f"     {snippet}")
    for name, counts in result.facets.items():
        if counts:
            click.echo(f"{name}: " + ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:8]))


@main.command()
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def stats(obj: Context, output_format: str) -> None:
    """Counts by theme, country and status, and citation coverage of the bibliography."""
    try:
        data = obj.knowledge_base().stats()
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"cases: {data['cases']} ({', '.join(f'{k} {v}' for k, v in sorted(data['by_status'].items()))})")
    click.echo(f"evidence items: {data['evidence_items']}; citations: {data['citations']}")
    click.echo(f"sources: {data['sources']}, cited: {data['sources_cited']} "
               f"(coverage {data['citation_coverage']:.0%})")
    click.echo("themes:")
    for name, count in data["themes"].items():
        click.echo(f"  {name:<32} {count}")
    click.echo("countries:")
    for name, count in data["countries"].items():
        click.echo(f"  {name:<4} {count}")
    click.echo(f"built: {data['built_at']}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Reload on code changes and show debugging pages (never in production).")
@pass_ctx
def serve(obj: Context, host: str, port: int, debug: bool) -> None:
    """Serve the web browser for one user with Flask's development server.

    Run `kb build` first; a running server picks up later builds by itself. For several users,
    serve `webapp:create_app()` with gunicorn (see docs/deployment.md).
    """
    from webapp import create_app
    app = create_app(obj.settings)
    app.run(host=host, port=port, debug=debug, threaded=True)


@main.command()
@click.option("--style", "styles", multiple=True, type=click.Choice(list(STYLES)),
              help="Styles to render (repeatable; default every style).")
@click.option("--procs", type=click.IntRange(1, 16), default=None, help="Worker processes (default: one per core, at most 4).")
@pass_ctx
def render(obj: Context, styles: tuple[str, ...], procs: int | None) -> None:
    """Render the case pages of the current build that are not rendered yet (a repair command).

    `kb build` renders the pages of the cases it changed, in every style; this fills in what a
    build made by an older kb, or one interrupted after its commit, left out. Pages use the
    BASE_URL setting in the citation of each case study.
    """
    from ..storage.pages import render_missing
    try:
        count, seconds = render_missing(obj.settings, styles or tuple(STYLES), procs)
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rendered {count} case page(s) in {', '.join(styles or STYLES)} in {seconds:.1f} s")


@main.command("config")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def config(obj: Context, output_format: str) -> None:
    """The effective settings and where each came from (option, environment or default).

    Secrets (the database URL, the session key) are shown only as "(set)".
    """
    rows = obj.settings.shown()
    if output_format == "json":
        click.echo(json.dumps([{"variable": v, "value": value, "source": where} for v, value, where in rows], indent=2))
        return
    width = max(len(v) for v, _, _ in rows)
    for variable, value, where in rows:
        click.echo(f"{variable:<{width}}  {value}  ({where})")


@main.group()
def db() -> None:
    """The database's schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(obj: Context) -> None:
    """Create or upgrade the database schema to this version of kb (kb build does it too on SQLite;
    on PostgreSQL, shared by several hosts, run it once from one host)."""
    from .. import storage
    try:
        storage.open_database(obj.settings, create=True, migrate=True).dispose()
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database schema at revision {storage.head_revision()}")


from .cite import bib, cite  # noqa: E402  (the commands need `main` above)

main.add_command(cite)
main.add_command(bib)
from .reviews import backup, reviews, user  # noqa: E402

main.add_command(user)
main.add_command(reviews)
main.add_command(backup)

if __name__ == "__main__":  # pragma: no cover
    main()
from .evidence import evidence  # noqa: E402

main.add_command(evidence)
from .export import export  # noqa: E402

main.add_command(export)
from .publish import publish  # noqa: E402

main.add_command(publish)
