"""Composition root of the notification service: settings → host (pool, access store, producer,
outbox relay, broker) → the fact consumer, the sender and the reminders → HTTP app."""

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email.utils import parseaddr
from uuid import UUID

from fastapi import FastAPI
from starlette.types import ASGIApp

from schemas.topics import Topic, topic_name
from services.notification.compose import available_kinds
from services.notification.domain.mails import Kind
from services.notification.domain.planning import Links
from services.notification.facts import CONSUMER, FactConsumer, Policy
from services.notification.http import deliveries
from services.notification.mailer import Mailer, SmtpTarget
from services.notification.reminders import Reminders
from services.notification.sender import Sender, SenderPolicy
from services.notification.store import SCHEMA
from services.notification.unsubscribe import UnsubscribeTokens
from services.notification.web import pages
from services.notification.writer import MailWriter
from services.runtime import auth, http, signing_keys
from services.runtime.host import ServiceHost, hosted
from services.runtime.settings import PlatformNotFound, Settings

log = logging.getLogger(__name__)

SERVICE = "notification"
MIGRATIONS = "services.notification.migrations"
FACT_TOPICS = (Topic.ORGANIZATIONS, Topic.FORUMS, Topic.REGISTRATIONS)
# The registrant's cancel page of the registration service (a contract between the two: the
# page lives there, the link is written here; tests check both spell it alike).
CANCEL_PAGE = "{base}/registrations/{registration_id}/cancel?token={token}"
FORUM_PAGE = "{base}/forums/{forum_id}"
# Deliveries on their way per SMTP connection: enough that a connection never waits for the
# next mail to be claimed and written (bench/README.md).
IN_FLIGHT_PER_CONNECTION = 8


def smtp_target(settings: Settings) -> SmtpTarget:
    """Where mail goes; PlatformNotFound (said at start, by name) when nothing is configured."""
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
        raise PlatformNotFound(
            "no mail relay configured: set DIALOGNET_SMTP_URL (smtp://host:port), or start "
            "`dialognet up`, whose mail sink takes every message"
        )
    return SmtpTarget.from_url(settings.smtp_url.get_secret_value())


def check_templates() -> None:
    """German and English must have every kind; a language folder missing one falls back to
    German for it, but these two are the contract."""
    kinds = available_kinds()
    for language in ("de", "en"):
        missing = set(Kind) - kinds.get(language, frozenset())
        if missing:
            raise RuntimeError(f"templates/{language}/ lacks {sorted(missing)}")


def links(settings: Settings, tokens: UnsubscribeTokens) -> Links:
    public = settings.public_base_url.rstrip("/")
    own = settings.notification_public_base_url.rstrip("/")

    def cancel_url(registration_id: UUID, token: str) -> str:
        return CANCEL_PAGE.format(base=public, registration_id=registration_id, token=token)

    return Links(
        registration_url=lambda forum_id: FORUM_PAGE.format(base=public, forum_id=forum_id),
        cancel_url=cancel_url,
        unsubscribe_url=lambda hashed: f"{own}/unsubscribe?token={tokens.token(hashed)}",
    )


def mail_domain(settings: Settings) -> str:
    """The domain of DIALOGNET_MAIL_FROM: of every Message-ID and calendar UID."""
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "dialognet.invalid"


def subscribe_facts(host: ServiceHost, consumer: FactConsumer) -> None:
    prefix = host.settings.topic_prefix
    host.subscribe_batches(
        "fact_consumer",
        [topic_name(topic, prefix) for topic in FACT_TOPICS],
        consumer=CONSUMER,
        handler=consumer,
        max_records=host.settings.notification_batch_max_records,
        batch_timeout_ms=host.settings.notification_batch_timeout_ms,
    )


@asynccontextmanager
async def running(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    target = smtp_target(settings)
    check_templates()
    async with contextlib.AsyncExitStack() as stack:
        # Stopped in reverse: the host (and with it the sender) before the mailer and the
        # writing process it uses.
        writer = MailWriter(settings.mail_from)
        stack.push_async_callback(writer.close)
        await writer.start()
        mailer = Mailer(
            target,
            settings.notification_smtp_connections,
            # With the wait for a connection (as long), a claim ends well before the timeout.
            send_timeout=settings.notification_sending_timeout_seconds / 3,
        )
        stack.push_async_callback(mailer.close)
        host = await stack.enter_async_context(
            hosted(
                settings,
                service=SERVICE,
                schema=SCHEMA,
                migrations=MIGRATIONS,
                relay_linger_seconds=settings.notification_outbox_linger_ms / 1000,
            )
        )
        async with host.pool.acquire() as conn:
            key = await signing_keys.signing_key(conn, SCHEMA, "unsubscribe")
        tokens = UnsubscribeTokens(key)
        policy = planning_policy(settings, tokens)
        sender = Sender(
            host.pool,
            writer,
            mailer,
            sender_policy(settings),
            in_flight=settings.notification_smtp_connections * IN_FLIGHT_PER_CONNECTION,
        )
        reminders = Reminders(
            host.pool, policy, settings.notification_poll_interval_seconds, sender.wake
        )
        subscribe_facts(host, FactConsumer(host.pool, policy))
        host.run_in_background("sender", sender.run)
        host.run_in_background("reminders", reminders.run)
        await host.start()
        app.state.host = host
        app.state.sender = sender
        app.state.mailer = mailer
        app.state.unsubscribe_tokens = tokens
        auth.install(app.state, settings, host.access.pool)
        log.info("notification service ready, mail to %s", target)
        yield


def planning_policy(settings: Settings, tokens: UnsubscribeTokens) -> Policy:
    return Policy(
        links=links(settings, tokens),
        max_age=timedelta(seconds=settings.notification_max_age_seconds),
        reminder_lead=timedelta(seconds=settings.notification_reminder_lead_seconds),
        staff_mailbox=settings.staff_mailbox,
        mail_domain=mail_domain(settings),
    )


def sender_policy(settings: Settings) -> SenderPolicy:
    return SenderPolicy(
        mail_from=settings.mail_from,
        max_age=timedelta(seconds=settings.notification_max_age_seconds),
        retry_for=timedelta(seconds=settings.notification_retry_for_seconds),
        sending_timeout=timedelta(seconds=settings.notification_sending_timeout_seconds),
        poll_seconds=settings.notification_poll_interval_seconds,
    )


def create_api(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(app, settings):
            yield

    app = FastAPI(
        title="dialognet notification",
        version="1",
        description="Automated e-mail to partners and registrants: deliveries and their states.",
        lifespan=lifespan,
        generate_unique_id_function=http.operation_id,
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    http.install_problem_handlers(app)
    app.include_router(deliveries.router)
    pages.install(app)

    def checks() -> dict[str, http.Check]:
        return {**app.state.host.checks(), "smtp": app.state.mailer.check}

    http.install_health_and_metrics(app, checks)
    return app


def create_app(settings: Settings) -> ASGIApp:
    return http.RequestMetrics(http.BodySizeLimit(create_api(settings)), SERVICE)


def serve(settings: Settings) -> None:
    """Run the service until SIGTERM/SIGINT; several copies share the work (consumer group,
    deliveries and reminders claimed with SKIP LOCKED, one relay at a time)."""
    http.serve(
        create_app(settings),
        host=settings.notification_host,
        port=settings.notification_port,
        log_level=settings.log_level,
    )
