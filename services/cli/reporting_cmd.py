"""`dialognet reporting rebuild`: the read models again from the topics, swapped in when done."""

import asyncio
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.cli.platform import DataDirOption, settings_for
from services.reporting.rebuild import RebuildRefused, rebuild
from services.runtime.settings import PlatformNotFound

app = typer.Typer(no_args_is_help=True, help="The reporting service's read models")


@app.command("rebuild")
def rebuild_command(
    data_dir: Path = DataDirOption,
    force: bool = typer.Option(
        False, "--force", help="Swap in even when the topics hold fewer events than the live models"
    ),
) -> None:
    """Empty the read models and consume every topic from the beginning into a new copy; the
    service answers with the old numbers until the copy has caught up, then switches."""
    settings = settings_for(data_dir)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns) as progress:
            task = progress.add_task("reading the topics", total=None)

            def show(read: int, total: int) -> None:
                progress.update(task, completed=read, total=total)

            result = asyncio.run(rebuild(settings, show, force=force))
    except PlatformNotFound as error:
        raise typer.BadParameter(str(error)) from error
    except RebuildRefused as refused:
        typer.echo(f"rebuild not swapped in: {refused}", err=True)
        raise typer.Exit(3) from refused
    typer.echo(
        f"read models rebuilt from {result.messages} messages ({result.events} events,"
        f" {result.skipped} skipped as not facts); generation {result.generation} is live,"
        f" {result.retired} removed"
    )
