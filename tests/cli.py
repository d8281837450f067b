"""Run the `dialognet` command as a user would: a subprocess pointed at a test's platform."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from services.runtime.settings import Settings

CLI_TIMEOUT_SECONDS = 60.0


async def run_dialognet(
    settings: Settings, cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`dialognet ARGS` in `cwd`, finding the test's database, broker and topics via DIALOGNET_*.

    Asynchronous on purpose: a test's service runs in the test's event loop, and a blocking
    wait would freeze it mid-work (a `replay` then waited for a relay that could not move)."""
    env = {
        **os.environ,
        "DIALOGNET_KAFKA_BOOTSTRAP": settings.bootstrap(),
        "DIALOGNET_TOPIC_PREFIX": settings.topic_prefix,
        "DIALOGNET_DATA_DIR": str(cwd / ".dialognet"),
    }
    if settings.database_url is not None:
        env["DIALOGNET_DATABASE_URL"] = settings.database_url.get_secret_value()
    argv = [sys.executable, "-m", "services.cli", *args]
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return subprocess.CompletedProcess(argv, process.returncode, out.decode(), err.decode())
