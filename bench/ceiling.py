"""The raw ceiling: what straight asyncpg does per registration on the same PostgreSQL.

Per registration, one transaction: lock the forum row (`SELECT … FOR UPDATE`), insert a
registration row, insert an outbox row. With several forums, registration n goes to forum
n mod count, as the load generator sends them: one hot row lock, or locks spread. Scratch
tables in their own schema, shaped like the service's (same columns, the same unique e-mail
index and outbox indexes), dropped afterwards; the service's own tables are never touched.
"""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

SCHEMA = "bench_ceiling"

CREATE = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.forums (
    id uuid PRIMARY KEY, capacity integer NOT NULL, seats_taken integer NOT NULL DEFAULT 0,
    status text NOT NULL, registration_deadline timestamptz NOT NULL
);
CREATE TABLE {SCHEMA}.registrations (
    id uuid PRIMARY KEY,
    forum_id uuid NOT NULL REFERENCES {SCHEMA}.forums (id),
    organization_id uuid NOT NULL,
    arrival bigint GENERATED ALWAYS AS IDENTITY,
    status text NOT NULL, attendees integer NOT NULL,
    contact_name text, contact_email text, contact_phone text,
    contact_language text NOT NULL DEFAULT 'de',
    wants_to_present boolean NOT NULL DEFAULT false,
    interested_in_partnership boolean NOT NULL DEFAULT false,
    consent_given_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz
);
CREATE UNIQUE INDEX registrations_one_per_email ON {SCHEMA}.registrations
    (forum_id, lower(contact_email)) WHERE status <> 'cancelled';
CREATE INDEX registrations_forum_arrival ON {SCHEMA}.registrations (forum_id, arrival);
CREATE TABLE {SCHEMA}.outbox (
    id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, topic text NOT NULL,
    message_key text NOT NULL, type text NOT NULL, envelope jsonb NOT NULL,
    occurred_at timestamptz NOT NULL, subject_id uuid,
    status text NOT NULL DEFAULT 'not_published', published_at timestamptz
);
CREATE INDEX outbox_not_published ON {SCHEMA}.outbox (id) WHERE status = 'not_published';
CREATE INDEX outbox_subject ON {SCHEMA}.outbox (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX outbox_occurred_at ON {SCHEMA}.outbox (occurred_at);
"""

LOCK_FORUM = f"SELECT seats_taken FROM {SCHEMA}.forums WHERE id = $1 FOR UPDATE"
INSERT_REGISTRATION = (
    f"INSERT INTO {SCHEMA}.registrations (id, forum_id, organization_id, status, attendees,"
    " contact_name, contact_email, consent_given_at, confirmed_at)"
    " VALUES ($1, $2, $3, 'confirmed', 1, 'Bench', $4, $5, $5)"
)
INSERT_OUTBOX = (
    f"INSERT INTO {SCHEMA}.outbox (event_id, topic, message_key, type, envelope, occurred_at,"
    " subject_id) VALUES ($1, 'registrations', $2, 'registration.made', $3::text::jsonb, $4, $5)"
)


@dataclass(frozen=True)
class CeilingResult:
    registrations: int
    elapsed_seconds: float

    @property
    def per_second(self) -> float:
        return self.registrations / self.elapsed_seconds


def envelope_like(forum_id: uuid.UUID, organization_id: uuid.UUID, email: str) -> str:
    """A `registration.made` envelope of about the service's size (~1 kB)."""
    now = datetime.now(UTC).isoformat()
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": "registration.made",
            "version": 1,
            "occurred_at": now,
            "producer": "registration",
            "key": str(forum_id),
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "data": {
                "registration_id": str(uuid.uuid4()),
                "forum_id": str(forum_id),
                "organization_id": str(organization_id),
                "organization_name": "Bench e.V.",
                "status": "confirmed",
                "waitlist_position": None,
                "attendees": 1,
                "contact": {"name": "Bench", "email": email, "phone": None, "language": "de"},
                "forum_title": "Benchmark forum",
                "forum_starts_at": now,
                "wants_to_present": False,
                "interested_in_partnership": False,
                "accessibility_needs": None,
                "interpreter_needs": None,
                "cancel_token": "x" * 43,
                "registered_at": now,
            },
        }
    )


async def _register(
    pool: asyncpg.Pool, forum_id: uuid.UUID, organization_id: uuid.UUID, number: int
) -> None:
    email = f"ceiling{number}@example.org"
    envelope = envelope_like(forum_id, organization_id, email)
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        await conn.fetchval(LOCK_FORUM, forum_id)
        await conn.execute(INSERT_REGISTRATION, uuid.uuid4(), forum_id, organization_id, email, now)
        await conn.execute(
            INSERT_OUTBOX, uuid.uuid4(), str(forum_id), envelope, now, organization_id
        )


class Ceiling:
    """Scratch tables with one open forum, and a pool over them."""

    def __init__(self, pool: asyncpg.Pool, forum_ids: list[uuid.UUID]) -> None:
        self._pool = pool
        self._forum_ids = forum_ids
        self._organization_id = uuid.uuid4()

    async def measure(self, numbers: range, *, concurrency: int) -> CeilingResult:
        """Registrations/s for the e-mail `numbers`, `concurrency` tasks at a time."""
        pending = iter(numbers)

        async def worker() -> None:
            for number in pending:  # shared by the workers: each number is used once
                forum_id = self._forum_ids[number % len(self._forum_ids)]
                await _register(self._pool, forum_id, self._organization_id, number)

        begun = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return CeilingResult(len(numbers), time.monotonic() - begun)


@contextlib.asynccontextmanager
async def scratch(database_url: str, *, pool_size: int, forums: int = 1) -> AsyncIterator[Ceiling]:
    """The ceiling's tables with `forums` open forums for the block, dropped afterwards."""
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(CREATE)
        forum_ids = [uuid.uuid4() for _ in range(forums)]
        await admin.executemany(
            f"INSERT INTO {SCHEMA}.forums VALUES ($1, 100000000, 0, 'scheduled', now() + '1y')",
            [(forum_id,) for forum_id in forum_ids],
        )
        pool = await asyncpg.create_pool(database_url, min_size=pool_size, max_size=pool_size)
        assert pool is not None
        try:
            yield Ceiling(pool, forum_ids)
        finally:
            await pool.close()
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await admin.close()
