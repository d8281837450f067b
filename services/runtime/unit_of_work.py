"""One transaction per command: the state change, its outbox rows and, for a consumed message,
its inbox claim — all or nothing."""

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import asyncpg

from services.runtime import inbox
from services.runtime.db import Connection
from services.runtime.inbox import InboxEntry


class UnitOfWork(Protocol):
    """Opens the transaction a command runs in; the command never knows what else it holds."""

    def __call__(self) -> contextlib.AbstractAsyncContextManager[Connection]: ...


def transaction(pool: asyncpg.Pool) -> UnitOfWork:
    """A plain transaction on a pooled connection (HTTP requests, the CLI)."""

    @contextlib.asynccontextmanager
    async def begin() -> AsyncIterator[Connection]:
        async with pool.acquire() as conn, conn.transaction():
            yield conn

    return begin


def given_or_transaction(unit: UnitOfWork | None, pool: asyncpg.Pool) -> UnitOfWork:
    """The caller's unit of work (a consumer's, claiming its message), else a plain one."""
    return unit or transaction(pool)


def claiming(pool: asyncpg.Pool, *, schema: str, entry: InboxEntry) -> UnitOfWork:
    """A transaction that first claims `entry` in the inbox of `schema`; raises
    `inbox.AlreadyProcessed` before the command runs when the message was processed before."""

    @contextlib.asynccontextmanager
    async def begin() -> AsyncIterator[Connection]:
        async with pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, schema=schema, entry=entry):
                raise inbox.AlreadyProcessed(entry.event_id)
            yield conn

    return begin
