"""The mail sink of `dialognet up` running in the test's event loop: real SMTP and HTTP on its
settings' ports, messages in its data dir — for the sink's own tests and every test that needs a
real SMTP server (notification)."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.runtime.mailbox.app import create_app
from services.runtime.settings import Settings
from tests.mail_helpers import send
from tests.serving import served


@dataclass
class RunningMailbox:
    settings: Settings
    http: httpx.AsyncClient

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "mailbox"

    async def send(self, raw: bytes, recipients: list[str], **options: Any) -> None:
        await send(self.settings.mailbox_smtp_port, raw, recipients, **options)

    async def metrics(self) -> str:
        return (await self.http.get("/metrics")).text

    async def only_message(self) -> dict[str, Any]:
        listed = (await self.http.get("/api/messages")).json()
        assert listed["total"] == 1, listed
        item: dict[str, Any] = listed["items"][0]
        return item


@contextlib.asynccontextmanager
async def running_mailbox(settings: Settings) -> AsyncIterator[RunningMailbox]:
    """Serve the sink with uvicorn (its lifespan starts SMTP) until the block ends."""
    async with (
        served(create_app(settings), settings.mailbox_port, "the mailbox") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield RunningMailbox(settings, client)
