"""`dialognet replay`: republish a service's outbox (its event log) in its original order."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import asyncpg
import typer

from schemas.catalog import TOPIC_OF_TYPE
from schemas.topics import Topic
from schemas.vocabulary import BERLIN
from services.cli.platform import DataDirOption, settings_for, with_database
from services.cli.service_catalog import PLATFORM_SERVICES
from services.runtime import db, kafka
from services.runtime.outbox import failed_count, mark_for_replay, pending_count, relay_for
from services.runtime.settings import Settings

WAIT_FOR_RELAY_SECONDS = 120.0


@dataclass(frozen=True)
class Outbox:
    """A service's outbox: the schema it is in and the topics it publishes to."""

    service: str
    schema: str
    topics: tuple[Topic, ...]

    def event_types(self) -> list[str]:
        """The event types it holds: those of its topics."""
        return [name for name, topic in TOPIC_OF_TYPE.items() if topic in self.topics]


# The services with an outbox, the ones `dialognet up` republishes after a broker loss.
OUTBOXES: dict[str, Outbox] = {
    service.name: Outbox(service.name, service.outbox_schema, service.outbox_topics)
    for service in PLATFORM_SERVICES
    if service.outbox_schema is not None
}
# Before --service there was only registration's outbox: `dialognet replay` still means it.
DEFAULT_SERVICE = "registration"


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
    service_name: str = typer.Option(
        DEFAULT_SERVICE,
        "--service",
        help=f"Whose outbox: {' or '.join(OUTBOXES)}",
    ),
    data_dir: Path = DataDirOption,
) -> None:
    """Republish; consumers dedupe by event_id, so read models converge and no e-mail goes twice."""
    outbox = outbox_of(service_name)
    if event_type is not None:
        check_type(outbox, event_type)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=BERLIN)
    settings = settings_for(data_dir)

    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            queued = await mark_for_replay(
                conn, outbox.schema, since=since, event_type=event_type, only_failed=only_failed
            )
        await _drain(settings, conn, outbox)
        _warn_of_failed(outbox, await failed_count(conn, outbox.schema))
        return queued

    queued = with_database(settings, outbox.service, work)
    typer.echo(f"republished {queued} events")


def outbox_of(service: str) -> Outbox:
    """The outbox `--service` names; a bad name ends the command with one line."""
    if service not in OUTBOXES:
        _refuse(f"--service {service!r} has no outbox to replay; one of: {', '.join(OUTBOXES)}")
    return OUTBOXES[service]


def check_type(outbox: Outbox, event_type: str) -> None:
    """A `--type` the outbox cannot hold would republish nothing: refused with one line."""
    if event_type not in outbox.event_types():
        _refuse(
            f"--type {event_type!r} is no event of {outbox.service}'s outbox;"
            f" one of: {', '.join(outbox.event_types())}"
        )


def _refuse(message: str) -> NoReturn:
    typer.echo(f"dialognet replay: {message}", err=True)
    raise typer.Exit(2)


def _warn_of_failed(outbox: Outbox, failed: int) -> None:
    if failed:
        again = "dialognet replay --failed"
        if outbox.service != DEFAULT_SERVICE:
            again += f" --service {outbox.service}"
        typer.echo(
            f"{failed} events are marked failed: the broker refused them for good (why:"
            f" failure_reason in {outbox.schema}.outbox); after fixing that, {again}",
            err=True,
        )


async def _drain(settings: Settings, conn: asyncpg.Connection, outbox: Outbox) -> None:
    """Publish what is queued; if a running service's relay holds the lock, wait for it instead."""
    pool = await db.create_pool(
        settings.service_database_url(outbox.service), min_size=1, max_size=2
    )
    producer = kafka.new_producer(settings)
    await producer.start()
    try:
        relay = relay_for(settings, pool=pool, producer=producer, schema=outbox.schema)
        deadline = asyncio.get_running_loop().time() + WAIT_FOR_RELAY_SECONDS
        while await pending_count(conn, outbox.schema) > 0:
            if await relay.publish_batch() == 0:
                if asyncio.get_running_loop().time() > deadline:
                    typer.echo("events are still queued: is the service's relay stuck?", err=True)
                    raise typer.Exit(3)
                await asyncio.sleep(0.05)  # another relay holds the lock and is publishing
    finally:
        await producer.stop()
        await pool.close()
