"""What one fetch brings is applied in one transaction, its planned deliveries written in one
statement: the consumer's handler on real PostgreSQL, given the fetches a broker would bring
(which facts share a fetch is the broker's choice, so the test makes it)."""

import json
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import asyncpg
import pytest

from schemas.envelope import Envelope, utc_now
from schemas.organizations import OrganizationErased, OrganizationErasedData
from services.notification.app import MIGRATIONS, planning_policy
from services.notification.facts import FactConsumer
from services.notification.store import SCHEMA
from services.notification.unsubscribe import UnsubscribeTokens
from services.runtime import db
from services.runtime.consumer import Batch, Outcome, Received
from services.runtime.settings import Settings
from tests.integration.notification.scripted_facts import (
    forum_scheduled,
    forum_snapshot,
    registration_made,
)


@pytest.fixture
async def consumer(settings: Settings) -> AsyncIterator[tuple[FactConsumer, asyncpg.Pool]]:
    pool = await db.create_pool(settings.service_database_url("notification"), max_size=2)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=SCHEMA, package=MIGRATIONS)
        tokens = UnsubscribeTokens(secrets.token_bytes(32))
        yield FactConsumer(pool, planning_policy(settings, tokens)), pool
    finally:
        await pool.close()


def fetch(*events: Envelope) -> Batch[dict[str, object]]:
    return Batch([Received(json.loads(event.to_json()), event.occurred_at) for event in events], [])


async def deliveries(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            "SELECT kind, status, reason, mail IS NULL AS erased, recipient_hash"
            " FROM notification.deliveries ORDER BY plan_order"
        )


async def test_a_fetchs_registrations_are_planned_in_the_order_read(
    consumer: tuple[FactConsumer, asyncpg.Pool],
) -> None:
    handler, pool = consumer
    forum = forum_snapshot(uuid4(), utc_now() + timedelta(days=30), audience="open")
    made = [registration_made(forum, f"person-{n}@example.org", utc_now()) for n in range(5)]

    outcomes = await handler.apply(fetch(forum_scheduled(forum, utc_now()), *made, made[2]))

    assert outcomes == [Outcome.PROCESSED] * 6 + [Outcome.DUPLICATE]
    planned = await deliveries(pool)
    assert [row["kind"] for row in planned] == ["registration_confirmed"] * 5
    async with pool.acquire() as conn:
        listed = await conn.fetch(
            "SELECT mail->'recipient'->>'address' AS address FROM notification.deliveries"
            " ORDER BY created_at, id"
        )
    assert [row["address"] for row in listed] == [f"person-{n}@example.org" for n in range(5)]


async def test_an_erasure_in_the_same_fetch_reaches_the_mail_planned_before_it(
    consumer: tuple[FactConsumer, asyncpg.Pool],
) -> None:
    handler, pool = consumer
    forum = forum_snapshot(uuid4(), utc_now() + timedelta(days=30), audience="open")
    made = registration_made(forum, "erika@example.org", utc_now())
    other = registration_made(forum, "bleibt@example.org", utc_now())
    organization_id = made.data.organization_id
    erased = OrganizationErased(
        producer="registration",
        key=str(organization_id),
        occurred_at=utc_now(),
        data=OrganizationErasedData(
            organization_id=organization_id,
            erased_at=utc_now(),
            registration_ids=[made.data.registration_id],
        ),
    )

    # Planned and erased in one transaction: the erasure must find the planned mail.
    await handler.apply(fetch(forum_scheduled(forum, utc_now()), made, erased, other))

    rows = await deliveries(pool)
    assert [(row["status"], row["erased"]) for row in rows] == [
        ("suppressed", True),
        ("queued", False),
    ]
    assert rows[0]["reason"] == "the organisation's personal data was erased"
    async with pool.acquire() as conn:
        holding = await conn.fetchval(
            "SELECT count(*) FROM notification.deliveries d WHERE d::text LIKE '%erika@%'"
        )
    assert holding == 0
