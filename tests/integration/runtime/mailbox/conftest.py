"""The mail sink running in-process: real SMTP and HTTP on free ports, messages in tmp_path."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.mail_sink import RunningMailbox, running_mailbox


@pytest.fixture
def mailbox_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, mailbox_port=free_port(), mailbox_smtp_port=free_port())


@pytest.fixture
async def mailbox(mailbox_settings: Settings) -> AsyncIterator[RunningMailbox]:
    async with running_mailbox(mailbox_settings) as running:
        yield running
