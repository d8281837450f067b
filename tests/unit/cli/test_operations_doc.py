"""Every `dialognet …` command docs/operations.md gives exists, with the options it passes, and
every file of the repository it names is there: an operator copies these lines as they are."""

import re
import shlex
from pathlib import Path

import click
import pytest
import typer

from services.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "operations.md"
CODE_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
# Not `kubectl exec deploy/registration`: a Deployment, not a folder.
REPOSITORY_PATH = re.compile(
    r"(?<!exec )(?<!-it )(?<!port-forward )\b(?:deploy|schemas|services|docs)/[\w./-]*\w"
)


def commands_in_guide() -> list[list[str]]:
    """The words from `dialognet` to the end of each shell line that runs it."""
    text = GUIDE.read_text()
    found = []
    for block in CODE_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            code = line.split(" #")[0]
            if code.lstrip().startswith("#") or "dialognet " not in code:
                continue
            words = shlex.split(code)
            for at, word in enumerate(words[:-1]):
                # The command, not a database or user of that name (`-U dialognet -d dialognet`).
                after_option = at > 0 and words[at - 1].startswith("-") and words[at - 1] != "--"
                if word == "dialognet" and not after_option and not words[at + 1].startswith("-"):
                    found.append(words[at:])
    return found


def resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command `dialognet WORDS` runs, and the words left for it."""
    command: click.Command = typer.main.get_command(app)
    rest = words[1:]
    while rest and rest[0] in getattr(command, "commands", {}):
        command, rest = command.commands[rest[0]], rest[1:]
    return command, rest


def test_the_guide_gives_the_commands_the_issue_asks_for() -> None:
    given = {
        " ".join(w for w in words[:3] if not w.startswith("-")) for words in commands_in_guide()
    }
    for needed in (
        "dialognet migrate",
        "dialognet replay",
        "dialognet reporting rebuild",
        "dialognet token create",
        "dialognet token revoke",
        "dialognet token list",
    ):
        assert any(command.startswith(needed) for command in given), needed


@pytest.mark.parametrize("words", commands_in_guide(), ids=" ".join)
def test_each_command_and_option_exists(words: list[str]) -> None:
    command, rest = resolve(words)
    assert not hasattr(command, "commands"), f"{' '.join(words)}: no such command"
    known = {option for parameter in command.params for option in parameter.opts}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{' '.join(words)}: {word}"


def test_every_file_the_guide_names_exists() -> None:
    named = set(REPOSITORY_PATH.findall(GUIDE.read_text()))
    assert "deploy/k8s/ops/kafka-client.yaml" in named
    # deploy/.env is the operator's copy of deploy/.env.example (git-ignored).
    missing = {
        path
        for path in named
        if not (ROOT / path).exists() and not (ROOT / f"{path}.example").exists()
    }
    assert missing == set()
