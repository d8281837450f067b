"""The OpenAPI document says what each operation answers: every refusal as problem+json."""

from typing import Any

import pytest

from services.registration.app import create_api
from services.runtime.settings import Settings

EVERY_OPERATION = {"401", "413", "422", "429"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    spec: dict[str, Any] = create_api(Settings(kafka_bootstrap="localhost:9092")).openapi()
    return spec


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in operations.items()
    ]


def test_every_operation_documents_its_refusals_as_problems(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) == 16
    for method, path, operation in operations:
        responses = operation["responses"]
        assert set(responses) >= EVERY_OPERATION, (method, path, sorted(responses))
        for status, response in responses.items():
            if status.startswith("4"):
                [(media_type, content)] = response["content"].items()
                assert media_type == "application/problem+json", (method, path, status)
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("POST", "/v1/forums/{forum_id}/registrations", {"201", "403", "404", "409"}),
        ("POST", "/v1/registrations/{registration_id}/cancel", {"403", "404", "409"}),
        ("PATCH", "/v1/forums/{forum_id}", {"403", "404", "409"}),
        ("DELETE", "/v1/organizations/{organization_id}", {"204", "403", "404"}),
        ("GET", "/v1/forums/{forum_id}", {"404"}),
    ],
)
def test_operations_name_their_own_refusals(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    assert statuses <= set(document["paths"][path][method.lower()]["responses"])


def test_the_problem_schema_names_the_fields(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"title", "status", "detail"} <= set(problem["required"])
    assert "errors" in problem["properties"]
