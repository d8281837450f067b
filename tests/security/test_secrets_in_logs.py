"""No secret in any log: over a run that signs in to the console, makes an intake token and
registers with it (a cancel token), cancels through the cancel page and the API, and sends the
mails through a relay that requires SMTP AUTH, every service's log records (DEBUG and up, the
libraries' too) hold none of the admin token, the intake token, the cancel token, the SMTP
password or the session cookie's value."""

import logging
import secrets
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from services.registration.web.staff.access import COOKIE_NAME
from tests.conftest import TEST_ADMIN_TOKEN, Infra, fresh_database
from tests.conftest import test_settings as settings_for  # not collected as a test here
from tests.html_page import read_page
from tests.integration.notification.smtp_gate import SmtpGate, smtp_gate
from tests.integration.registration import bodies
from tests.integration.registration.console import console_of
from tests.integration.registration.steps import new_forum, ok
from tests.security.conftest import WholePlatform, running_whole, whole_settings

SMTP_USER = "dialognet-relay"
# The test's own HTTP client logs the URLs it asks for (cancel links with their token); it is
# the caller, no part of any service, and no service uses httpx.
CALLER_LOGGERS = ("httpx", "httpcore")


@pytest.fixture
async def behind_login(
    infra: Infra,
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> AsyncIterator[tuple[WholePlatform, SmtpGate]]:
    """The whole platform, its mail going through a relay that requires a login; its logs
    captured at DEBUG from before it starts (start-up is where a URL would be logged), and what
    it writes to stdout and stderr (FastStream logs there through its own handler)."""
    caplog.set_level(logging.DEBUG)
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        base = settings_for(infra, database_url, prefix, tmp_path_factory.mktemp("logs"))
        settings = whole_settings(base)
        async with smtp_gate(settings.mailbox_smtp_port) as gate:
            password = f"relay-{secrets.token_urlsafe(16)}"
            gate.credentials = (SMTP_USER, password)
            url = f"smtp://{SMTP_USER}:{password}@127.0.0.1:{gate.port}"
            through_gate = settings.model_copy(update={"smtp_url": SecretStr(url)})
            async with running_whole(through_gate) as whole:
                yield whole, gate


def _logged(records: list[logging.LogRecord]) -> str:
    """Everything the records say: message, arguments, exception and stack text."""
    parts = []
    for record in records:
        if record.name.startswith(CALLER_LOGGERS):
            continue
        parts += [
            record.getMessage(),
            repr(record.args),
            record.exc_text or "",
            record.stack_info or "",
        ]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


async def _secrets_used(whole: WholePlatform) -> dict[str, str]:
    """Runs the journey; the secrets it handled, by name."""
    service = whole.services.registration
    async with console_of(service) as console:
        session = console.client.cookies[COOKIE_NAME]
        made = await console.send("/staff/tokens", "/staff/tokens", name="partner CRM")
        assert made.status_code == 201, made.text
    intake = _token_on_page(made.text)
    forum = await new_forum(service)
    address = bodies.unique_email("geheim")
    registered = ok(
        await service.public.post(
            f"/v1/forums/{forum['id']}/registrations",
            json=bodies.registration(email=address),
            headers={"Authorization": f"Bearer {intake}"},
        ),
        201,
    )
    cancel_token = registered["cancel_token"]
    page = await service.public.get(
        f"/registrations/{registered['id']}/cancel", params={"token": cancel_token}
    )
    assert page.status_code == 200, page.text
    cancelled = await service.public.post(
        f"/v1/registrations/{registered['id']}/cancel", params={"token": cancel_token}
    )
    ok(cancelled)
    await whole.services.received_once(address, "registration_cancelled")
    return {
        "admin token": TEST_ADMIN_TOKEN,
        "intake token": intake,
        "cancel token": cancel_token,
        "session cookie": session,
    }


def _token_on_page(html: str) -> str:
    """The intake token the console shows once, in the page's read-only field."""
    field = read_page(html).by_id("token")
    assert field is not None, html
    return field.attrs["value"]


async def test_no_token_password_or_cookie_in_any_log(
    behind_login: tuple[WholePlatform, SmtpGate],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    whole, gate = behind_login
    used = await _secrets_used(whole)
    assert gate.credentials is not None
    used["SMTP password"] = gate.credentials[1]

    records = caplog.get_records("setup") + caplog.get_records("call")  # start-up and the run
    written = capfd.readouterr()
    logged = "\n".join([_logged(records), written.out, written.err])
    assert gate.logins >= 1  # the mails went through the login
    # The services' own loggers and their libraries' were captured, at DEBUG too.
    names = {record.name.split(".")[0] for record in records}
    assert {"services", "aiokafka"} <= names, names
    assert "assigned to partitions" in written.out  # FastStream's lines
    assert any(record.levelno == logging.DEBUG for record in records)
    assert [name for name, value in used.items() if value in logged] == []
