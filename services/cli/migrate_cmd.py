"""`dialognet migrate`: apply every service's migrations and exit (a Kubernetes Job, the compose
step before the services, or by hand before a rolling upgrade)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

import asyncpg
import typer

from services.cli.platform import DataDirOption, settings_for, with_database
from services.cli.service_catalog import PLATFORM_SERVICES, SELF_CONTAINED, SERVE, ServiceName
from services.runtime import db
from services.runtime.access import database as access_database
from services.runtime.settings import PlatformNotFound, Settings


@dataclass(frozen=True)
class MigratedSchema:
    """One schema and how to bring it up to date, on the database its owner is configured for."""

    owner: str  # a service, or "access" (the token store every service reads)
    apply: Callable[[asyncpg.Connection], Awaitable[list[str]]]


def migrate(data_dir: Path = DataDirOption) -> None:
    """Apply every schema's migrations not applied yet, then exit; a second run changes nothing."""
    # The access store first, then every service's. Services still migrate at start-up, under
    # the same advisory lock per schema, so running this while they start is safe.
    settings = settings_for(data_dir)
    schemas = migrated_schemas()
    _require_databases(settings, schemas)
    for schema in schemas:
        applied = with_database(settings, schema.owner, schema.apply)
        shown = ", ".join(applied) if applied else "up to date"
        typer.echo(f"{schema.owner}: {shown}")


def migrated_schemas() -> list[MigratedSchema]:
    """The access store, then every service with a database, from the service catalog."""
    schemas = [MigratedSchema(access_database.SCHEMA, access_database.migrate)]
    for service in PLATFORM_SERVICES:
        if ServiceName(service.name) not in SELF_CONTAINED:
            schemas.append(_service_schema(service.name))
    return schemas


def _service_schema(service: str) -> MigratedSchema:
    # The composition root names its schema and migrations: one place, the one it migrates.
    app = import_module(SERVE[service])
    schema: str = app.SCHEMA
    package: str = app.MIGRATIONS

    async def apply(conn: asyncpg.Connection) -> list[str]:
        return await db.migrate(conn, schema=schema, package=package)

    return MigratedSchema(service, apply)


def _require_databases(settings: Settings, schemas: list[MigratedSchema]) -> None:
    """Say which database is not configured before anything is migrated, in one line."""
    try:
        for schema in schemas:
            settings.service_database_url(schema.owner)
    except PlatformNotFound as error:
        typer.echo(f"dialognet migrate: {error}", err=True)
        raise typer.Exit(2) from None
