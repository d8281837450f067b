"""How every CLI command finds the platform: --data-dir or DIALOGNET_* settings."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import typer

from services.runtime import db
from services.runtime.settings import PlatformNotFound, Settings, load_settings

T = TypeVar("T")

DataDirOption = typer.Option(
    Path(".dialognet"),
    "--data-dir",
    envvar="DIALOGNET_DATA_DIR",
    help="Data directory of `dialognet up` (its platform.json says where everything runs)",
)


def settings_for(data_dir: Path) -> Settings:
    return load_settings(data_dir)


def with_database(
    settings: Settings, service: str, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run `work` on one connection to the service database; says clearly when there is none."""

    async def connected() -> T:
        conn = await asyncpg.connect(settings.service_database_url(service))
        try:
            await db.init_connection(conn)
            return await work(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(connected())
    except PlatformNotFound as error:
        raise typer.BadParameter(str(error)) from error
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        # InterfaceError: a URL asyncpg cannot use (scheme, options); never echoes a password.
        typer.echo(f"cannot reach the {service} database: {error}", err=True)
        raise typer.Exit(2) from error
