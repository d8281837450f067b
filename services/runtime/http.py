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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def validation_problem(raw_errors: Sequence[Any]) -> JSONResponse:
    errors = validation_errors(raw_errors)
    names = ", ".join(sorted({entry["field"] for entry in errors}))
    return problem(422, "Invalid request", f"invalid fields: {names}", errors)


def http_error_problem(error: StarletteHTTPException) -> JSONResponse:
    response = problem(error.status_code, HTTPStatus(error.status_code).phrase, str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return validation_problem(error.errors())


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    return http_error_problem(error)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


class RequestMetrics:
    """Counts and times every request by method, route template and status.

    A plain ASGI middleware: Starlette's `@app.middleware("http")` (BaseHTTPMiddleware) runs
    each request through a task group and a response stream, which cost about a sixth of the
    registration hot path's CPU (py-spy, bench/registrations.py).
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what ServerErrorMiddleware answers if the app raises before responding

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            # The route template, not the path: ids must never become label values.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            metrics.HTTP_DURATION.labels(self.service, method, route).observe(
                time.perf_counter() - started
            )


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
