"""`dialognet notification preview KIND`: an example message of a kind, as an .eml to open."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from services.notification.compose import compose
from services.notification.compose.examples import EXAMPLE_SENDER, example_mail
from services.notification.domain.mails import Kind

app = typer.Typer(help="The notification e-mails", no_args_is_help=True)


@app.command("preview")
def preview(
    kind: Kind = typer.Argument(..., help="Which mail"),
    lang: str = typer.Option("de", "--lang", help="Language (one without templates: German)"),
    out: Path | None = typer.Option(None, "--out", help="Write FILE.eml here, not to stdout"),
) -> None:
    """Write an example message of KIND, with made-up facts, as a mail client opens it."""
    message = compose(
        example_mail(kind, lang),
        sender=EXAMPLE_SENDER,
        message_id=f"<preview.{kind}.{lang}@dialognet.invalid>",
        date=datetime.now(UTC),
    )
    if out is None:
        sys.stdout.buffer.write(message.as_bytes())
    else:
        out.write_bytes(message.as_bytes())
        typer.echo(f"wrote {out}")
