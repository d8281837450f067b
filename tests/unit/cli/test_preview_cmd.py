"""`dialognet notification preview` writes an example message that a mail client can open."""

import email
from email import policy
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.notification.domain.mails import Kind


def test_preview_writes_an_eml_file(tmp_path: Path) -> None:
    out = tmp_path / "invite.eml"

    result = CliRunner().invoke(
        app,
        ["notification", "preview", "registration_confirmed", "--lang", "en", "--out", str(out)],
    )

    assert result.exit_code == 0, result.output
    message = email.message_from_bytes(out.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Registration confirmed: Racial Profiling: Erfahrungen und Wege"
    assert message["Content-Language"] == "en"
    assert [part.get_filename() for part in message.iter_attachments()] == ["invite.ics"]


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_a_preview(kind: Kind, language: str) -> None:
    result = CliRunner().invoke(app, ["notification", "preview", kind.value, "--lang", language])

    assert result.exit_code == 0, result.output
    message = email.message_from_bytes(result.stdout_bytes, policy=policy.default)
    assert message["Content-Language"] == language
    assert message.get_body(("html",)) is not None


def test_an_unknown_kind_is_refused_naming_the_kinds() -> None:
    result = CliRunner().invoke(app, ["notification", "preview", "registration_made"])

    assert result.exit_code == 2
    assert "registration_confirmed" in result.output
