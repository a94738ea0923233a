"""`kb publish DIR`: the static edition of the current build (docs/publishing.md)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import KbError
from ..settings import DEFAULT
from .common import Context, pass_ctx


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", help="Where the edition will be hosted, e.g. https://example.org/kb (citations and "
                                 "feeds name it; links between pages are relative). Default: the BASE_URL setting.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the edition as one zip file, to carry or send.")
@click.option("--procs", type=click.IntRange(1, 16), default=None,
              help="Processes rendering pages (default: one per core, at most 4, from 500 cases; else 1).")
@pass_ctx
def publish(obj: Context, folder: Path, base_url: str | None, zip_path: Path | None, procs: int | None) -> None:
    """Write a static edition of the current build to FOLDER: every page a signed-out reader sees
    on the server, the exports as files, and search with facets that works without a server
    (Pagefind). Drafts and everything for reviewers are left out.

    Publishing again into the same FOLDER rewrites only the files that changed, and a publish that
    fails leaves the previous edition whole.

    \b
    Examples:
      kb publish site/ --base-url https://example.org/drug-law-kb
      kb publish site/ --zip drug-law-kb.zip
    """
    from webapp.publish import publish as run_publish
    settings = obj.settings
    if base_url is None and settings.sources.get("BASE_URL") == DEFAULT:
        click.echo(f"warning: citations and feeds will name {settings.base_url} (the default BASE_URL); "
                   "pass --base-url with the edition's address", err=True)
    try:
        report = run_publish(settings, folder, base_url=base_url, zip_path=zip_path, procs=procs,
                             log=lambda message: click.echo(message, err=True))
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"published {report.pages} pages ({report.files} files, {report.bytes / 1e6:.1f} MB) to {report.folder} "
               f"in {report.seconds:.1f} s: {report.written} written, {report.unchanged} unchanged, "
               f"{report.removed} removed")
    if report.left_out:
        shown = ", ".join(f"{endpoint} ({count})" for endpoint, count in list(report.left_out.items())[:6])
        click.echo(f"links left out (they need a server): {shown}")
    if report.zip_path:
        click.echo(f"zip: {report.zip_path} ({report.zip_path.stat().st_size / 1e6:.1f} MB)")
