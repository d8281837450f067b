"""Composition root of the registration service: settings → pool → broker → HTTP app."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp

from schemas.topics import Topic, topic_name
from services.registration.domain.errors import DomainError
from services.registration.http import forums, organizations, registrations
from services.registration.http.fast_path import RegistrationFastPath
from services.registration.http.problems import domain_error_problem
from services.registration.intake import CONSUMER, IntakeConsumer
from services.registration.services import Services
from services.registration.store import SCHEMA, legacy_tokens
from services.registration.web import site
from services.registration.web.staff import access as staff_access
from services.registration.web.staff import site as staff_site
from services.runtime import auth, http, signing_keys
from services.runtime.access.database import AccessDatabase
from services.runtime.consumer import Subscription
from services.runtime.csrf import CsrfProtection
from services.runtime.host import ServiceHost, hosted
from services.runtime.ratelimit import RateLimiter
from services.runtime.settings import Settings, load_settings

log = logging.getLogger(__name__)

SERVICE = "registration"
MIGRATIONS = "services.registration.migrations"
# The intake consumer's name in /health/ready.
INTAKE_CONSUMER = "intake_consumer"


def subscribe_intake(
    host: ServiceHost, intake_consumer: IntakeConsumer
) -> Subscription[dict[str, Any]]:
    """The intake consumer on the runtime's wrapper: each command ends in its facts, a
    rejection, a dead letter, or a retry; none is skipped."""
    return host.subscribe(
        INTAKE_CONSUMER,
        [topic_name(Topic.INTAKE, host.settings.topic_prefix)],
        consumer=CONSUMER,
        handler=intake_consumer.handle,
        fetch_max_wait_ms=host.settings.kafka_intake_fetch_max_wait_ms,
    )


@asynccontextmanager
async def running(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    async with hosted(settings, service=SERVICE, schema=SCHEMA, migrations=MIGRATIONS) as host:
        async with host.pool.acquire() as conn:
            cancel_secret = await signing_keys.signing_key(conn, SCHEMA, "cancel_token")
            # The pages' CSRF tokens get their own key beside it: one of them leaking (or being
            # rotated) never touches the other.
            csrf_key = await signing_keys.signing_key(conn, SCHEMA, "csrf")
            session_key = await signing_keys.signing_key(conn, SCHEMA, "staff_session")
        await _move_legacy_tokens(host.pool, host.access)
        services = Services.on(host.pool, cancel_secret)
        subscribe_intake(host, IntakeConsumer(services))
        await host.start()
        app.state.settings = settings
        app.state.host = host
        app.state.services = services
        app.state.pool = host.pool
        auth.install(app.state, settings, host.access.pool)
        app.state.rate_limiter = RateLimiter(settings.public_rate_limit_per_minute)
        secure = settings.public_base_url.startswith("https://")
        app.state.csrf = CsrfProtection(csrf_key, secure_cookie=secure)
        app.state.staff_sessions = staff_access.sessions(
            session_key, settings.staff_session_hours, secure_cookie=secure
        )
        log.info("registration service ready")
        yield


async def _move_legacy_tokens(pool: asyncpg.Pool, access_database: AccessDatabase) -> None:
    async with pool.acquire() as conn, access_database.pool.acquire() as access_conn:
        moved = await legacy_tokens.move_to_access_store(conn, access_conn)
    if moved:
        log.info("moved %d tokens from registration.access_tokens to the access store", moved)


async def _on_domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    return domain_error_problem(error)


def create_api(settings: Settings) -> FastAPI:
    """The FastAPI application: every route, its handlers, the pages, health and /metrics."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(app, settings):
            yield

    app = FastAPI(
        title="dialognet registration",
        version="1",
        description="Organisations, forums and registrations of the dialogue network.",
        lifespan=lifespan,
        generate_unique_id_function=http.operation_id,
        # FastAPI's native OpenTelemetry is on by default and costs every request; our metrics
        # are Prometheus (services.runtime.metrics). Tracing can be wired explicitly later.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    http.install_problem_handlers(app)
    app.add_exception_handler(DomainError, _on_domain_error)
    for router in (organizations.router, forums.router, registrations.router):
        app.include_router(router)
    site.install(app)  # the public pages and their stylesheet
    staff_site.install(app)  # the staff console at /staff/

    http.install_health_and_metrics(app, lambda: app.state.host.checks())
    return app


def create_app(settings: Settings) -> ASGIApp:
    """What the server runs: request metrics around everything (413s are counted too), the
    body size limit, then the registration fast path, then FastAPI. The fast path sits outside
    FastAPI's own middleware layers on purpose: under load their per-message wrapping is a
    large share of the endpoint's CPU."""
    api = create_api(settings)
    return http.RequestMetrics(http.BodySizeLimit(RegistrationFastPath(api, api.state)), SERVICE)


def app_from_environment() -> ASGIApp:
    """The app of one worker process; each reads the same DIALOGNET_* settings."""
    return create_app(load_settings())


def serve(settings: Settings) -> None:
    """Run the service until SIGTERM/SIGINT.

    With several workers each process is a full replica (its own pool, relay and intake
    consumer), exactly like several containers: the relay lock and the consumer group make
    that safe.
    """
    workers = settings.registration_workers
    http.serve(
        f"{__name__}:app_from_environment" if workers > 1 else create_app(settings),
        workers=workers,
        host=settings.registration_host,
        port=settings.registration_port,
        log_level=settings.log_level,
    )
