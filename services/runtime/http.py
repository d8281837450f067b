"""HTTP plumbing every service shares: problem+json errors, request metrics, health, /metrics."""

import time
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.runtime import metrics

PROBLEM_JSON = "application/problem+json"

Check = Callable[[], Awaitable[None]]


def problem(
    status: int, title: str, detail: str, errors: Sequence[dict[str, str]] = (), **extra: Any
) -> JSONResponse:
    """An RFC 9457 problem body; `errors` name each bad field."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = list(errors)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def field_path(location: Sequence[int | str]) -> str:
    """`('body', 'contact', 'email')` → `contact.email`; a header keeps its name."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(raw_errors: Sequence[Any]) -> list[dict[str, str]]:
    errors = []
    for error in raw_errors:
        context = error.get("ctx") or {}
        location = list(error.get("loc", ()))
        if "field" in context:  # a whole-model check that names its field (schemas.commands)
            location = [*location, *str(context["field"]).split(".")]
        errors.append({"field": field_path(location), "message": str(error.get("msg", ""))})
    return errors


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = validation_errors(error.errors())
    names = ", ".join(sorted({entry["field"] for entry in errors}))
    return problem(422, "Invalid request", f"invalid fields: {names}", errors)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    response = problem(error.status_code, HTTPStatus(error.status_code).phrase, str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


def install_request_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # The route template, not the path: ids must never become label values.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.HTTP_REQUESTS.labels(
            service, request.method, route, str(response.status_code)
        ).inc()
        metrics.HTTP_DURATION.labels(service, request.method, route).observe(
            time.perf_counter() - started
        )
        return response


def install_health_and_metrics(app: FastAPI, checks: dict[str, Check]) -> None:
    @app.get("/health/live", tags=["operations"], summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["operations"], summary="Database and broker are reachable")
    async def ready() -> Response:
        results = {name: await _run_check(check) for name, check in checks.items()}
        healthy = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": results},
            status_code=200 if healthy else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _run_check(check: Check) -> str:
    try:
        await check()
    except Exception as error:  # a health check reports any failure, it never raises
        return f"failed: {type(error).__name__}"
    return "ok"
