"""Keeps service child processes running: start, restart with backoff, stop with a deadline."""

import logging
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.runtime.embedded import die_with_parent, terminate

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
# A child that ran this long before dying counts as healthy again: its next restart is quick.
STABLE_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class ChildSpec:
    """How to run one service: its name, command line, environment and log file."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    log_path: Path


@dataclass
class _Child:
    spec: ChildSpec
    process: "subprocess.Popen[bytes] | None" = None
    log_file: IO[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    """Starts each child, restarts one that dies (exponential backoff), stops them all."""

    def __init__(self, specs: Sequence[ChildSpec]) -> None:
        self._children = [_Child(spec) for spec in specs]

    def start_all(self) -> None:
        for child in self._children:
            self._spawn(child)

    def pids(self) -> dict[str, int]:
        return {c.spec.name: c.process.pid for c in self._children if c.process is not None}

    def check(self) -> None:
        """Notice children that died and restart those whose backoff has run out."""
        now = time.monotonic()
        for child in self._children:
            if child.restart_at is not None and now >= child.restart_at:
                self._spawn(child)
            elif child.process is not None and child.process.poll() is not None:
                self._schedule_restart(child, now)

    def stop_all(self, timeout: float = 10.0) -> None:
        """SIGTERM every child at once, SIGKILL those still running after `timeout`."""
        running = [c for c in self._children if c.process is not None]
        for child in running:
            if child.process is not None and child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + timeout
        for child in running:
            assert child.process is not None
            terminate(child.process, max(0.0, deadline - time.monotonic()))
            child.process = None
            self._close_log(child)

    def _spawn(self, child: _Child) -> None:
        spec = child.spec
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._close_log(child)
        child.log_file = spec.log_path.open("ab")
        # Own process group: Ctrl-C reaches only the supervisor, which stops children in order.
        child.process = subprocess.Popen(  # noqa: S603 - argv built from our own service list
            list(spec.argv),
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=child.log_file,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=die_with_parent,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started %s (pid %s), log %s", spec.name, child.process.pid, spec.log_path)

    def _schedule_restart(self, child: _Child, now: float) -> None:
        assert child.process is not None
        code = child.process.returncode
        child.process = None
        if now - child.started_at > STABLE_AFTER_SECONDS:
            child.failures = 0
        delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**child.failures)
        child.failures += 1
        child.restart_at = now + delay
        log.error(
            "%s exited with code %s; restarting in %.1fs (see %s)",
            child.spec.name, code, delay, child.spec.log_path,
        )  # fmt: skip

    @staticmethod
    def _close_log(child: _Child) -> None:
        if child.log_file is not None:
            child.log_file.close()
            child.log_file = None
