"""Entry point of the `dialognet` command: one sub-command a module."""

import sys

import typer

from services.cli import (
    emit_cmd,
    migrate_cmd,
    preview_cmd,
    replay_cmd,
    reporting_cmd,
    run_cmd,
    schemas_cmd,
    token_cmd,
    up_cmd,
)
from services.runtime.settings import SettingsError

app = typer.Typer(
    no_args_is_help=True, help="dialognet: registration services for the dialogue network"
)
app.command("up")(up_cmd.up)
app.command("run")(run_cmd.run)
app.command("emit")(emit_cmd.emit)
app.command("replay")(replay_cmd.replay)
app.command("migrate")(migrate_cmd.migrate)
app.add_typer(token_cmd.app, name="token")
app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(preview_cmd.app, name="notification")
app.add_typer(reporting_cmd.app, name="reporting")


def main() -> None:
    try:
        app()
    except SettingsError as error:
        # Every command reads the settings: one place says which one is wrong, no traceback.
        print(f"dialognet: {error}", file=sys.stderr)
        sys.exit(2)
