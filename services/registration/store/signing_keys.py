"""The keys registration signs with (cancel tokens): made once, shared by every replica."""

import secrets

from services.runtime.db import Connection


async def signing_key(conn: Connection, purpose: str) -> bytes:
    """The key for `purpose`, made on first use; every replica reads the same one."""
    await conn.execute(
        "INSERT INTO registration.signing_keys (purpose, secret) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        purpose,
        secrets.token_bytes(32),
    )
    key: bytes = await conn.fetchval(
        "SELECT secret FROM registration.signing_keys WHERE purpose = $1", purpose
    )
    return key
