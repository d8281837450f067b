"""Bearer tokens (hashed) and the signing key of cancel tokens."""

import hashlib
import secrets

from services.runtime.db import Connection


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(conn: Connection, *, role: str, name: str) -> str:
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO registration.access_tokens (token_hash, name, role) VALUES ($1, $2, $3)",
        token_hash(token),
        name,
        role,
    )
    return token


async def revoke_tokens(conn: Connection, *, name: str) -> int:
    """Revoke every active token of that name; how many there were."""
    result: str = await conn.execute(
        "UPDATE registration.access_tokens SET revoked_at = now()"
        " WHERE name = $1 AND revoked_at IS NULL",
        name,
    )
    return int(result.split()[-1])


async def role_of(conn: Connection, token: str) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM registration.access_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash(token),
    )
    return role


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
