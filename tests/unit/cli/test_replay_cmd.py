"""`dialognet replay --service`: registration's outbox by default, notification's on request, and
a bad value is one line naming the good ones, exit code 2, before anything is connected."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import replay_cmd
from services.cli.main import app
from services.cli.replay_cmd import DEFAULT_SERVICE, OUTBOXES
from tests.kafka.acls import PERMISSIONS


def test_registration_and_notification_have_an_outbox_registration_by_default() -> None:
    assert set(OUTBOXES) == {"registration", "notification"}
    assert DEFAULT_SERVICE == "registration"
    assert OUTBOXES["notification"].event_types() == ["notification.sent", "notification.failed"]


@pytest.mark.parametrize("service", ["registration", "notification"])
def test_an_outbox_publishes_to_the_topics_its_kafka_user_may_write(service: str) -> None:
    assert set(OUTBOXES[service].topics) == set(PERMISSIONS[service].writes)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (
            ["--service", "reporting"],
            "--service 'reporting' has no outbox to replay; one of: registration, notification",
        ),
        (["--service", ""], "--service '' has no outbox to replay"),
        (
            ["--service", "notification", "--type", "registration.made"],
            "--type 'registration.made' is no event of notification's outbox;"
            " one of: notification.sent, notification.failed",
        ),
        (["--type", "notification.sent"], "is no event of registration's outbox; one of:"),
        (["--type", "register"], "--type 'register' is no event of registration's outbox"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_code_2(
    arguments: list[str], said: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["replay", *arguments, "--data-dir", str(tmp_path)])

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = result.stderr.splitlines()
    assert line.startswith("dialognet replay: ")
    assert said in line
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("service", "again"),
    [
        ("registration", "dialognet replay --failed"),
        ("notification", "dialognet replay --failed --service notification"),
    ],
)
def test_the_hint_about_failed_events_names_the_command_for_that_outbox(
    service: str, again: str, capsys: pytest.CaptureFixture[str]
) -> None:
    replay_cmd._warn_of_failed(OUTBOXES[service], 3)

    said = capsys.readouterr().err
    assert f"failure_reason in {service}.outbox" in said
    assert said.rstrip().endswith(f"after fixing that, {again}")
