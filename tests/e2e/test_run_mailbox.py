"""`dialognet run mailbox` as a user runs it: the sink alone, without database or broker."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.runtime.embedded import free_port
from tests.mail_helpers import confirmation, send
from tests.polling import until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

EXIT_WITHIN = 30.0


async def test_the_mailbox_runs_alone_and_keeps_mail_in_the_data_dir(tmp_path: Path) -> None:
    web_port, smtp_port = free_port(), free_port()
    # Nothing says where a database or broker is: the mailbox needs neither.
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIALOGNET_")}
    env |= {
        "DIALOGNET_DATA_DIR": str(tmp_path / "data"),
        "DIALOGNET_MAILBOX_PORT": str(web_port),
        "DIALOGNET_MAILBOX_SMTP_PORT": str(smtp_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "mailbox"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as client:

            async def ready() -> bool:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    return (await client.get("/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(ready, 60, "the mailbox is ready", interval=0.1)
            await send(smtp_port, confirmation(), ["ana@example.org"])
            listed = (await client.get("/api/messages")).json()
    finally:
        process.send_signal(signal.SIGTERM)
        # Stops within the deadline (else TimeoutExpired); uvicorn shuts down gracefully and
        # then re-raises the signal, so the code is -SIGTERM rather than 0.
        process.wait(EXIT_WITHIN)

    assert listed["total"] == 1
    assert (tmp_path / "data" / "mailbox" / listed["items"][0]["id"] / "message.eml").exists()
