"""Idempotent consumption: remember processed message ids in the effect's own transaction."""

from services.runtime.db import Connection


async def claim(conn: Connection, *, schema: str, consumer: str, event_id: str) -> bool:
    """True when this message has not been processed yet; must run inside the effect's transaction.

    If the transaction rolls back, so does the claim: the redelivered message is processed again.
    """
    inserted = await conn.fetchval(
        f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        event_id,
    )
    return bool(inserted)
