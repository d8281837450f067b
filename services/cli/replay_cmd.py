"""`dialognet replay`: republish events from the outbox (the event log) in their original order."""

import asyncio
from datetime import datetime
from pathlib import Path

import asyncpg
import typer

from schemas.catalog import EVENT_TYPES
from schemas.vocabulary import BERLIN
from services.cli.platform import DataDirOption, settings_for, with_database
from services.registration.store import SCHEMA
from services.runtime import db, kafka
from services.runtime.outbox import failed_count, mark_for_replay, pending_count, relay_for
from services.runtime.settings import Settings

WAIT_FOR_RELAY_SECONDS = 120.0


def replay(
    since: datetime | None = typer.Option(
        None,
        "--since",
        help="Only events that occurred at or after this time (no offset: Europe/Berlin)",
    ),
    event_type: str | None = typer.Option(None, "--type", help="Only events of this type"),
    only_failed: bool = typer.Option(
        False,
        "--failed",
        help="Only events the broker refused for good (marked failed), once the cause is fixed",
    ),
    data_dir: Path = DataDirOption,
) -> None:
    """Republish; consumers dedupe by event_id, so read models converge and no e-mail goes twice."""
    if event_type is not None and event_type not in EVENT_TYPES:
        raise typer.BadParameter(
            f"unknown type; one of: {', '.join(EVENT_TYPES)}", param_hint="--type"
        )
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=BERLIN)
    settings = settings_for(data_dir)

    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            queued = await mark_for_replay(
                conn, SCHEMA, since=since, event_type=event_type, only_failed=only_failed
            )
        await _drain(settings, conn)
        _warn_of_failed(await failed_count(conn, SCHEMA))
        return queued

    queued = with_database(settings, "registration", work)
    typer.echo(f"republished {queued} events")


def _warn_of_failed(failed: int) -> None:
    if failed:
        typer.echo(
            f"{failed} events are marked failed: the broker refused them for good (why:"
            f" failure_reason in {SCHEMA}.outbox); after fixing that, dialognet replay --failed",
            err=True,
        )


async def _drain(settings: Settings, conn: asyncpg.Connection) -> None:
    """Publish what is queued; if a running service's relay holds the lock, wait for it instead."""
    pool = await db.create_pool(
        settings.service_database_url("registration"), min_size=1, max_size=2
    )
    producer = kafka.new_producer(settings)
    await producer.start()
    try:
        relay = relay_for(settings, pool=pool, producer=producer, schema=SCHEMA)
        deadline = asyncio.get_running_loop().time() + WAIT_FOR_RELAY_SECONDS
        while await pending_count(conn, SCHEMA) > 0:
            if await relay.publish_batch() == 0:
                if asyncio.get_running_loop().time() > deadline:
                    typer.echo("events are still queued: is the service's relay stuck?", err=True)
                    raise typer.Exit(3)
                await asyncio.sleep(0.05)  # another relay holds the lock and is publishing
    finally:
        await producer.stop()
        await pool.close()
