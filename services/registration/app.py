"""Composition root of the registration service: settings → pool → broker → HTTP app."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request, Response
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY
from starlette.types import ASGIApp

from schemas.topics import Topic, topic_name
from services.registration.domain.errors import DomainError
from services.registration.http import forums, organizations, registrations
from services.registration.http.auth import TokenRoles
from services.registration.http.fast_path import RegistrationFastPath
from services.registration.http.problems import domain_error_problem
from services.registration.intake import CONSUMER, IntakeConsumer
from services.registration.services import Services
from services.registration.store import SCHEMA, access
from services.registration.web import site
from services.runtime import db, http, kafka
from services.runtime.csrf import CsrfProtection
from services.runtime.outbox import relay_for
from services.runtime.ratelimit import RateLimiter
from services.runtime.settings import Settings, load_settings

log = logging.getLogger(__name__)

SERVICE = "registration"
MIGRATIONS = "services.registration.migrations"


def build_broker(settings: Settings, consumer: IntakeConsumer) -> KafkaBroker:
    broker = KafkaBroker(
        settings.bootstrap(),
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        middlewares=[
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name="dialognet_registration")
        ],
        log_level=logging.DEBUG,  # FastStream logs each message at this level
    )
    # MANUAL: the handler acknowledges only after the inbox transaction committed (or the DLQ
    # accepted the message); a transient failure nacks, so nothing is lost or skipped.
    broker.subscriber(
        topic_name(Topic.INTAKE, settings.topic_prefix),
        group_id=f"{settings.kafka_consumer_group_prefix}{CONSUMER}",
        ack_policy=AckPolicy.MANUAL,
        **{
            **kafka.consumer_options(settings),
            "fetch_max_wait_ms": settings.kafka_intake_fetch_max_wait_ms,
        },
    )(consumer.handle)
    return broker


@asynccontextmanager
async def running(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    pool = await db.create_pool(
        settings.service_database_url(SERVICE),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
    )
    async with pool.acquire() as conn:
        await db.migrate(conn, schema=SCHEMA, package=MIGRATIONS)
        cancel_secret = await access.signing_key(conn, "cancel_token")
        # The pages' CSRF tokens get their own key beside it: one of them leaking (or being
        # rotated) never touches the other.
        csrf_key = await access.signing_key(conn, "csrf")
    await kafka.ensure_topics(settings)
    producer = kafka.new_producer(settings)
    await producer.start()
    services = Services.on(pool, cancel_secret)
    relay = relay_for(settings, pool=pool, producer=producer, schema=SCHEMA)
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
    broker = build_broker(settings, IntakeConsumer(services, producer, settings.topic_prefix))
    await broker.start()
    app.state.settings = settings
    app.state.services = services
    app.state.pool = pool
    app.state.broker = broker
    app.state.token_roles = TokenRoles(
        pool, _secret(settings), cache_seconds=settings.token_cache_seconds
    )
    app.state.rate_limiter = RateLimiter(settings.public_rate_limit_per_minute)
    app.state.csrf = CsrfProtection(
        csrf_key, secure_cookie=settings.public_base_url.startswith("https://")
    )
    log.info("registration service ready")
    try:
        yield
    finally:
        await broker.stop()
        relay_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay_task
        await producer.stop()
        await pool.close()


def _secret(settings: Settings) -> str | None:
    return settings.admin_token.get_secret_value() if settings.admin_token else None


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
        # FastAPI's native OpenTelemetry is on by default and costs every request; our metrics
        # are Prometheus (services.runtime.metrics). Tracing can be wired explicitly later.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    http.install_problem_handlers(app)
    app.add_exception_handler(DomainError, _on_domain_error)
    for router in (organizations.router, forums.router, registrations.router):
        app.include_router(router)
    site.install(app)  # the public pages and their stylesheet

    async def database_ready() -> None:
        await db.ping(app.state.pool)

    async def broker_ready() -> None:
        if not await app.state.broker.ping(timeout=2.0):
            raise ConnectionError("broker not reachable")

    http.install_health_and_metrics(app, {"database": database_ready, "broker": broker_ready})
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
    """Run the service until SIGTERM/SIGINT (uvicorn handles both and runs the lifespan exit).

    With several workers each process is a full replica (its own pool, relay and intake
    consumer), exactly like several containers: the relay lock and the consumer group make
    that safe.
    """
    workers = settings.registration_workers
    uvicorn.run(
        f"{__name__}:app_from_environment" if workers > 1 else create_app(settings),
        factory=workers > 1,
        workers=workers,
        host=settings.registration_host,
        port=settings.registration_port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # Forwarded headers are ours to judge (settings.trust_forwarded_for), not uvicorn's.
        proxy_headers=False,
        log_level=settings.log_level.lower(),
    )
