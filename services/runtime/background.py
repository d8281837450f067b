"""Supervised background work: restarted with backoff after a crash, its state shown to health."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from services.runtime import metrics
from services.runtime.backoff import Backoff

log = logging.getLogger(__name__)

# A run that lasted this long before it crashed counts as healthy: the next restart is quick.
STABLE_AFTER_SECONDS = 60.0


class TaskState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"  # crashed; waits out its backoff, then runs again
    ENDED = "ended"  # the work returned: nothing restarts it
    STOPPED = "stopped"


class TaskNotRunning(Exception):
    """A readiness check's failure: the background work is not running right now."""


class SupervisedTask:
    """Runs `work` in a task of its own and runs it again after an unexpected exception.

    Without it a background loop that raised something its own handling did not expect (the
    outbox relay catches broker and database errors) ended silently with its task, and the
    service went on answering while nothing was published any more.
    """

    def __init__(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._work = work
        self._backoff = Backoff()
        self._state = TaskState.STOPPED
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> TaskState:
        return self._state

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def check_running(self) -> None:
        """For /health/ready: raises TaskNotRunning while crashed, ended or stopped."""
        if self._state is not TaskState.RUNNING:
            raise TaskNotRunning(f"{self.name} is {self._state}")

    async def _supervise(self) -> None:
        try:
            while True:
                self._set_state(TaskState.RUNNING)
                started = time.monotonic()
                try:
                    await self._work()
                except Exception:
                    await self._restart_after_crash(time.monotonic() - started)
                else:
                    log.error("background task %s ended; it is not restarted", self.name)
                    self._set_state(TaskState.ENDED)
                    return
        except asyncio.CancelledError:
            self._set_state(TaskState.STOPPED)
            raise

    async def _restart_after_crash(self, ran_seconds: float) -> None:
        if ran_seconds >= STABLE_AFTER_SECONDS:
            self._backoff.reset()
        delay = self._backoff.next_delay()
        log.exception("background task %s crashed; restarting it in %.1f s", self.name, delay)
        self._set_state(TaskState.RESTARTING)
        metrics.BACKGROUND_TASK_RESTARTS.labels(self.name).inc()
        await asyncio.sleep(delay)

    def _set_state(self, state: TaskState) -> None:
        self._state = state
        metrics.BACKGROUND_TASK_RUNNING.labels(self.name).set(state is TaskState.RUNNING)
