"""Wake a loop when PostgreSQL says there is work (LISTEN/NOTIFY), or after its poll interval —
the one way the outbox relay, the notification sender and the like wait for work."""

import asyncio
import contextlib

import asyncpg
from asyncpg.pool import PoolConnectionProxy


class Wakeup:
    """LISTENs on `channel` on a connection it holds from `pool` (one of the pool's
    connections, for the loop's lifetime); `wait()` returns on a NOTIFY or after `poll_seconds`.

    After the listening connection dies (database restart, terminated backend) it listens
    again on the next `listen()`, or the loop would fall back to polling for good; work
    committed while nobody listened is found by the loop's next round, which the loss wakes.
    """

    def __init__(self, pool: asyncpg.Pool, channel: str, poll_seconds: float) -> None:
        self._pool = pool
        self._channel = channel
        self._poll_seconds = poll_seconds
        self._event = asyncio.Event()
        self._listener: PoolConnectionProxy[asyncpg.Record] | None = None

    async def listen(self) -> None:
        """Listen (again), unless already listening; call before each round."""
        if self._listener is not None:
            return
        listener = await self._pool.acquire()
        try:
            await listener.add_listener(self._channel, self._notified)
        except BaseException:
            await self._pool.release(listener)
            raise
        listener.add_termination_listener(self._lost)
        self._listener = listener

    async def wait(self) -> bool:
        """Until a NOTIFY (or the listener's loss, or `set()`), at most the poll interval;
        True when woken, False when the interval passed."""
        woken = True
        try:
            await asyncio.wait_for(self._event.wait(), self._poll_seconds)
        except TimeoutError:
            woken = False
        self._event.clear()
        return woken

    def set(self) -> None:
        """Wake the loop now (work was added by this process)."""
        self._event.set()

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.remove_termination_listener(self._lost)
        with contextlib.suppress(Exception):  # stopping: the database may be gone already
            await listener.remove_listener(self._channel, self._notified)
        await self._pool.release(listener)

    def _notified(self, *_: object) -> None:
        self._event.set()

    def _lost(self, *_: object) -> None:
        # The pool has taken the dead connection back already: listen anew now, not only
        # after the poll interval.
        self._listener = None
        self._event.set()
