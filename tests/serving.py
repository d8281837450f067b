"""Serving an ASGI app in the test's event loop with uvicorn, on a real port, until a block ends."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from services.runtime import http

STARTUP_TIMEOUT_SECONDS = 30.0


@contextlib.asynccontextmanager
async def served(app: ASGIApp, port: int, what: str) -> AsyncIterator[str]:
    """Its lifespan runs too; yields the base URL. A start-up error is raised here."""
    # With the options every service's serve() runs uvicorn with (keep-alive, forwarded
    # headers left to the app), so a test's clients meet the server production runs.
    options = http.server_options(app, host="127.0.0.1", port=port, log_level="warning")
    config = uvicorn.Config(**options, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start")
        await asyncio.sleep(0.02)  # polling interval while uvicorn starts
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
