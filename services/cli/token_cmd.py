"""`dialognet token create|revoke|list`: bearer tokens in the access store; only hashes are kept."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import typer

from services.cli.platform import DataDirOption, settings_for, with_database
from services.runtime.access import database as access_database
from services.runtime.access import tokens
from services.runtime.access.tokens import Role, TokenEntry

app = typer.Typer(help="Bearer tokens for staff and for intake systems", no_args_is_help=True)

T = TypeVar("T")
SHOWN_ZONE = ZoneInfo("Europe/Berlin")


def _in_access_store(data_dir: Path, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run `work` on the access store, migrated first: the CLI may run before any service did."""

    async def migrated_then(conn: asyncpg.Connection) -> T:
        await access_database.migrate(conn)
        return await work(conn)

    return with_database(settings_for(data_dir), access_database.SCHEMA, migrated_then)


@app.command("create")
def create(
    role: Role = typer.Option(..., "--role", help="staff (people) or intake (other systems)"),
    name: str = typer.Option(..., "--name", help="Who or what uses the token", min=1),
    data_dir: Path = DataDirOption,
) -> None:
    """Print a new token once; it cannot be shown again. Every service accepts it."""
    if not name.strip():
        raise typer.BadParameter("the name must not be blank", param_hint="--name")

    async def work(conn: asyncpg.Connection) -> str:
        return await tokens.create_token(conn, role=role, name=name.strip())

    typer.echo(_in_access_store(data_dir, work))


@app.command("revoke")
def revoke(
    name: str = typer.Option(..., "--name", help="The name the tokens were created with"),
    data_dir: Path = DataDirOption,
) -> None:
    """Revoke every active token of that name (every service refuses it within its token cache
    time, DIALOGNET_TOKEN_CACHE_SECONDS)."""

    async def work(conn: asyncpg.Connection) -> int:
        return await tokens.revoke_tokens(conn, name=name.strip())

    revoked = _in_access_store(data_dir, work)
    if revoked == 0:
        typer.echo(f"no active token named {name.strip()!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {revoked} token{'s' if revoked != 1 else ''} named {name.strip()!r}")


@app.command("list")
def list_tokens(data_dir: Path = DataDirOption) -> None:
    """Every token's name, role, when it was created and revoked (Europe/Berlin); never the
    token or its hash."""
    entries = _in_access_store(data_dir, tokens.list_tokens)
    if not entries:
        typer.echo("no tokens yet: dialognet token create --role staff|intake --name NAME")
        return
    rows = [("NAME", "ROLE", "CREATED", "REVOKED"), *map(_row, entries)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo("  ".join(padded).rstrip())


def _row(entry: TokenEntry) -> tuple[str, str, str, str]:
    revoked = _shown(entry.revoked_at) if entry.revoked_at else "-"
    return (entry.name, entry.role.value, _shown(entry.created_at), revoked)


def _shown(moment: datetime) -> str:
    return moment.astimezone(SHOWN_ZONE).isoformat(sep=" ", timespec="seconds")
