"""`kb user`, `kb reviews` and `kb backup`: options parsed here, the work done by kb.reviews.

The command line acts as an admin (recorded in the audit log as `cli:<login>`): whoever can run
`kb` on the data folder can read and write the database file anyway.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
from sqlalchemy.engine import Engine

from ..errors import KbError, UnknownIdError
from ..reviews import accounts
from ..reviews.errors import ImportFailed
from ..reviews.roles import system_actor
from ..reviews.vocab import ROLES
from .cite import BadInput, emit
from .common import OUTPUT_FORMATS, Context, pass_ctx

ROLE_CHOICE = click.Choice(ROLES)
ROLES_HELP = "reader, reviewer, editor or admin; each can do what the one before can, and more (docs/reviews.md)."


@contextmanager
def _engine(obj: Context, *, create: bool = False) -> Iterator[Engine]:
    """The database, upgraded to the current schema (and made, with `create`, when the data folder
    never had one); library errors become messages."""
    from .. import storage
    engine = None
    try:
        engine = storage.open_database(obj.settings, create=create)
        yield engine
    except UnknownIdError as exc:
        raise BadInput(str(exc)) from None
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if engine is not None:
            engine.dispose()


def _valid_name(_ctx, _param, value: str) -> str:
    try:
        accounts.check_name(value)
    except KbError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _password(from_stdin: bool) -> str:
    """Asked twice on a terminal; one line of standard input with --password-stdin (for scripts)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.check_password(password)
    except KbError as exc:
        raise BadInput(str(exc)) from None
    return password


PASSWORD_STDIN = click.option("--password-stdin", is_flag=True,
                              help="Read the password from the first line of standard input instead of asking.")


@click.group()
def user() -> None:
    """Accounts of readers, reviewers, editors and admins (never deleted: disable them)."""


@user.command("add")
@click.argument("name", callback=_valid_name)
@click.option("--role", type=ROLE_CHOICE, required=True, help=ROLES_HELP)
@PASSWORD_STDIN
@pass_ctx
def user_add(obj: Context, name: str, role: str, password_stdin: bool) -> None:
    """Create account NAME with a role; the password is asked twice (or read with --password-stdin)."""
    password = _password(password_stdin)
    with _engine(obj, create=True) as engine:
        added = accounts.add_user(engine, system_actor(), name, role, password)
    click.echo(f"added {added.name} ({added.role})")


@user.command("list")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def user_list(obj: Context, output_format: str) -> None:
    """Every account with its role and whether it is disabled."""
    with _engine(obj) as engine:
        found = accounts.list_users(engine)
    if output_format == "json":
        click.echo(json.dumps([u.to_dict() for u in found], indent=2))
        return
    if not found:
        click.echo("no accounts yet; add one with `kb user add NAME --role admin`")
    for account in found:
        state = "disabled" if account.disabled else "active"
        click.echo(f"{account.name:<24} {account.role:<9} {state:<9} since {account.created_at[:10]}")


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
@pass_ctx
def user_set_role(obj: Context, name: str, role: str) -> None:
    """Give account NAME the role ROLE (reader, reviewer, editor or admin)."""
    with _engine(obj) as engine:
        changed = accounts.set_role(engine, system_actor(), name, role)
    click.echo(f"{changed.name} is now {changed.role}")


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(obj: Context, name: str) -> None:
    """Stop account NAME from signing in or changing anything; its reviews stay."""
    with _engine(obj) as engine:
        accounts.disable_user(engine, system_actor(), name)
    click.echo(f"disabled {name}")


@user.command("enable")
@click.argument("name")
@pass_ctx
def user_enable(obj: Context, name: str) -> None:
    """Let a disabled account NAME sign in again, with the role it had."""
    with _engine(obj) as engine:
        accounts.enable_user(engine, system_actor(), name)
    click.echo(f"enabled {name}")


@user.command("reset-password")
@click.argument("name")
@PASSWORD_STDIN
@pass_ctx
def user_reset_password(obj: Context, name: str, password_stdin: bool) -> None:
    """Set a new password for account NAME (asked twice, or read with --password-stdin)."""
    with _engine(obj) as engine:
        accounts.get_user(engine, name)  # an unknown name fails before the password is asked
        accounts.reset_password(engine, system_actor(), name, _password(password_stdin))
    click.echo(f"password of {name} reset")


@click.group()
def reviews() -> None:
    """Reviews of evidence items and cases: export, import, orphans, agreement."""


@reviews.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "robvis"]), default="json", show_default=True,
              help="json keeps types; csv opens as one table (tags joined with ';'); robvis: the reconciled "
                   "ROBINS-I judgements as robvis's CSV (Study, D1..D7, Overall, Weight), export only.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@pass_ctx
def reviews_export(obj: Context, fmt: str, output: Path | None) -> None:
    """Every review, reconciliation and coding question (every version), for backups and analysis;
    `kb reviews import` reads it back. `--format robvis` writes the risk-of-bias table instead."""
    from ..reviews.io import dumps, export_records, robvis_csv, robvis_rows
    with _engine(obj) as engine:
        if fmt == "robvis":
            text = robvis_csv(robvis_rows(engine, system_actor()))
        else:
            text = dumps(export_records(engine, system_actor()), fmt)
    emit(text, output)
    if output is not None:
        click.echo(f"wrote {output}", err=True)


@reviews.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="Format of FILE (default: from its extension).")
@pass_ctx
def reviews_import(obj: Context, file: Path, fmt: str | None) -> None:
    """Import an export: every record is checked first, then all are imported or none.

    Importing the same file again changes nothing. A record that differs from the database's
    replaces it only if its version is newer. Exit 1 with every problem listed otherwise.
    """
    from ..reviews.io import import_records, load_file
    with _engine(obj, create=True) as engine:
        try:
            report = import_records(engine, system_actor(), load_file(file, fmt))
        except ImportFailed as exc:
            for problem in exc.problems:
                click.echo(f"{file}: {problem}", err=True)
            raise click.ClickException(str(exc)) from None
    click.echo(f"imported {file}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")
    if report.accounts:
        click.echo(f"made {len(report.accounts)} disabled account(s) for reviewers unknown here: "
                   f"{', '.join(report.accounts)}; `kb user enable NAME` and `kb user reset-password NAME` to use them")


@reviews.command("orphans")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def reviews_orphans(obj: Context, output_format: str) -> None:
    """Reviews whose case or evidence item is not in the current build. They are kept; restore the
    item, or declare the old id in the case's `former_ids` so its reviews follow it."""
    from ..reviews.orphans import orphaned_reviews
    with _engine(obj) as engine, engine.connect() as conn:
        found = orphaned_reviews(conn)
    if output_format == "json":
        click.echo(json.dumps([r.to_dict() for r in found], indent=2, ensure_ascii=False))
        return
    for review in found:
        click.echo(f"{str(review.target):<50} {review.reviewer:<20} {review.status:<11} {review.updated_at[:19]}")
    click.echo(f"{len(found)} orphaned review(s)", err=True)


@reviews.command("agreement")
@click.option("--theme", metavar="THEME", help="Only items of cases with this theme.")
@click.option("--weights", type=click.Choice(["linear", "quadratic"]), default="linear", show_default=True,
              help="Weights of the weighted kappa for the ordinal SMS grade.")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def reviews_agreement(obj: Context, theme: str | None, weights: str, output_format: str) -> None:
    """Agreement between reviewers who graded the same items, per theme and overall: percentage
    agreement, Cohen's kappa, weighted kappa for the SMS grade; then every disagreement."""
    from ..reviews.agreement import agreement
    from ..vocabulary import load_vocabulary
    themes = load_vocabulary(obj.settings.root.resolve()).terms("themes")
    if theme is not None and theme not in themes:
        raise click.BadParameter(f"unknown theme {theme!r}; choose from: {', '.join(themes)}", param_hint="--theme")
    with _engine(obj) as engine:
        report = agreement(engine, system_actor(), theme=theme, weights=weights)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_agreement(report)


def _number(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1%}" if percent else f"{value:.2f}"


def _print_agreement(report) -> None:
    scopes = [("overall", report.overall)] + [(f"theme {name}", fields) for name, fields in report.themes.items()]
    for title, fields in scopes:
        click.echo(f"{title}:")
        for stats in fields.values():
            weighted = f", weighted kappa ({report.weights}) {_number(stats.weighted_kappa)}" \
                if stats.weighted_kappa is not None else ""
            click.echo(f"  {stats.field}: {stats.items} item(s), {stats.comparisons} comparison(s), agreement "
                       f"{_number(stats.percent, True)}, kappa {_number(stats.kappa)}{weighted}")
            for pair in stats.pairs:
                extra = f", weighted {_number(pair.weighted_kappa)}" if pair.weighted_kappa is not None else ""
                click.echo(f"    {' / '.join(pair.reviewers)}: {pair.items} item(s), {_number(pair.percent, True)}, "
                           f"kappa {_number(pair.kappa)}{extra}")
    for stats in report.questions.values():
        weighted = f", weighted kappa {_number(stats.weighted_kappa)}" if stats.weighted_kappa is not None else ""
        click.echo(f"question {stats.field[len('answers.'):]}: {stats.items} item(s), {stats.comparisons} comparison(s), "
                   f"agreement {_number(stats.percent, True)}, kappa {_number(stats.kappa)}{weighted}")
    click.echo(f"open disagreements: {len(report.open)} (and {len(report.settled)} reconciled since)")
    for item in report.open:
        click.echo(f"  {item.target} {item.field}: " + ", ".join(f"{r} {v}" for r, v in item.values.items()))


@click.command()
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the backup folder into (default: DATA/backups).")
@pass_ctx
def backup(obj: Context, to: Path | None) -> None:
    """Write a timestamped folder with a consistent copy of the database and the reviews exports.

    SQLite: a copy made with the online backup API (safe while the server runs). PostgreSQL: every
    table as JSON from one snapshot, plus a pg_dump file when pg_dump is on PATH.
    """
    from ..reviews.backup import backup as run_backup
    target = to or obj.settings.data_dir / "backups"
    with _engine(obj) as engine:
        try:
            report = run_backup(engine, target)
        except OSError as exc:
            raise click.ClickException(f"cannot write the backup in {target}: {exc.strerror or exc}") from None
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"backup written to {report.folder} ({', '.join(report.files)}; {report.records} review record(s))")


@reviews.group("questions")
def reviews_questions() -> None:
    """Coding questions reviewers answer beside the grade (versioned; editors define them)."""


@reviews_questions.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Also retired questions.")
@click.option("--format", "output_format", type=OUTPUT_FORMATS, default="text", show_default=True)
@pass_ctx
def questions_list(obj: Context, include_retired: bool, output_format: str) -> None:
    """The current version of each question."""
    from ..reviews.questions import list_questions
    with _engine(obj) as engine:
        found = list_questions(engine, include_retired=include_retired)
    if output_format == "json":
        click.echo(json.dumps([q.to_dict() for q in found], indent=2, ensure_ascii=False))
        return
    for q in found:
        choices = f" [{', '.join(q.choice_values)}]" if q.choices else ""
        click.echo(f"{q.key:<24} v{q.version:<3} {q.scope:<8} {q.kind:<8} {q.label}{choices}"
                   f"{'' if q.active else ' (retired)'}")
    click.echo(f"{len(found)} question(s)", err=True)


@reviews_questions.command("show")
@click.argument("key")
@pass_ctx
def questions_show(obj: Context, key: str) -> None:
    """Every version of one question, as JSON."""
    from ..reviews.questions import get_question, question_versions
    with _engine(obj) as engine:
        get_question(engine, key)
        click.echo(json.dumps([q.to_dict() for q in question_versions(engine, key)], indent=2, ensure_ascii=False))


@reviews_questions.command("add")
@click.argument("key")
@click.option("--label", required=True, help="The question as reviewers read it.")
@click.option("--help-text", "help_text", default="", help="Help shown under the question.")
@click.option("--scope", type=click.Choice(["evidence", "case", "outcome"]), default="evidence", show_default=True)
@click.option("--kind", type=click.Choice(["single", "multiple", "number", "text"]), default="single", show_default=True)
@click.option("--choice", "choices", multiple=True, metavar="VALUE=LABEL", help="A choice (repeat, in order).")
@click.option("--ordinal", is_flag=True, help="The choices are ordered (weighted kappa).")
@click.option("--required", is_flag=True, help="A submitted review must answer it.")
@click.option("--position", type=click.IntRange(0, 10 ** 6), default=0, show_default=True)
@pass_ctx
def questions_add(obj: Context, key: str, label: str, help_text: str, scope: str, kind: str, choices: tuple[str, ...],
                  ordinal: bool, required: bool, position: int) -> None:
    """Add question KEY (version 1); choices as `--choice low=Low --choice high=High`. For the
    built-in ROBINS-I and GRADE sets, see `add-set`."""
    from ..reviews.errors import InvalidReview
    from ..reviews.questions import Question, add_question, parse_choices
    with _engine(obj, create=True) as engine:
        try:
            question = add_question(engine, system_actor(), Question(
                key, label, scope, kind, parse_choices("\n".join(choices)), help_text, ordinal, required,
                position=position))
        except InvalidReview as exc:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    click.echo(f"added question {question.key} (version 1)")


@reviews_questions.command("add-set")
@click.argument("name", type=click.Choice(["robins-i", "grade"]))
@pass_ctx
def questions_add_set(obj: Context, name: str) -> None:
    """Add a built-in set: ROBINS-I (seven domains and overall) or GRADE (certainty per theme x outcome)."""
    from ..reviews.questions import install_set
    with _engine(obj, create=True) as engine:
        added = install_set(engine, system_actor(), name)
    click.echo(f"added {len(added)} question(s) of {name}" + ("" if added else " (all were there)"))


@reviews.command("assign")
@click.argument("reviewers", nargs=-1, required=True)
@click.option("--item", "items", multiple=True, metavar="CASE/EVIDENCE", help="An item (repeatable).")
@click.option("--case", metavar="CASE", help="Every evidence item of a case.")
@click.option("--theme", metavar="THEME", help="Every item of a theme (or, with --share, the pool to draw from).")
@click.option("--share", type=click.FloatRange(0, 1, min_open=True), help="A random fraction of the items.")
@click.option("--per-item", type=click.IntRange(1, 20), default=2, show_default=True,
              help="Reviewers per item of a share.")
@click.option("--calibration", type=click.IntRange(1, 1000), help="Seed this many reconciled items (calibration).")
@click.option("--seed", type=int, help="Random seed, for a share or calibration draw that can be repeated.")
@pass_ctx
def reviews_assign(obj: Context, reviewers: tuple[str, ...], items: tuple[str, ...], case: str | None,
                   theme: str | None, share: float | None, per_item: int, calibration: int | None,
                   seed: int | None) -> None:
    """Assign items to REVIEWERS: single items, a case, a theme, a random share for double grading,
    or calibration items. Items already assigned to a reviewer are skipped."""
    from ..reviews.assign import assign
    from ..reviews.records import parse_target
    with _engine(obj) as engine:
        report = assign(engine, system_actor(), list(reviewers),
                        targets=[parse_target(t) for t in items] if items else None, case=case, theme=theme,
                        share=share, per_item=per_item, calibration=calibration, seed=seed)
    click.echo(f"{len(report.created)} assignment(s) made, {report.skipped} already there")
