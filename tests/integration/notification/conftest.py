"""The notification service over the real stack: the registration service (which makes the
facts), the notification service and the mail sink (a real SMTP server keeping every message),
all in the test's event loop, on one test database and its own topics."""

import contextlib
import email
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
PENDING = ("queued", "sending", "retrying")
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Received:
    """A message the sink holds, with the delivery that sent it (matched by Message-ID)."""

    kind: str
    delivery: JsonObject
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def language(self) -> str:
        return str(self.message["Content-Language"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())  # type: ignore[attr-defined]


@dataclass
class Platform:
    """Registration, notification and the mail sink, started on one settings."""

    settings: Settings
    registration: RunningService
    notification: httpx.AsyncClient  # with the staff token
    mailbox: RunningMailbox

    async def messages(self, to: str) -> list[JsonObject]:
        """Every message the sink holds for `to`, oldest first."""
        found = await self.mailbox.http.get("/api/messages", params={"to": to, "limit": 1000})
        assert found.status_code == 200, found.text
        items: list[JsonObject] = found.json()["items"]
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

    async def deliveries(self, **filters: str) -> list[JsonObject]:
        """Every delivery the staff API lists with these filters (following its pages)."""
        items: list[JsonObject] = []
        params: dict[str, str] = {**filters, "limit": "1000"}
        while True:
            response = await self.notification.get("/v1/deliveries", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            items.extend(page["items"])
            if page["next"] is None:
                return items
            params["cursor"] = page["next"]

    async def delivery_of(
        self, predicate: Callable[[JsonObject], bool], what: str, timeout: float = 30.0
    ) -> JsonObject:
        """The first delivery `predicate` matches, once there is one."""
        found: list[JsonObject] = []

        async def exists() -> bool:
            found[:] = [item for item in await self.deliveries() if predicate(item)]
            return bool(found)

        await until(exists, timeout, what, interval=0.1)
        return found[0]

    async def settled(
        self,
        count: int,
        timeout: float = MAIL_WITHIN_SECONDS,
        counting: Callable[[JsonObject], bool] = lambda delivery: True,
        **filters: str,
    ) -> list[JsonObject]:
        """The deliveries matching `filters` once at least `count` of them are `counting` and
        none is still to be sent (queued, sending, retrying)."""
        found: list[JsonObject] = []

        async def done() -> bool:
            found[:] = await self.deliveries(**filters)
            counted = sum(1 for delivery in found if counting(delivery))
            return counted >= count and not any(d["status"] in PENDING for d in found)

        await until(done, timeout, f"{count} final deliveries for {filters}", interval=0.1)
        return found

    async def received(self, to: str) -> list[Received]:
        """Every message to `to`, oldest first, each with its kind (from its delivery)."""
        by_message_id = {d["message_id"]: d for d in await self.deliveries()}
        found = []
        for item in await self.messages(to):
            delivery = by_message_id[item["message_id"]]
            found.append(Received(delivery["kind"], delivery, await self.raw(item["id"])))
        return found

    async def received_once(self, to: str, kind: str, forum_id: str | None = None) -> Received:
        """The one message of `kind` to `to` (about `forum_id`), once it is there; fails if
        there are more."""

        def wanted(item: Received) -> bool:
            return item.kind == kind and forum_id in (None, item.delivery["forum_id"])

        async def arrived() -> bool:
            return any(wanted(item) for item in await self.received(to))

        await until(arrived, MAIL_WITHIN_SECONDS, f"{kind} to {to}", interval=0.1)
        found = [item for item in await self.received(to) if wanted(item)]
        assert len(found) == 1, [item.subject for item in found]
        return found[0]

    async def kinds_to(self, to: str) -> list[str]:
        return [item.kind for item in await self.received(to)]


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
async def running_notification(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The notification service in this event loop; a client with the staff token."""
    async with (
        served(notification_app(settings), settings.notification_port, "notification") as url,
        httpx.AsyncClient(base_url=url, headers=STAFF, timeout=30) as notification,
    ):
        yield notification


@contextlib.asynccontextmanager
async def running_platform(
    settings: Settings, *, notification_in_process: bool = True
) -> AsyncIterator[Platform]:
    """Mailbox, registration and notification in this event loop; without notification when
    the test runs it as its own process (tests.service_process) on the settings' port."""
    async with (
        running_mailbox(settings) as mailbox,
        running_registration(settings) as registration,
        contextlib.AsyncExitStack() as stack,
    ):
        if notification_in_process:
            notification = await stack.enter_async_context(running_notification(settings))
        else:
            notification = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{settings.notification_port}",
                    headers=STAFF,
                    timeout=30,
                )
            )
        yield Platform(settings, registration, notification, mailbox)


@pytest.fixture(scope="module")
async def platform(module_settings: Settings) -> AsyncIterator[Platform]:
    """One platform per module: tests isolate by their own forums and addresses."""
    async with running_platform(platform_settings(module_settings)) as running:
        yield running
