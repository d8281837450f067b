"""`dialognet run SERVICE`: one service in the foreground, as in a container."""

import logging

import typer

from services.cli.service_catalog import (
    CHECK_SETTINGS,
    SELF_CONTAINED,
    ServiceName,
    serve_function,
)
from services.runtime.settings import PlatformNotFound, load_settings


def run(service: ServiceName = typer.Argument(..., help="Which service to run")) -> None:
    """Run one service until SIGTERM or Ctrl-C."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if service not in SELF_CONTAINED:
            settings.bootstrap()
            settings.service_database_url(service.value)
        serve = serve_function(service)
        check = CHECK_SETTINGS.get(service)
        if check is not None:
            check(settings)
    except (PlatformNotFound, ValueError) as error:
        # A setting a service cannot start without, said by name before anything starts.
        raise typer.BadParameter(str(error)) from error
    serve(settings)
