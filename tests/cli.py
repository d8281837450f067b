"""Run the `dialognet` command as a user would: a subprocess pointed at a test's platform."""

import os
import subprocess
import sys
from pathlib import Path

from services.runtime.settings import Settings


def run_dialognet(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dialognet ARGS` in `cwd`, finding the test's database, broker and topics via DIALOGNET_*."""
    env = {
        **os.environ,
        "DIALOGNET_KAFKA_BOOTSTRAP": settings.bootstrap(),
        "DIALOGNET_TOPIC_PREFIX": settings.topic_prefix,
        "DIALOGNET_DATA_DIR": str(cwd / ".dialognet"),
    }
    if settings.database_url is not None:
        env["DIALOGNET_DATABASE_URL"] = settings.database_url.get_secret_value()
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
