"""Recipients who asked for no more invitations, by address hash."""

from collections.abc import Iterable

from services.runtime.db import Connection


async def unsubscribe(conn: Connection, recipient_hash: str) -> None:
    await conn.execute(
        "INSERT INTO notification.unsubscribes (recipient_hash) VALUES ($1) ON CONFLICT DO NOTHING",
        recipient_hash,
    )


async def among(conn: Connection, recipient_hashes: Iterable[str]) -> set[str]:
    """Which of these recipients unsubscribed."""
    rows = await conn.fetch(
        "SELECT recipient_hash FROM notification.unsubscribes"
        " WHERE recipient_hash = ANY($1::text[])",
        list(recipient_hashes),
    )
    return {row["recipient_hash"] for row in rows}
