"""Waiting for async work in tests: poll a condition until a deadline, never sleep a fixed time."""

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.02
) -> None:
    """Return once `check()` is true; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(interval)
