"""The data dir of `dialognet up`: its lock, the staff token and platform.json, which tells the
other `dialognet` commands run beside it where everything is."""

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from services.runtime.settings import ADMIN_TOKEN_FILE, Settings, platform_file

LOCK_FILE = "up.lock"


class DataDirInUse(RuntimeError):
    """Another `dialognet up` holds the data dir; the message names its pid."""


@contextlib.contextmanager
def locked(data_dir: Path) -> Iterator[None]:
    """One `up` a data dir: a second one would share, and on exit stop, the first one's
    PostgreSQL. The lock goes with the process, however it ends."""
    with (data_dir / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "?"
            raise DataDirInUse(
                f"another `dialognet up` (pid {owner}) is using {data_dir}; "
                "stop it first, or choose another --data-dir"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def admin_token(settings: Settings) -> str:
    """The staff token: configured, else stored in the data dir, else generated and stored."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = settings.data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    # Created with 0600 from the start: the token is never readable by others, not even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as token_file:
        token_file.write(token + "\n")
    return token


@contextlib.contextmanager
def platform_recorded(
    data_dir: Path, *, database_url: str, kafka_bootstrap: str, services: dict[str, str]
) -> Iterator[None]:
    """platform.json while the platform runs (see settings.load_settings), removed after."""
    recorded = {
        "kafka_bootstrap": kafka_bootstrap,
        "database_url": database_url,
        "services": services,
    }
    path = platform_file(data_dir)
    path.touch(mode=0o600)  # it may hold a database password
    path.write_text(json.dumps(recorded, indent=2) + "\n")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
