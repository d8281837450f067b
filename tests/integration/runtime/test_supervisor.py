"""The supervisor restarts a child that dies and stops even one that ignores SIGTERM."""

import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from services.runtime.supervisor import ChildSpec, Supervisor

pytestmark = pytest.mark.integration


def _spec(tmp_path: Path, code: str) -> ChildSpec:
    return ChildSpec("probe", [sys.executable, "-c", code], {}, tmp_path / "probe.log")


def _wait_until(condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_child_that_dies_is_restarted(tmp_path: Path) -> None:
    counter = tmp_path / "starts"
    code = f"open({str(counter)!r}, 'a').write('x')"
    supervisor = Supervisor([_spec(tmp_path, code)])
    supervisor.start_all()

    def restarted() -> bool:
        supervisor.check()
        return counter.exists() and len(counter.read_text()) >= 3

    try:
        _wait_until(restarted, within=10)
    finally:
        supervisor.stop_all(timeout=5)


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    code = (
        "import signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"
    )
    supervisor = Supervisor([_spec(tmp_path, code)])
    supervisor.start_all()
    _wait_until(ready.exists, within=10)
    [pid] = supervisor.pids().values()
    started = time.monotonic()
    supervisor.stop_all(timeout=1)
    assert time.monotonic() - started < 5
    assert not psutil.pid_exists(pid)  # killed and reaped
