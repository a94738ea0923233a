"""The docs are tested: every command has help and is in the README; the format doc lists every
declared field and vocabulary term; the README's two commands are the Makefile's targets."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.cli import main
from kb.fields import CASE_FIELDS, EVIDENCE_FIELDS
from kb.vocabulary import default_vocabulary

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FORMAT = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")


def commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if hasattr(command, "commands"):
            yield from commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in commands(main)], ids=lambda p: " ".join(p))
def test_every_command_has_help_and_is_documented(runner, path):
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 3
    assert f"kb {' '.join(path)}" in README


@pytest.mark.parametrize("spec", CASE_FIELDS + EVIDENCE_FIELDS, ids=lambda s: s.name)
def test_format_doc_lists_every_field(spec):
    assert f"| `{spec.name}` |" in FORMAT


def test_format_doc_lists_every_term():
    vocab = default_vocabulary()
    missing = [name for kind in vocab.kinds.values() for name in kind if f"`{name}`" not in FORMAT]
    assert missing == []


def test_readme_two_commands_are_make_targets():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make run", "make test"]
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_deployment_doc_lists_every_web_setting():
    from kb.settings import SETTINGS
    deployment = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert [s.name for s in SETTINGS if f"| `KB_{s.name}` | {s.help} |" not in deployment] == []


def test_security_doc_covers_every_class_of_attack():
    security = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    for heading in ("Who is trusted", "Rendering costs", "Links", "Sessions", "Redirects", "Drafts",
                    "Sign-in throttling", "Blind grading", "Data integrity", "Faults", "Headers", "What a deployment must set"):
        assert f"## {heading}" in security, heading
