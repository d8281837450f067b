"""What every benchmark here shares: percentiles, the machine it ran on, the verdict against a
goal, and py-spy sampling a service while a round runs."""

import asyncio
import contextlib
import math
import os
import platform as host
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvloop


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


@contextlib.asynccontextmanager
async def profiling(pid: int, output: Path | None, work_dir: Path) -> AsyncIterator[None]:
    """py-spy samples the service while the block runs (it needs ptrace rights)."""
    if output is None:
        yield
        return
    output_format = "raw" if output.suffix == ".txt" else "flamegraph"
    with (work_dir / "py-spy.log").open("ab") as log:
        recorder = subprocess.Popen(
            [
                *("py-spy", "record", "--nonblocking", "--subprocesses", "--rate", "250"),
                *("--format", output_format, "-o", str(output), "-p", str(pid)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        await asyncio.sleep(1.0)  # py-spy attaches
        try:
            yield
        finally:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                await asyncio.to_thread(recorder.wait, 30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait()


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": host.python_version(),
        "os": f"{host.system()} {host.release()}",
        "load": " ".join(f"{load:.1f}" for load in os.getloadavg()),
    }


async def postgres_version(database_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return version.split()[0]
    finally:
        await conn.close()


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def run_to_exit_code(
    run: Callable[[Path], Coroutine[Any, Any, bool]], work_dir: Path | None
) -> int:
    """Run a benchmark in `work_dir` (default: a temporary one) on uvloop: 0 when it met its
    goals, 1 when not, 130 on Ctrl-C (everything it started is stopped by then)."""
    with contextlib.ExitStack() as stack:
        work_dir = work_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="dialognet-bench-"))
        )
        work_dir.mkdir(parents=True, exist_ok=True)
        try:
            return 0 if uvloop.run(run(work_dir)) else 1
        except KeyboardInterrupt:
            print("\ninterrupted; everything started here is stopped", file=sys.stderr)
            return 130
