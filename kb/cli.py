"""The `kb` command. Each command parses options and calls a plain library function."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from . import __version__
from .build import build as run_build
from .errors import ERROR, INFO, WARNING, KbError, ValidationFailed
from .validate import exit_code

OUTPUT_FORMATS = click.Choice(["text", "json"])


class Context:
    def __init__(self, root: Path, data: str | None):
        self.root = root
        self.data = data

    def knowledge_base(self):
        from .knowledgebase import KnowledgeBase
        return KnowledgeBase(self.root, self.data)


pass_ctx = click.make_pass_decorator(Context)


def _progress(label: str):
    """A progress bar on a terminal; nothing when piped."""
    def wrap(items):
        items = list(items)
        if not sys.stderr.isatty() or len(items) < 50:
            return items
        return _bar(items, label)
    return wrap


def _bar(items, label):
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="KB_ROOT", default=".",
              show_default=True, help="Knowledge-base root (holds case_studies/ and bibliography.bib). Env: KB_ROOT.")
@click.option("--data", envvar="KB_DATA_DIR", default=None,
              help="Data folder for the database and index (default ROOT/.kb). Env: KB_DATA_DIR.")
@click.version_option(__version__, prog_name="kb")
@click.pass_context
def main(ctx: click.Context, root: Path, data: str | None) -> None:
    """Evidence and case-study knowledge base for modern drug law enforcement."""
    ctx.obj = Context(root, data)


def _print_problems(problems, output_format: str, verbose: bool) -> None:
    shown = [p for p in problems if verbose or p.severity != INFO]
    if output_format == "json":
        click.echo(json.dumps([p.to_dict() for p in shown], indent=2, ensure_ascii=False))
    else:
        for problem in shown:
            click.echo(str(problem))
    counts = {sev: sum(1 for p in problems if p.severity == sev) for sev in (ERROR, WARNING, INFO)}
    hint = "" if verbose or not counts[INFO] else " (-v lists them)"
    click.echo(f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} info{hint}", err=True)


@main.command()
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also list info findings, such as uncited entries.")
@pass_ctx
def validate(obj: Context, strict: bool, output_format: str, verbose: bool) -> None:
    """Check every case study and the bibliography; report all problems in one pass.

    Exit 0 when there is no error (with --strict: no error or warning), 1 otherwise.
    """
    from .loader import load_collection
    try:
        collection = load_collection(obj.root, progress=_progress("reading"))
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
        report = run_build(obj.root, obj.data, procs=procs, full=full, strict=strict, progress=_progress("reading"))
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


@main.command()
@click.argument("query", nargs=-1)
@click.option("--theme", multiple=True, help="Only cases with this theme (repeatable).")
@click.option("--concept", multiple=True, help="Only cases with this concept (repeatable).")
@click.option("--country", multiple=True, help="Only cases in this country, ISO code (repeatable).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--drafts", is_flag=True, help="Include draft cases.")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def search(obj: Context, query: tuple[str, ...], theme, concept, country, limit, drafts, output_format) -> None:
    """Ranked full-text search with facets.

    QUERY uses words, "phrases", AND/OR/NOT, field:value (themes:, country:, tags:, years: ...)
    and prefix* terms. Bad syntax never fails: it falls back to the plain words.
    """
    from .vocabulary import load_vocabulary
    vocab = load_vocabulary(obj.root.resolve())
    for option, values, allowed in (("--theme", theme, vocab.terms("themes")), ("--concept", concept, vocab.terms("concepts"))):
        for value in values:
            if value not in allowed:
                raise click.BadParameter(f"unknown value {value!r}; choose from: {', '.join(allowed)}", param_hint=option)
    filters = {"themes": list(theme), "concepts": list(concept), "country": [c.upper() for c in country]}
    try:
        kb = obj.knowledge_base()
        result = kb.search(" ".join(query), filters=filters, limit=limit, drafts=drafts)
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
        snippet = re.sub(r"<[^>]+>", "", hit.snippet)
        if snippet:
            click.echo(f"     {' '.join(snippet.split())[:300]}")
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
    app = create_app({"ROOT": str(obj.root.resolve()), "DATA_DIR": obj.data})
    app.run(host=host, port=port, debug=debug, threaded=True)


@main.command()
@click.option("--style", "styles", multiple=True, type=click.Choice(["apa", "chicago-author-date", "harvard"]),
              help="Styles to render (repeatable; default apa, the web's default).")
@click.option("--procs", type=click.IntRange(1, 16), default=None, help="Worker processes (default: one per core).")
@click.option("--base-url", envvar="KB_BASE_URL", default="http://127.0.0.1:5000", show_default=True,
              help="Public address used in the citation of each case study. Env: KB_BASE_URL.")
@pass_ctx
def render(obj: Context, styles: tuple[str, ...], procs: int | None, base_url: str) -> None:
    """Render every case page of the current build for the web, once for all its workers.

    Optional: pages not rendered here are rendered, and kept, the first time someone opens them.
    Run it after `kb build` on a busy server so that no reader waits for a first rendering.
    """
    from .pages import render_all
    try:
        for style in styles or ("apa",):
            count, seconds = render_all(obj.root.resolve(), obj.data, style, base_url, procs)
            click.echo(f"rendered {count} case page(s) in {style} in {seconds:.1f} s")
    except KbError as exc:
        raise click.ClickException(str(exc)) from None


from .cli_cite import bib, cite  # noqa: E402  (the citation commands live in their own module)

main.add_command(cite)
main.add_command(bib)
from .cli_reviews import backup, reviews, user  # noqa: E402
main.add_command(user)
main.add_command(reviews)
main.add_command(backup)

if __name__ == "__main__":  # pragma: no cover
    main()
