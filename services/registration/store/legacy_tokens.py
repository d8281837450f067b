"""The bearer tokens registration kept itself before the access store: moved there once.

Done in Python at start-up, not in a SQL migration, because the access store may be in another
database (DIALOGNET_ACCESS_DATABASE_URL), where no statement of this schema's migrations can
reach; one way for both cases, so the tested way is the way every installation takes."""

import zlib

from services.runtime.access import tokens
from services.runtime.access.tokens import StoredToken
from services.runtime.db import Connection

# Replicas starting together: one moves, the others then find the old table gone.
_MOVE_LOCK = zlib.crc32(b"dialognet-move-registration-access-tokens")


async def move_to_access_store(conn: Connection, access_conn: Connection) -> int:
    """Copy `registration.access_tokens` into the access store, then drop it; how many moved.

    The copy commits in the access store before the drop commits here: a crash in between
    leaves the old table, and the next start copies again (harmless, see import_tokens). A
    token is never dropped without being in the access store."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MOVE_LOCK)
        if await conn.fetchval("SELECT to_regclass('registration.access_tokens')") is None:
            return 0
        rows = await conn.fetch(
            "SELECT token_hash, name, role, created_at, revoked_at FROM registration.access_tokens"
        )
        async with access_conn.transaction():
            await tokens.import_tokens(access_conn, [StoredToken(**dict(row)) for row in rows])
        await conn.execute("DROP TABLE registration.access_tokens")
    return len(rows)
