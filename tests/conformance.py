"""Schemathesis over a running service's /openapi.json with a staff token: no server error,
every status and content type as documented, on examples generated from the document, valid
and invalid alike.

Run as schemathesis' own command line (its pytest plugin does not run on pytest 9), against a
service running in the test's event loop, which stays free while the command runs."""

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_ADMIN_TOKEN

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"
SEED = 20261201  # the same examples in every run, so CI is repeatable
RUN_WITHIN_SECONDS = 600.0


async def assert_conforms(base_url: str, scratch: Path, examples_per_operation: int) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(examples_per_operation),
        "--seed",
        str(SEED),
        "--mode",
        "all",
        "--header",
        f"Authorization: Bearer {TEST_ADMIN_TOKEN}",
    ]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_WITHIN_SECONDS)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
    assert "No issues found" in text or " passed" in text, text[-5_000:]
