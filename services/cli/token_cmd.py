"""`dialognet token create|revoke`: bearer tokens; only their hashes are stored."""

from enum import StrEnum
from pathlib import Path

import asyncpg
import typer

from services.cli.platform import DataDirOption, settings_for, with_database
from services.registration.store import access

app = typer.Typer(help="Bearer tokens for staff and for intake systems", no_args_is_help=True)


class Role(StrEnum):
    STAFF = "staff"
    INTAKE = "intake"


@app.command("create")
def create(
    role: Role = typer.Option(..., "--role", help="staff (people) or intake (other systems)"),
    name: str = typer.Option(..., "--name", help="Who or what uses the token", min=1),
    data_dir: Path = DataDirOption,
) -> None:
    """Print a new token once; it cannot be shown again."""
    if not name.strip():
        raise typer.BadParameter("the name must not be blank", param_hint="--name")
    settings = settings_for(data_dir)

    async def work(conn: asyncpg.Connection) -> str:
        return await access.create_token(conn, role=role.value, name=name.strip())

    typer.echo(with_database(settings, "registration", work))


@app.command("revoke")
def revoke(
    name: str = typer.Option(..., "--name", help="The name the tokens were created with"),
    data_dir: Path = DataDirOption,
) -> None:
    """Revoke every active token of that name (services refuse it within their token cache time,
    DIALOGNET_TOKEN_CACHE_SECONDS)."""
    settings = settings_for(data_dir)

    async def work(conn: asyncpg.Connection) -> int:
        return await access.revoke_tokens(conn, name=name.strip())

    revoked = with_database(settings, "registration", work)
    if revoked == 0:
        typer.echo(f"no active token named {name.strip()!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {revoked} token{'s' if revoked != 1 else ''} named {name.strip()!r}")
