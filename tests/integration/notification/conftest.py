"""The notification service over the real stack: the registration service (which makes the
facts), the notification service and the mail sink (a real SMTP server keeping every message),
all in the test's event loop, on one test database and its own topics."""

import contextlib
import email
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.notification.app import create_app as notification_app
from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN
from tests.integration.conftest import RunningService, running_registration
from tests.mail_sink import RunningMailbox, running_mailbox
from tests.polling import until
from tests.serving import served

MAIL_WITHIN_SECONDS = 30.0
STAFF = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


@dataclass
class Platform:
    """Registration, notification and the mail sink, started on one settings."""

    settings: Settings
    registration: RunningService
    notification: httpx.AsyncClient  # with the staff token
    mailbox: RunningMailbox

    async def messages(self, to: str) -> list[dict[str, Any]]:
        """Every message the sink holds for `to`, oldest first."""
        found = await self.mailbox.http.get("/api/messages", params={"to": to, "limit": 200})
        assert found.status_code == 200, found.text
        items: list[dict[str, Any]] = found.json()["items"]
        return list(reversed(items))

    async def mail_to(
        self, to: str, count: int = 1, *, timeout: float = MAIL_WITHIN_SECONDS
    ) -> list[EmailMessage]:
        """The first `count` messages to `to`, parsed, once they all arrived."""

        async def arrived() -> bool:
            return len(await self.messages(to)) >= count

        await until(arrived, timeout, f"{count} mail(s) to {to}", interval=0.1)
        return [await self.raw(item["id"]) for item in (await self.messages(to))[:count]]

    async def raw(self, message_id: str) -> EmailMessage:
        response = await self.mailbox.http.get(f"/api/messages/{message_id}/raw")
        assert response.status_code == 200, response.text
        parsed = email.message_from_bytes(response.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    async def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        response = await self.notification.get(
            "/v1/deliveries", params={**filters, "limit": "1000"}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def delivery_of(
        self, predicate: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first delivery `predicate` matches, once there is one."""
        found: list[dict[str, Any]] = []

        async def exists() -> bool:
            found[:] = [item for item in await self.deliveries() if predicate(item)]
            return bool(found)

        await until(exists, timeout, what, interval=0.1)
        return found[0]


def platform_settings(base: Settings, **overrides: Any) -> Settings:
    smtp_port, mailbox_port, notification_port = free_port(), free_port(), free_port()
    return base.model_copy(
        update={
            "mailbox_port": mailbox_port,
            "mailbox_smtp_port": smtp_port,
            "smtp_url": SecretStr(f"smtp://127.0.0.1:{smtp_port}"),
            "notification_port": notification_port,
            "notification_public_base_url": f"http://127.0.0.1:{notification_port}",
            "mail_from": "Dialognetzwerk <dialognetz@polizei.example>",
            "notification_poll_interval_seconds": 0.2,
            **overrides,
        }
    )


@contextlib.asynccontextmanager
async def running_platform(settings: Settings) -> AsyncIterator[Platform]:
    async with (
        running_mailbox(settings) as mailbox,
        running_registration(settings) as registration,
        served(notification_app(settings), settings.notification_port, "notification") as url,
        httpx.AsyncClient(base_url=url, headers=STAFF, timeout=30) as notification,
    ):
        yield Platform(settings, registration, notification, mailbox)


@pytest.fixture(scope="module")
async def platform(module_settings: Settings) -> AsyncIterator[Platform]:
    """One platform per module: tests isolate by their own forums and addresses."""
    async with running_platform(platform_settings(module_settings)) as running:
        yield running


def deadline_passed(start: float, seconds: float) -> bool:
    return time.monotonic() - start > seconds
