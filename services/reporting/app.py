"""Composition root of the reporting service: settings → pool → projection consumer → metrics
reader → HTTP app (reports, dashboard, health, /metrics)."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from services.reporting import metrics
from services.reporting.consumer import CONSUMER, ProjectionConsumer, consumed_topics
from services.reporting.http import reports
from services.reporting.projector import Projector
from services.reporting.scrape import MetricsReader
from services.reporting.store import SCHEMA
from services.reporting.web import site
from services.runtime import auth, http, signing_keys
from services.runtime.csrf import CsrfProtection
from services.runtime.group_lag import GroupLag
from services.runtime.host import ServiceHost, hosted
from services.runtime.sessions import Sessions
from services.runtime.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "reporting"
MIGRATIONS = "services.reporting.migrations"
# The projection consumer's name in /health/ready.
PROJECTION_CONSUMER = "projection_consumer"
HOURS = 3600


def subscribe_projections(host: ServiceHost) -> None:
    settings = host.settings
    host.subscribe_batches(
        PROJECTION_CONSUMER,
        consumed_topics(settings.topic_prefix),
        consumer=CONSUMER,
        handler=ProjectionConsumer(Projector(host.pool)),
        max_records=settings.reporting_batch_max_records,
        batch_timeout_ms=settings.reporting_batch_timeout_ms,
    )


@asynccontextmanager
async def running(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    async with hosted(settings, service=SERVICE, schema=SCHEMA, migrations=MIGRATIONS) as host:
        async with host.pool.acquire() as conn:
            session_key = await signing_keys.signing_key(conn, SCHEMA, "session")
            # Its own key: one leaking (or rotated) never touches the other.
            csrf_key = await signing_keys.signing_key(conn, SCHEMA, "csrf")
        subscribe_projections(host)
        lag = GroupLag(settings)
        await lag.start()
        try:
            await host.start()
            secure = settings.reporting_public_base_url.startswith("https://")
            app.state.settings = settings
            app.state.host = host
            app.state.pool = host.pool
            app.state.metrics_reader = MetricsReader(
                host.pool,
                lag,
                host.group_id(CONSUMER),
                consumed_topics(settings.topic_prefix),
                settings.topic_prefix,
                settings.reporting_metrics_cache_seconds,
            )
            auth.install(app.state, settings, host.access.pool)
            app.state.sessions = Sessions(
                session_key, settings.reporting_session_hours * HOURS, secure
            )
            app.state.csrf = CsrfProtection(csrf_key, secure_cookie=secure)
            log.info("reporting service ready")
            yield
        finally:
            # The registry is the process's: what runs in it next (another service, in the
            # tests) must not export this service's last numbers.
            metrics.COLLECTOR.clear()
            await lag.stop()


def create_app(settings: Settings) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(app, settings):
            yield

    app = FastAPI(
        title="dialognet reporting",
        version="1",
        description="Reports, metrics and the dashboard of the dialogue network, from its events.",
        lifespan=lifespan,
        generate_unique_id_function=http.operation_id,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    http.install_problem_handlers(app)
    app.include_router(reports.router)
    site.install(app)

    async def refresh_metrics() -> None:
        await app.state.metrics_reader.refresh()

    http.install_health_and_metrics(app, lambda: app.state.host.checks(), refresh_metrics)
    return http.RequestMetrics(http.BodySizeLimit(app), SERVICE)


def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT. Several replicas share the consumer group and the read models."""
    http.serve(
        create_app(settings),
        host=settings.reporting_host,
        port=settings.reporting_port,
        log_level=settings.log_level,
    )
