"""Schemathesis over the registration service's /openapi.json (tests/conformance.py)."""

from pathlib import Path

from tests.conformance import assert_conforms
from tests.integration.conftest import RunningService

EXAMPLES_PER_OPERATION = 20


async def test_the_api_answers_as_its_document_says(
    service: RunningService, tmp_path: Path
) -> None:
    await assert_conforms(service.base_url, tmp_path, EXAMPLES_PER_OPERATION)
