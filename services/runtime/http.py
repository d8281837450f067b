"""HTTP plumbing every service shares: problem+json errors, request metrics, health, /metrics."""

import time
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime import metrics

PROBLEM_JSON = "application/problem+json"
PROBLEM_DESCRIPTIONS = {
    401: "No token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)",
    403: "The token's role, or the rule, does not allow this party",
    404: "No such resource",
    405: "The path does not serve this method (`Allow` names those it does)",
    409: "The resource's state does not allow it now",
    413: "The body is larger than the limit",
    422: "Invalid fields or a rule on a field; `errors` names each",
    429: "Too many requests from this address (`Retry-After` says when to try again)",
}


class FieldProblem(BaseModel):
    field: str = Field(description="The field, dotted (`contact.email`), or `body`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every refusal of every service is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = []


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a route or router: each status as a problem+json body (see
    `document_problems`, which files them under their media type)."""
    return {
        status: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[status]}
        for status in statuses
    }


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
    response = http_error_problem(error)
    if error.status_code == 405:
        # Starlette names the methods of the first route matching the path only; a path served
        # by several routes (GET list, POST create) allows all of theirs.
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at the request's path."""
    methods: set[str] = set()
    probe = {**request.scope, "method": "OPTIONS"}  # a method no route serves: path match only
    for context in iter_route_contexts(request.app.router.routes):
        match, _ = context.route.matches(probe)
        if match is not Match.NONE:
            methods.update(context.methods or ())
    return sorted(methods - {"HEAD"})


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    document_problems(app)


def document_problems(app: FastAPI) -> None:
    """FastAPI files a response model under the route's media type (application/json); the
    refusals are sent as application/problem+json, so the document says so."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status.startswith("4") and "application/json" in content:
                            content[PROBLEM_JSON] = content.pop("application/json")
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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

    @app.get(
        "/health/ready",
        tags=["operations"],
        summary="Every dependency and background part works",
        responses={503: {"description": "A check failed; `checks` says which and why"}},
    )
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
