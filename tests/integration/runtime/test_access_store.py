"""The access store on real PostgreSQL: its own schema, migrated safely by services together."""

import asyncio

import asyncpg

from services.runtime.access import database as access_database
from services.runtime.access.tokens import (
    Role,
    create_token,
    list_tokens,
    revoke_tokens,
    token_hash,
)


async def test_services_starting_together_migrate_the_access_schema_once(
    database_url: str,
) -> None:
    connections = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(access_database.migrate(conn) for conn in connections))
        tables = await connections[0].fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'access'"
        )
    finally:
        for conn in connections:
            await conn.close()

    assert sorted(ids for ids in applied if ids) == [["access/001_tokens.sql"]]
    # The identity store publishes and consumes nothing: no outbox, no inbox.
    assert {row["table_name"] for row in tables} == {"schema_migrations", "tokens"}


async def test_tokens_are_listed_without_token_or_hash(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await access_database.migrate(conn)
        token = await create_token(conn, role=Role.INTAKE, name="partner CRM")
        await create_token(conn, role=Role.STAFF, name="Ana")
        revoked = await revoke_tokens(conn, name="partner CRM")
        entries = await list_tokens(conn)
    finally:
        await conn.close()

    assert revoked == 1
    assert [(entry.name, entry.role, entry.revoked_at is None) for entry in entries] == [
        ("Ana", Role.STAFF, True),
        ("partner CRM", Role.INTAKE, False),
    ]
    assert token not in repr(entries)
    assert token_hash(token) not in repr(entries)
