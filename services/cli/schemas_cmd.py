"""`dialognet schemas`: export the contract files and check them (staleness, breaking changes)."""

from pathlib import Path
from typing import Annotated

import typer

from schemas.compat import published_breaking_changes
from schemas.export import EXPORT_COMMAND, check_all, load_published, package_root, write_all
from schemas.message_schemas import current_schemas

app = typer.Typer(
    no_args_is_help=True,
    help="JSON Schema and AsyncAPI files generated from the event contract (`schemas` package).",
)

RootOption = Annotated[
    Path,
    typer.Option(
        "--root",
        help="Directory to write or check; default: the installed `schemas` package.",
        file_okay=False,
    ),
]


@app.command("export")
def export(root: RootOption = package_root()) -> None:
    """Write the generated files; add a snapshot for each newly published version."""
    changed = write_all(root)
    for path in changed:
        # write_all also deletes generated files no model produces any more.
        typer.echo(f"{'wrote' if path.exists() else 'removed'} {path}")
    if not changed:
        typer.echo(f"all files in {root} are up to date")


@app.command("check")
def check(root: RootOption = package_root()) -> None:
    """Exit 1 if a generated file is stale or a published version was changed incompatibly."""
    stale = check_all(root)
    breaking = published_breaking_changes(load_published(root), current_schemas())
    for line in stale:
        typer.echo(line, err=True)
    for line in breaking:
        typer.echo(f"breaking: {line}", err=True)
    if stale:
        typer.echo(f"run `{EXPORT_COMMAND}` to regenerate", err=True)
    if breaking:
        typer.echo("a breaking change needs a new version (raise VERSION)", err=True)
    if stale or breaking:
        raise typer.Exit(1)
    typer.echo("contract files are fresh; no breaking changes")
