"""The keys reporting signs with (staff sessions, the pages' CSRF tokens): made once, shared by
every replica."""

import secrets

from services.runtime.db import Connection


async def signing_key(conn: Connection, purpose: str) -> bytes:
    await conn.execute(
        "INSERT INTO reporting.signing_keys (purpose, secret) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        purpose,
        secrets.token_bytes(32),
    )
    key: bytes = await conn.fetchval(
        "SELECT secret FROM reporting.signing_keys WHERE purpose = $1", purpose
    )
    return key
