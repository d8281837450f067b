"""Where a service finds the access store: its database, migrated, and the pool lookups use."""

import asyncpg

from services.runtime import db
from services.runtime.settings import Settings

SCHEMA = "access"
MIGRATIONS = "services.runtime.access.migrations"


async def migrate(conn: db.Connection) -> list[str]:
    """The access schema's own migrations, without the outbox and inbox a service schema gets."""
    return await db.migrate(conn, schema=SCHEMA, package=MIGRATIONS, outbox_and_inbox=False)


class AccessDatabase:
    """The pool token lookups use: the service's own when the access store shares its database
    (DIALOGNET_ACCESS_DATABASE_URL unset or equal), else a small pool of its own."""

    def __init__(self, pool: asyncpg.Pool, *, owns_pool: bool) -> None:
        self.pool = pool
        self._owns_pool = owns_pool

    @classmethod
    async def open(
        cls, settings: Settings, service: str, service_pool: asyncpg.Pool
    ) -> "AccessDatabase":
        """Connected and migrated (under migrate's lock: services starting together take turns)."""
        url = settings.service_database_url(SCHEMA)
        if url == settings.service_database_url(service):
            opened = cls(service_pool, owns_pool=False)
        else:
            # Lookups never run more at once than token_lookup_concurrency (TokenRoles).
            pool = await db.create_pool(url, min_size=1, max_size=settings.token_lookup_concurrency)
            opened = cls(pool, owns_pool=True)
        try:
            async with opened.pool.acquire() as conn:
                await migrate(conn)
        except BaseException:
            await opened.close()
            raise
        return opened

    async def close(self) -> None:
        if self._owns_pool:
            await self.pool.close()
