"""What every `kb` command shares: the context (the process's settings), output formats, progress
bars and the listing of problems."""
from __future__ import annotations

import json
import sys

import click

from ..errors import ERROR, INFO, WARNING
from ..settings import Settings

OUTPUT_FORMATS = click.Choice(["text", "json"])


class Context:
    """What a command is given: the settings, and the knowledge base opened once when needed."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._kb = None

    @property
    def root(self):
        return self.settings.root

    def knowledge_base(self):
        """The read API on the current build (closed when the command ends)."""
        if self._kb is None:
            from ..knowledgebase import KnowledgeBase
            self._kb = KnowledgeBase(self.settings)
            click.get_current_context().find_root().call_on_close(self._kb.close)
        return self._kb


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
