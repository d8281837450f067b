"""A supervised background task runs its work again after a crash and says when it is down."""

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from services.runtime.background import SupervisedTask, TaskNotRunning, TaskState
from tests.polling import until


def restarts(name: str) -> float:
    value = REGISTRY.get_sample_value("dialognet_background_task_restarts_total", {"task": name})
    return value or 0.0


def running_gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value("dialognet_background_task_running", {"task": name})


class CrashingOnce:
    """Work whose first run raises; the next one runs until told to return."""

    def __init__(self) -> None:
        self.runs = 0
        self.finish = asyncio.Event()

    async def __call__(self) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("a bug the work's own handling did not expect")
        await self.finish.wait()


@pytest.fixture
async def crashing_once() -> AsyncIterator[tuple[SupervisedTask, CrashingOnce]]:
    work = CrashingOnce()
    task = SupervisedTask("test_crashing_once", work)
    try:
        yield task, work
    finally:
        await task.stop()


async def test_work_that_crashed_runs_again(
    crashing_once: tuple[SupervisedTask, CrashingOnce], caplog: pytest.LogCaptureFixture
) -> None:
    task, work = crashing_once
    before = restarts(task.name)

    task.start()

    await until(lambda: _ran_twice(work), 5.0, "the work ran again")
    assert task.state is TaskState.RUNNING
    await task.check_running()
    assert restarts(task.name) == before + 1
    assert running_gauge(task.name) == 1.0
    [crash] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert "test_crashing_once crashed" in crash.getMessage()
    assert crash.exc_info is not None
    assert "did not expect" in str(crash.exc_info[1])


async def _ran_twice(work: CrashingOnce) -> bool:
    return work.runs == 2


async def test_work_that_ended_is_not_running(
    crashing_once: tuple[SupervisedTask, CrashingOnce],
) -> None:
    task, work = crashing_once
    task.start()
    await until(lambda: _ran_twice(work), 5.0, "the work ran again")

    work.finish.set()

    await until(lambda: _in_state(task, TaskState.ENDED), 5.0, "the task ended")
    with pytest.raises(TaskNotRunning, match="test_crashing_once is ended"):
        await task.check_running()
    assert running_gauge(task.name) == 0.0
    assert work.runs == 2  # work that returned is not run again


async def _in_state(task: SupervisedTask, state: TaskState) -> bool:
    return task.state is state


async def test_while_it_waits_to_restart_it_is_not_running() -> None:
    async def always_crashing() -> None:
        raise RuntimeError("broken")

    task = SupervisedTask("test_always_crashing", always_crashing)
    task.start()
    try:
        await until(lambda: _in_state(task, TaskState.RESTARTING), 5.0, "waiting to restart")
        with pytest.raises(TaskNotRunning, match="test_always_crashing is restarting"):
            await task.check_running()
        await until(lambda: _restarted(task, 2), 5.0, "restarted again after a longer delay")
    finally:
        await task.stop()
    assert task.state is TaskState.STOPPED
    with pytest.raises(TaskNotRunning, match="is stopped"):
        await task.check_running()


async def _restarted(task: SupervisedTask, times: float) -> bool:
    return restarts(task.name) >= times
