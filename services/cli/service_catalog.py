"""The services `dialognet up` starts and `dialognet run` runs: one entry each."""

from collections.abc import Callable
from enum import StrEnum
from importlib import import_module

from services.runtime.platform import PlatformService
from services.runtime.settings import Settings

PLATFORM_SERVICES: tuple[PlatformService, ...] = (
    PlatformService(
        name="registration",
        port_setting="registration_port",
        links=(("registration API", ""), ("API docs", "/docs"), ("metrics", "/metrics")),
        outbox_schema="registration",
    ),
    PlatformService(
        name="reporting",
        port_setting="reporting_port",
        links=(("reporting dashboard", "/"), ("reports API", "/docs")),
    ),
)

# Where each service's `serve(settings)` lives; imported only for the one that runs.
SERVE: dict[str, str] = {
    "registration": "services.registration.app",
    "reporting": "services.reporting.app",
}


class ServiceName(StrEnum):
    REGISTRATION = "registration"
    REPORTING = "reporting"


def serve_function(name: ServiceName) -> Callable[[Settings], None]:
    serve: Callable[[Settings], None] = import_module(SERVE[name.value]).serve
    return serve
