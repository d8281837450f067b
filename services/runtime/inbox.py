"""Idempotent consumption: remember processed message ids in the effect's own transaction."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from services.runtime.db import Connection


@dataclass(frozen=True)
class InboxEntry:
    """A consumed message, by the consumer that processes it and the message's `event_id`."""

    consumer: str
    event_id: str


# Ids longer than this (a valid one is a UUID) are kept as their digest: a junk command's id can
# be megabytes, and a B-tree entry holds at most some 2.7 kB even compressed.
MAX_KEPT_ID_CHARS = 200


def kept_id(event_id: str) -> str:
    """What the inbox keeps of `event_id`: the id itself, or a digest of one too long or with a
    character PostgreSQL text cannot hold (NUL), so that any id, however bad, is claimed once."""
    if len(event_id) <= MAX_KEPT_ID_CHARS and "\x00" not in event_id:
        return event_id
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


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
        kept_id(entry.event_id),
    )
    return bool(inserted)


async def claim_all(
    conn: Connection, *, schema: str, consumer: str, event_ids: Sequence[str]
) -> set[str]:
    """The ids of `event_ids` not processed before by `consumer`, now claimed in one statement
    (a batch consumer's transaction); the same rules as `claim`."""
    by_kept = {kept_id(event_id): event_id for event_id in event_ids}
    claimed = await conn.fetch(
        f"INSERT INTO {schema}.inbox (consumer, event_id) SELECT $1, unnest($2::text[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(by_kept),
    )
    return {by_kept[row["event_id"]] for row in claimed}
