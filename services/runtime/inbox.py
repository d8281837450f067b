"""Idempotent consumption: remember processed message ids in the effect's own transaction."""

from collections.abc import Sequence
from dataclasses import dataclass

from services.runtime.db import Connection


@dataclass(frozen=True)
class InboxEntry:
    """A consumed message, by the consumer that processes it and the message's `event_id`."""

    consumer: str
    event_id: str


class AlreadyProcessed(Exception):
    """The inbox holds this message id: its effect is committed already, nothing is done again."""


async def claim(conn: Connection, *, schema: str, entry: InboxEntry) -> bool:
    """True when this message has not been processed yet; must run inside the effect's transaction.

    If the transaction rolls back, so does the claim: the redelivered message is processed again.
    """
    inserted = await conn.fetchval(
        f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        entry.consumer,
        entry.event_id,
    )
    return bool(inserted)


async def claim_all(
    conn: Connection, *, schema: str, consumer: str, event_ids: Sequence[str]
) -> set[str]:
    """The ids of `event_ids` not processed before by `consumer`, now claimed in one statement
    (a batch consumer's transaction); the same rules as `claim`."""
    claimed = await conn.fetch(
        f"INSERT INTO {schema}.inbox (consumer, event_id) SELECT $1, unnest($2::text[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(event_ids),
    )
    return {row["event_id"] for row in claimed}
