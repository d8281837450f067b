"""Composition root of the mail sink: one process, one event loop serving SMTP (aiosmtpd) and
HTTP (the pages, the JSON API, health and /metrics), the messages in `<data_dir>/mailbox/`."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from services.runtime import http
from services.runtime.mailbox import api, pages
from services.runtime.mailbox.messages import Mailbox
from services.runtime.mailbox.smtp import start_smtp_server
from services.runtime.mailbox.store import MessageStore
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "mailbox"
MAILBOX_DIR = "mailbox"
# Python 3.12+ waits here for open SMTP connections: an idle client would hold up the stop
# for as long as aiosmtpd's idle timeout (5 minutes).
SMTP_CLOSE_SECONDS = 5.0


@asynccontextmanager
async def running(app: FastAPI, settings: Settings, mailbox: Mailbox) -> AsyncIterator[None]:
    await asyncio.to_thread(mailbox.store.open)
    smtp_server = await start_smtp_server(settings, mailbox)
    app.state.smtp_server = smtp_server
    log.info(
        "mailbox ready: SMTP on %s:%d, web on port %d",
        settings.mailbox_host,
        settings.mailbox_smtp_port,
        settings.mailbox_port,
    )
    try:
        yield
    finally:
        smtp_server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(smtp_server.wait_closed(), SMTP_CLOSE_SECONDS)


def create_api(settings: Settings) -> FastAPI:
    """The FastAPI application: pages, JSON API, health and /metrics."""
    mailbox = Mailbox(MessageStore(settings.data_dir / MAILBOX_DIR))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(app, settings, mailbox):
            yield

    app = FastAPI(
        title="dialognet mailbox",
        version="1",
        description="Every message sent to the embedded SMTP sink of `dialognet up`.",
        lifespan=lifespan,
        # As in the registration service: our metrics are Prometheus, not OpenTelemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.mailbox = mailbox
    http.install_problem_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)

    async def smtp_listening() -> None:
        if not app.state.smtp_server.is_serving():
            raise ConnectionError("the SMTP server is not listening")

    async def store_writable() -> None:
        await asyncio.to_thread(mailbox.store.check_writable)

    http.install_health_and_metrics(app, {"smtp": smtp_listening, "store": store_writable})
    return app


def create_app(settings: Settings) -> ASGIApp:
    return http.RequestMetrics(http.BodySizeLimit(create_api(settings)), SERVICE)


def serve(settings: Settings) -> None:
    """Run the sink until SIGTERM/SIGINT."""
    http.serve(
        create_app(settings),
        host=settings.mailbox_host,
        port=settings.mailbox_port,
        log_level=settings.log_level,
    )
