"""Schemathesis over the registration service's /openapi.json with a staff token: no server
error, every status and content type as documented — on examples generated from the document,
valid and invalid alike.

Run as schemathesis' own command line (its pytest plugin does not run on pytest 9), against the
service running in this test's event loop, which stays free while the command runs."""

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_ADMIN_TOKEN
from tests.integration.conftest import RunningService

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"
EXAMPLES_PER_OPERATION = 20
SEED = 20261201  # the same examples in every run, so CI is repeatable
RUN_WITHIN_SECONDS = 600.0


async def test_the_api_answers_as_its_document_says(
    service: RunningService, tmp_path: Path
) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{service.base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        "--mode",
        "all",
        "--header",
        f"Authorization: Bearer {TEST_ADMIN_TOKEN}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_WITHIN_SECONDS)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
    assert "No issues found" in text or " passed" in text, text[-5_000:]
