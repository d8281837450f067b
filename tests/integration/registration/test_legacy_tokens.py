"""Tokens made before the access store (in registration.access_tokens) keep working after it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import pytest
from pydantic import SecretStr

from services.registration.app import MIGRATIONS
from services.registration.store import SCHEMA
from services.runtime import db
from services.runtime.access import database as access_database
from services.runtime.access.tokens import token_hash
from services.runtime.settings import Settings
from tests.conftest import Infra, fresh_database
from tests.integration.conftest import running_registration
from tests.integration.registration.steps import ok, problem

CREATED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
REVOKED = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
OLD_TOKENS = [
    (token_hash("old-staff-token"), "Ana", "staff", CREATED, None),
    (token_hash("old-intake-token"), "old CRM", "intake", CREATED, REVOKED),
]


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def _as_the_last_version_left_it(registration_url: str, access_url: str) -> None:
    """Registration's schema with its own token table, an active and a revoked token. The
    revoked one is in the access store already, still active: copied by a start that stopped
    before dropping the old table, then revoked by the old version's `dialognet token revoke`."""
    async with connected(registration_url) as conn:
        await db.migrate(conn, schema=SCHEMA, package=MIGRATIONS)
        await conn.executemany(
            "INSERT INTO registration.access_tokens"
            " (token_hash, name, role, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
            OLD_TOKENS,
        )
    async with connected(access_url) as conn:
        await access_database.migrate(conn)
        await conn.execute(
            "INSERT INTO access.tokens (token_hash, name, role, created_at)"
            " VALUES ($1, 'old CRM', 'intake', $2)",
            token_hash("old-intake-token"),
            CREATED,
        )


@pytest.mark.parametrize("access_store", ["same-database", "other-database"])
async def test_tokens_of_the_old_table_move_to_the_access_store(
    infra: Infra, settings: Settings, access_store: str
) -> None:
    async with fresh_database(infra) as other_database:
        if access_store == "other-database":
            settings = settings.model_copy(
                update={"access_database_url": SecretStr(other_database)}
            )
        registration_url = settings.service_database_url("registration")
        access_url = settings.service_database_url("access")
        await _as_the_last_version_left_it(registration_url, access_url)

        # Twice: the second start finds nothing left to move.
        for _ in range(2):
            async with running_registration(settings) as service:
                staff = await service.public.get(
                    "/v1/organizations", headers={"Authorization": "Bearer old-staff-token"}
                )
                revoked = await service.public.get(
                    "/v1/forums", headers={"Authorization": "Bearer old-intake-token"}
                )
                ok(staff)
                problem(revoked, 401)

        async with connected(registration_url) as conn:
            old_table = await conn.fetchval("SELECT to_regclass('registration.access_tokens')")
        async with connected(access_url) as conn:
            moved = await conn.fetch(
                "SELECT token_hash, name, role, created_at, revoked_at FROM access.tokens"
                " ORDER BY name"
            )

    assert old_table is None
    assert [tuple(row) for row in moved] == OLD_TOKENS
