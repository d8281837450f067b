"""A request that meets the database or broker away is answered 503 with Retry-After, not 500;
a bug of the same exception classes is still a 500."""

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from fastapi import FastAPI

from services.runtime.http import UNAVAILABLE_RETRY_SECONDS, install_problem_handlers


def _app(error: Exception) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/thing")
    async def thing() -> dict[str, str]:
        raise error

    return app


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("pool is closing"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        KafkaConnectionError(),
    ],
)
async def test_a_transient_failure_is_503_with_retry_after(error: Exception) -> None:
    transport = httpx.ASGITransport(app=_app(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/thing")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == str(UNAVAILABLE_RETRY_SECONDS)
    assert "nothing was changed" in answer.json()["detail"]


@pytest.mark.parametrize(
    "error", [asyncpg.InterfaceError("cannot perform operation"), FileNotFoundError("t.html")]
)
async def test_a_bug_of_the_same_classes_stays_a_500(error: Exception) -> None:
    transport = httpx.ASGITransport(app=_app(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/thing")
    assert answer.status_code == 500


def test_every_operation_documents_the_503() -> None:
    app = _app(ValueError())
    document = app.openapi()
    assert document["paths"]["/thing"]["get"]["responses"]["503"]["description"]
