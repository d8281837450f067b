"""Bearer tokens in the access store: made once and shown once, kept as SHA-256 hashes only."""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.runtime.db import Connection


class Role(StrEnum):
    STAFF = "staff"  # people: the HTTP API, the staff console
    INTAKE = "intake"  # other systems


@dataclass(frozen=True)
class TokenEntry:
    """What may be shown of a token: never the token, never its hash."""

    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredToken:
    """A token as another store kept it (its hash, never the token), for `import_tokens`."""

    token_hash: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(conn: Connection, *, role: Role, name: str) -> str:
    """A new token; the caller shows it once, since only its hash is kept."""
    token = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO access.tokens (token_hash, name, role) VALUES ($1, $2, $3)",
        token_hash(token),
        name,
        role.value,
    )
    return token


async def revoke_tokens(conn: Connection, *, name: str) -> int:
    """Revoke every active token of that name; how many there were."""
    result: str = await conn.execute(
        "UPDATE access.tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        name,
    )
    return int(result.split()[-1])


async def list_tokens(conn: Connection) -> list[TokenEntry]:
    rows = await conn.fetch(
        "SELECT name, role, created_at, revoked_at FROM access.tokens ORDER BY name, created_at"
    )
    return [
        TokenEntry(row["name"], Role(row["role"]), row["created_at"], row["revoked_at"])
        for row in rows
    ]


async def role_of(conn: Connection, digest: str) -> str | None:
    """The role of the active token with that hash, else None."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM access.tokens WHERE token_hash = $1 AND revoked_at IS NULL", digest
    )
    return role


async def import_tokens(conn: Connection, tokens: Sequence[StoredToken]) -> None:
    """Take over tokens another store kept; again is harmless, and a revocation made there
    after an earlier import still arrives (a token revoked in either place stays revoked)."""
    await conn.executemany(
        "INSERT INTO access.tokens (token_hash, name, role, created_at, revoked_at)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (token_hash) DO UPDATE"
        " SET revoked_at = COALESCE(access.tokens.revoked_at, EXCLUDED.revoked_at)",
        [
            (token.token_hash, token.name, token.role, token.created_at, token.revoked_at)
            for token in tokens
        ],
    )
