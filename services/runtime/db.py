"""The connection pool and the numbered SQL migrations each service applies at start-up."""

import json
import logging
import re
import zlib
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Runtime migrations (outbox, inbox) are written once and applied into each service's schema.
SCHEMA_PLACEHOLDER = "__schema__"
RUNTIME_MIGRATIONS = "services.runtime.migrations"


async def init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class PooledConnection(asyncpg.Connection):
    """Skips asyncpg's reset query on every release: one round trip less per request.

    Safe because nothing here keeps session state: no SET, no cursors held across releases,
    advisory locks are transaction-scoped (migrate unlocks its own), and the one LISTEN is on a
    connection the relay holds for its lifetime. asyncpg still rolls back an open transaction.
    """

    def get_reset_query(self) -> str:
        return ""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        connection_class=PooledConnection,
        server_settings={"application_name": "dialognet", "timezone": "UTC"},
    )
    assert pool is not None
    return pool


def migration_files(package: str, schema: str) -> list[tuple[str, str]]:
    """(id, sql) of every `NNN_name.sql` in a migrations package, in order, for one schema."""
    folder = resources.files(package)
    names = sorted(entry.name for entry in folder.iterdir() if _MIGRATION_NAME.match(entry.name))
    prefix = package.rsplit(".", 2)[-2]
    return [
        (
            f"{prefix}/{name}",
            folder.joinpath(name).read_text(encoding="utf-8").replace(SCHEMA_PLACEHOLDER, schema),
        )
        for name in names
    ]


async def migrate(
    conn: "Connection", *, schema: str, package: str, outbox_and_inbox: bool = True
) -> list[str]:
    """Apply the runtime's (outbox, inbox) and the package's migrations not yet applied; returns
    their ids. `outbox_and_inbox=False` for a schema that publishes and consumes nothing (the
    access store).

    Each runs in its own transaction. An advisory lock keyed by the schema makes replicas
    starting together take turns.
    """
    lock_key = zlib.crc32(f"dialognet-migrate-{schema}".encode())
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
            " id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {
            row["id"] for row in await conn.fetch(f'SELECT id FROM "{schema}".schema_migrations')
        }
        runtime = migration_files(RUNTIME_MIGRATIONS, schema) if outbox_and_inbox else []
        pending = runtime + migration_files(package, schema)
        for migration_id, sql in pending:
            if migration_id in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    f'INSERT INTO "{schema}".schema_migrations (id) VALUES ($1)', migration_id
                )
            applied_now.append(migration_id)
            log.info("applied migration %s in schema %s", migration_id, schema)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    return applied_now


def database_url_for(url: str, database: str) -> str:
    """The same server (host, socket, credentials, options), another database name."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


async def ping(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")


# What store functions take: a plain connection or one borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy
