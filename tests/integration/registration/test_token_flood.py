"""Made-up bearer tokens in floods: refused with 429 per address, never the pool's undoing."""

import asyncio
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import asyncpg
import httpx

from services.runtime.access.tokens import Role, create_token
from services.runtime.settings import Settings
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    metric_value,
    new_forum,
    ok,
    problem,
    register,
    scrape_metrics,
)
from tests.polling import until

LOOKUPS = "dialognet_token_lookups_total"
FLOOD_SIZE = 300
FLOOD_TIMEOUT_SECONDS = 120.0
# What a registration beside the flood may take; with the pool exhausted it would wait forever.
ANSWER_TIMEOUT_SECONDS = 20.0


def flood_request(
    client: httpx.AsyncClient, forum_id: str, number: int, forwarded_for: str | None
) -> "asyncio.Task[httpx.Response]":
    """A made-up token on the registration fast path or, every other one, a FastAPI route."""
    headers = {"Authorization": f"Bearer made-up-{uuid4().hex}"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    if number % 2:
        call = client.get("/v1/organizations", headers=headers)
    else:
        call = client.post(
            f"/v1/forums/{forum_id}/registrations", json=bodies.registration(), headers=headers
        )
    return asyncio.create_task(call)


@asynccontextmanager
async def flood_client(service: RunningService) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=FLOOD_SIZE, max_keepalive_connections=FLOOD_SIZE)
    async with httpx.AsyncClient(
        base_url=service.base_url, limits=limits, timeout=FLOOD_TIMEOUT_SECONDS
    ) as client:
        yield client


async def test_made_up_tokens_from_one_address_get_429_without_a_lookup(
    settings: Settings,
) -> None:
    budget = 5
    limited = settings.model_copy(update={"failed_token_lookups_per_minute": budget})
    async with running_registration(limited) as service, flood_client(service) as client:
        forum = await new_forum(service)
        before = await scrape_metrics(service)
        started = time.monotonic()
        flood = [flood_request(client, forum["id"], n, None) for n in range(FLOOD_SIZE)]
        answers = await asyncio.gather(*flood)
        elapsed = time.monotonic() - started
        after = await scrape_metrics(service)
        # The address's other requests are not held back: the form, the admin token.
        anonymous = await service.public.post(
            f"/v1/forums/{forum['id']}/registrations", json=bodies.registration()
        )
        admin = await service.staff.get("/v1/organizations")

    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {401, 429}, statuses
    refilled = math.ceil(elapsed * budget / 60)
    assert statuses[401] <= budget + refilled, statuses
    for answer in answers:
        if answer.status_code == httpx.codes.TOO_MANY_REQUESTS:
            problem(answer, 429)
            assert int(answer.headers["retry-after"]) >= 1
    # Only the 401s were looked up; every 429 was answered without asking the database.
    looked_up = _lookups_added(before, after, "unknown")
    refused = _lookups_added(before, after, "refused")
    assert (looked_up, refused) == (statuses[401], statuses[429])
    assert ok(anonymous, 201)["status"] in ("confirmed", "waitlisted")
    ok(admin)


@asynccontextmanager
async def token_table_locked(service: RunningService) -> AsyncIterator[asyncpg.Connection]:
    """Every token lookup waits while this lasts; yields a connection to watch them with."""
    locker = await service.database()
    watcher = await service.database()
    try:
        async with locker.transaction():
            await locker.execute("LOCK TABLE access.tokens IN ACCESS EXCLUSIVE MODE")
            yield watcher
    finally:
        await watcher.close()
        await locker.close()


def _lookups_added(before: str, after: str, outcome: str) -> float:
    return metric_value(after, LOOKUPS, outcome=outcome) - metric_value(
        before, LOOKUPS, outcome=outcome
    )


async def _lookups_waiting(conn: asyncpg.Connection) -> int:
    """Backends blocked on the lock the test holds on access.tokens: lookups in progress."""
    waiting: int = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE '%access.tokens%'"
    )
    return waiting


async def _has_waiting_lookups(conn: asyncpg.Connection) -> bool:
    return await _lookups_waiting(conn) > 0


async def _beside_the_flood(service: RunningService, forum_id: str, intake_token: str) -> None:
    """An anonymous registration and one with a (cached) intake token, both answered."""
    answers = await asyncio.wait_for(
        asyncio.gather(
            register(
                service,
                forum_id,
                client=service.public,
                headers={"X-Forwarded-For": "198.51.100.20"},
            ),
            register(
                service,
                forum_id,
                client=service.public,
                headers={"Authorization": f"Bearer {intake_token}"},
            ),
        ),
        ANSWER_TIMEOUT_SECONDS,
    )
    for answer in answers:
        assert ok(answer, 201)["status"] in ("confirmed", "waitlisted")


async def test_a_flood_of_made_up_tokens_leaves_the_pool_to_registrations(
    settings: Settings,
) -> None:
    """Every lookup is held up by a lock on the token table, as a slow or overloaded access
    store would: the flood may hold `token_lookup_concurrency` connections, never the pool."""
    behind_proxy = settings.model_copy(update={"trust_forwarded_for": True})
    assert behind_proxy.token_lookup_concurrency < behind_proxy.db_pool_max_size - 1
    async with running_registration(behind_proxy) as service, flood_client(service) as client:
        forum = await new_forum(service)
        conn = await service.database()
        try:
            intake_token = await create_token(conn, role=Role.INTAKE, name="partner CRM")
        finally:
            await conn.close()
        intake = {"Authorization": f"Bearer {intake_token}"}
        ok(await service.public.get("/v1/forums", headers=intake))  # now in the role cache

        async with token_table_locked(service) as watcher:
            # Each from an address of its own (so no per-address limit helps), a tail from one.
            flood = [
                flood_request(
                    client, forum["id"], n, f"203.0.{n // 250}.{n % 250}" if n < 250 else None
                )
                for n in range(FLOOD_SIZE)
            ]
            await until(
                lambda: _has_waiting_lookups(watcher), ANSWER_TIMEOUT_SECONDS, "lookups held up"
            )
            await _beside_the_flood(service, forum["id"], intake_token)
            waiting_during = await _lookups_waiting(watcher)
        answers = await asyncio.gather(*flood)

    assert waiting_during == behind_proxy.token_lookup_concurrency
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses[401] >= 250  # every spoofed address had its own budget
    assert statuses[429] > 0  # the tail from one address ran out of it
