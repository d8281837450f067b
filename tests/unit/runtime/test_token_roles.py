"""The role cache in front of the access store: which tokens are looked up, and when not."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from services.runtime.access.tokens import token_hash
from services.runtime.auth import TokenRoles, TooManyFailedLookups
from services.runtime.ratelimit import RateLimiter

KNOWN = "known-token"


class FakeAccessStore:
    """A pool whose connections answer the role query for one known token, counting queries and
    how many run at once."""

    def __init__(self) -> None:
        self.queries = 0
        self.running = 0
        self.most_at_once = 0

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator["FakeAccessStore"]:
        yield self

    async def fetchval(self, sql: str, digest: str) -> Any:
        self.queries += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0)  # let other lookups in, as a real query would
        self.running -= 1
        return "staff" if digest == token_hash(KNOWN) else None


def roles(store: FakeAccessStore, *, failures_per_minute: int = 3, **options: Any) -> TokenRoles:
    return TokenRoles(
        store,  # type: ignore[arg-type]
        "admin-token",
        cache_seconds=options.get("cache_seconds", 0.0),
        failed_lookups=RateLimiter(failures_per_minute),
        lookup_concurrency=options.get("lookup_concurrency", 1),
    )


async def test_unknown_tokens_beyond_the_budget_are_refused_without_a_query() -> None:
    store = FakeAccessStore()
    token_roles = roles(store, failures_per_minute=3)
    assert [await token_roles.role_of(f"made-up-{n}", "203.0.113.7") for n in range(3)] == [
        None
    ] * 3
    with pytest.raises(TooManyFailedLookups) as refused:
        await token_roles.role_of("made-up-4", "203.0.113.7")
    assert refused.value.retry_after > 0
    assert store.queries == 3
    # Another address has its own budget; the admin token needs no lookup at all.
    assert await token_roles.role_of("made-up-5", "198.51.100.1") is None
    assert await token_roles.role_of("admin-token", "203.0.113.7") == "staff"
    assert store.queries == 4


async def test_known_tokens_do_not_use_up_the_budget() -> None:
    store = FakeAccessStore()
    token_roles = roles(store, failures_per_minute=2, cache_seconds=0.0)
    for _ in range(10):
        assert await token_roles.role_of(KNOWN, "203.0.113.7") == "staff"
    assert store.queries == 10
    assert await token_roles.role_of("made-up", "203.0.113.7") is None


async def test_lookups_are_bounded_in_concurrency() -> None:
    store = FakeAccessStore()
    token_roles = roles(store, failures_per_minute=1000, lookup_concurrency=2)
    await asyncio.gather(*(token_roles.role_of(f"made-up-{n}", f"c{n}") for n in range(50)))
    assert store.queries == 50
    assert store.most_at_once == 2


async def test_a_known_role_is_cached() -> None:
    store = FakeAccessStore()
    token_roles = roles(store, cache_seconds=30.0)
    for _ in range(5):
        assert await token_roles.role_of(KNOWN, "203.0.113.7") == "staff"
    assert store.queries == 1


async def test_a_lookup_that_fails_does_not_count_against_the_address() -> None:
    """The access store being unreachable is not the client guessing tokens."""

    class Unreachable(FakeAccessStore):
        async def fetchval(self, sql: str, digest: str) -> Any:
            raise ConnectionError("access database down")

    token_roles = roles(Unreachable(), failures_per_minute=1)
    for _ in range(3):
        with pytest.raises(ConnectionError):
            await token_roles.role_of(KNOWN, "203.0.113.7")
