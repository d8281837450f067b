"""The services `dialognet up` starts and `dialognet run` runs: one entry each."""

from collections.abc import Callable
from enum import StrEnum
from importlib import import_module

from schemas.topics import Topic
from services.runtime.platform import PlatformService
from services.runtime.settings import Settings


def _no_mail_relay_configured(settings: Settings) -> bool:
    """The mail sink stands in for a mail relay only when DIALOGNET_SMTP_URL names none."""
    return not (settings.smtp_url and settings.smtp_url.get_secret_value())


def _mail_to_the_sink(settings: Settings) -> dict[str, str]:
    return {"DIALOGNET_SMTP_URL": f"smtp://127.0.0.1:{settings.mailbox_smtp_port}"}


PLATFORM_SERVICES: tuple[PlatformService, ...] = (
    PlatformService(
        name="registration",
        port_setting="registration_port",
        links=(("registration API", ""), ("API docs", "/docs"), ("metrics", "/metrics")),
        outbox_schema="registration",
        outbox_topics=(
            Topic.ORGANIZATIONS,
            Topic.FORUMS,
            Topic.REGISTRATIONS,
            Topic.INTAKE_REJECTED,
        ),
    ),
    PlatformService(
        name="notification",
        port_setting="notification_port",
        links=(("notification API", "/docs"), ("deliveries", "/v1/deliveries")),
        outbox_schema="notification",
        outbox_topics=(Topic.NOTIFICATIONS,),
    ),
    PlatformService(
        name="reporting",
        port_setting="reporting_port",
        links=(("reporting dashboard", "/"), ("reports API", "/docs")),
    ),
    PlatformService(
        name="mailbox",
        port_setting="mailbox_port",
        other_port_settings=("mailbox_smtp_port",),
        links=(("mailbox", ""),),
        enabled=_no_mail_relay_configured,
        environment=_mail_to_the_sink,
    ),
)

# Where each service's `serve(settings)` lives; imported only for the one that runs.
SERVE: dict[str, str] = {
    "registration": "services.registration.app",
    "notification": "services.notification.app",
    "mailbox": "services.runtime.mailbox.app",
    "reporting": "services.reporting.app",
}


class ServiceName(StrEnum):
    REGISTRATION = "registration"
    NOTIFICATION = "notification"
    REPORTING = "reporting"
    MAILBOX = "mailbox"


# Needs neither the database nor the broker: `dialognet run` does not ask where they are.
SELF_CONTAINED: frozenset[ServiceName] = frozenset({ServiceName.MAILBOX})


def _mail_relay(settings: Settings) -> None:
    from services.notification.app import smtp_target  # imported only when it runs

    smtp_target(settings)


# What a service checks of its settings before it starts (ValueError / PlatformNotFound).
CHECK_SETTINGS: dict[ServiceName, Callable[[Settings], None]] = {
    ServiceName.NOTIFICATION: _mail_relay,
}


def serve_function(name: ServiceName) -> Callable[[Settings], None]:
    serve: Callable[[Settings], None] = import_module(SERVE[name.value]).serve
    return serve
