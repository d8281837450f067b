"""The keys a service signs with (cancel tokens, CSRF tokens, unsubscribe links), one per
purpose in its own schema: made on first use, the same for every replica."""

import secrets

from services.runtime.db import Connection


async def signing_key(conn: Connection, schema: str, purpose: str) -> bytes:
    await conn.execute(
        f"INSERT INTO {schema}.signing_keys (purpose, secret) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        purpose,
        secrets.token_bytes(32),
    )
    key: bytes = await conn.fetchval(
        f"SELECT secret FROM {schema}.signing_keys WHERE purpose = $1", purpose
    )
    return key
