"""`dialognet emit` refuses a file before publishing, saying what is wrong with it."""

import json
from pathlib import Path

import pytest
import typer

from schemas.topics import Topic
from services.cli import emit_cmd


def _file(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "message.json"
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{}", "missing envelope fields: event_id, type, version, occurred_at, producer, data"),
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_a_file_that_is_no_envelope_is_refused(tmp_path: Path, content: str, reason: str) -> None:
    with pytest.raises(typer.BadParameter, match=reason):
        emit_cmd._validated(_file(tmp_path, content), Topic.INTAKE)


def test_a_fact_is_refused_on_the_intake_topic(tmp_path: Path) -> None:
    fact = {
        "event_id": "3f0b8f52-8d0e-4c55-9a4e-0d3c1b1e2a10",
        "type": "forum.cancelled",
        "version": 1,
        "occurred_at": "2026-11-28T09:15:00Z",
        "producer": "ops",
        "data": {},
    }
    with pytest.raises(typer.BadParameter, match="belongs on topic 'forums'"):
        emit_cmd._validated(_file(tmp_path, json.dumps(fact)), Topic.INTAKE)


@pytest.mark.parametrize("given", ["intake", "dialognet.intake"])
def test_the_topic_is_named_with_or_without_the_prefix(given: str) -> None:
    assert emit_cmd._topic(given, "dialognet.") is Topic.INTAKE


def test_an_unknown_topic_names_the_known_ones() -> None:
    with pytest.raises(typer.BadParameter, match="one of organizations, forums"):
        emit_cmd._topic("dialognet.nope", "dialognet.")
