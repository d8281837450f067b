"""A service as its own process (`dialognet run NAME`), for tests that must not share the event
loop with it: synchronous clients (schemathesis), SIGKILL in the middle of work."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from services.runtime.settings import Settings

READY_WITHIN_SECONDS = 60.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The DIALOGNET_* variables that give a child process the settings a test set (the rest
    keep their defaults there too)."""
    env: dict[str, str] = {}
    for name in settings.model_fields_set:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, tuple | list):
            text = ",".join(str(item) for item in value)
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"DIALOGNET_{name.upper()}"] = text
    return env


def start_service(
    settings: Settings, name: str, log_path: Path, *, log_level: str = "WARNING"
) -> "subprocess.Popen[bytes]":
    """`dialognet run NAME` with `settings`, its output appended to `log_path`; returns at once."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DIALOGNET_")},
        **settings_env(settings),
        "DIALOGNET_LOG_LEVEL": log_level,
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", name],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@dataclass
class ServiceProcess:
    process: "subprocess.Popen[bytes]"
    base_url: str
    log_path: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@contextlib.asynccontextmanager
async def service_process(
    settings: Settings, name: str, port: int, log_path: Path, *, log_level: str = "WARNING"
) -> AsyncIterator[ServiceProcess]:
    """`dialognet run NAME` with `settings`, ready when the block starts, stopped after it."""
    process = start_service(settings, name, log_path, log_level=log_level)
    running = ServiceProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        await _ready(running)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _ready(service: ServiceProcess) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    async with httpx.AsyncClient(base_url=service.base_url, timeout=2.0) as client:
        while True:
            if service.process.poll() is not None:
                raise AssertionError(
                    f"the service exited with {service.process.returncode}: "
                    f"{service.log_path.read_text()[-3000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/health/ready")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not ready in {READY_WITHIN_SECONDS}s, see {service.log_path}"
                )
            await asyncio.sleep(0.1)  # polling interval while the service starts
