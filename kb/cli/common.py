"""What every `kb` command shares: the context (the process's settings), output formats, progress
bars and the listing of problems."""
from __future__ import annotations

import json
import re
import sys

import click

from ..errors import ERROR, INFO, WARNING
from ..settings import Settings

OUTPUT_FORMATS = click.Choice(["text", "json"])
_MARK_OPEN = re.compile(r"<mark\b[^>]*>")
_ON, _OFF = "\ue000", "\ue001"   # where a match starts and ends, kept through the tag stripping


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


def terminal_text(fragment: str, width: int = 300) -> str:
    """An HTML fragment (a search snippet) as terminal text: tags dropped, entities decoded
    (`Mexico&#x27;s` -> `Mexico's`), at most `width` characters; `<mark>`ed matches in bold,
    which click.echo drops unless stdout is a terminal."""
    from ..tables import plain
    text = plain(_MARK_OPEN.sub(_ON, fragment).replace("</mark>", _OFF))
    kept, shown = [], 0
    for ch in text:
        if ch not in (_ON, _OFF):
            if shown == width:
                break
            shown += 1
        kept.append(ch)
    if kept.count(_ON) > kept.count(_OFF):
        kept.append(_OFF)
    return "".join(kept).replace(_ON, "\x1b[1m").replace(_OFF, "\x1b[22m")


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


def checked_values(vocab, chosen: dict[str, tuple[str, ...]], params) -> dict[str, list[str]]:
    """URL parameter -> the values given for it, each checked against its facet's vocabulary or
    form (kb.facets); a bad one is a usage error naming the option and the choices."""
    from .. import facets
    found = {}
    for param in params:
        facet = facets.BY_PARAM[param]
        values = list(chosen.get(param) or ())
        for value in values:
            allowed = vocab.values(facet.vocabulary) if facet.vocabulary else None
            if (allowed is not None and value not in allowed) or not facet.check(value):
                choices = f"choose from: {', '.join(allowed)}" if allowed is not None else f"write it like {facet.example!r}"
                raise click.BadParameter(f"unknown value {value!r}; {choices}", param_hint=facet.option)
        if values:
            found[param] = [v.upper() if facet.upper else v for v in values]
    return found
