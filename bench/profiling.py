"""py-spy sampling a service process while a block of a benchmark runs."""

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path


@contextlib.asynccontextmanager
async def profiling(pid: int, output: Path | None, work_dir: Path) -> AsyncIterator[None]:
    """py-spy samples the process while the block runs (it needs ptrace rights); `output`
    ending in .txt gets the collapsed stacks, else a flame graph (.svg)."""
    if output is None:
        yield
        return
    output_format = "raw" if output.suffix == ".txt" else "flamegraph"
    with (work_dir / "py-spy.log").open("ab") as log:
        recorder = subprocess.Popen(
            [
                *("py-spy", "record", "--nonblocking", "--rate", "250"),
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
