"""HTTP plumbing every service shares: problem+json errors, the body size limit, request metrics,
health, /metrics, and the server that runs a service's app."""

import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime import metrics
from services.runtime.transient import CANDIDATES, is_transient

log = logging.getLogger(__name__)

# How long the server keeps an idle connection open: longer than any client's or proxy's idle
# expiry (httpx and uvicorn's own default are both 5 s; nginx and cloud load balancers 60 s).
# When the server closes first, a request the client sent on that connection at the same
# instant fails (a ReadError to the client, a 502 from a proxy); the client must close first.
KEEP_ALIVE_SECONDS = 75

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
    503: "The database or broker is unreachable for a moment (`Retry-After` says when to try "
    "again); nothing was changed",
}
# What a client is told to wait when the database or broker is briefly away (a restart or
# failover takes seconds).
UNAVAILABLE_RETRY_SECONDS = 5


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


# Every request body of every service: the longest field (a held forum's outcomes, 20,000
# characters) fits even at 3 bytes a character.
MAX_BODY_BYTES = 64 * 1024

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
        message = str(error.get("msg", ""))
        if error.get("type") == "json_invalid":
            # FastAPI puts the character offset where a field would be: it is the body's fault.
            location, message = ["body"], f"not JSON: {context.get('error', message)}"
        elif "field" in context:  # a whole-model check that names its field (schemas.commands)
            location = [*location, *str(context["field"]).split(".")]
        errors.append({"field": field_path(location), "message": message})
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


def _unreadable_body_problem(cause: BaseException) -> JSONResponse:
    """422 naming `body` (as for a syntax error) for a body FastAPI could not parse as JSON for
    another reason than its syntax."""
    if isinstance(cause, RecursionError):
        reason = "nested too deeply"
    elif isinstance(cause, UnicodeDecodeError):
        reason = "not UTF-8"
    else:  # e.g. an integer of more than 4,300 digits, which int() refuses to read
        reason = "holds a value JSON readers refuse, such as a number too long"
    message = f"not JSON this API can read: {reason}"
    return problem(422, "Invalid request", message, [{"field": "body", "message": message}])


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    # FastAPI answers a body it cannot parse, other than by a syntax error, with a bare 400
    # "There was an error parsing the body" raised from the parsing error.
    if error.status_code == 400 and error.__cause__ is not None:
        return _unreadable_body_problem(error.__cause__)
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


class Refused(Exception):
    """A request refused with `status`, saying why and naming the field it is about (a service
    without domain errors of its own raises these; install_problem_handlers answers them)."""

    def __init__(self, status: int, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


async def _on_refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, Refused)
    errors = [{"field": error.field, "message": error.detail}] if error.field else []
    return problem(error.status, HTTPStatus(error.status).phrase, error.detail, errors)


def unavailable_problem() -> JSONResponse:
    """503 for a request that met the database or broker away: the transaction rolled back,
    so the client may send it again (a registration with its Idempotency-Key)."""
    detail = "the database or broker is unreachable for a moment; nothing was changed, try again"
    response = problem(503, "Service Unavailable", detail)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    return response


async def _on_maybe_transient(request: Request, error: Exception) -> Response:
    """A database restart or a lost connection is 503, not 500; anything else of these classes
    is a bug, answered 500 and logged with its traceback by Starlette's error middleware."""
    if not is_transient(error):
        raise error
    log.warning("%s %s: %s, answered 503", request.method, request.url.path,
                type(error).__name__)  # fmt: skip
    return unavailable_problem()


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Refused, _on_refused)
    for transient_class in CANDIDATES:
        app.add_exception_handler(transient_class, _on_maybe_transient)
    document_problems(app)


def linked(
    status: int, description: str, parameter: str, *operation_ids: str
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entry whose body's `id` feeds `parameter` of the operations named:
    clients (and schemathesis' stateful phase) follow a created resource to what acts on it."""
    links = {
        operation_id: {"operationId": operation_id, "parameters": {parameter: "$response.body#/id"}}
        for operation_id in operation_ids
    }
    return {status: {"description": description, "links": links}}


def operation_id(route: APIRoute) -> str:
    """Operation ids are the route functions' names (`read_forum`), for links to name them."""
    return route.name


def document_problems(app: FastAPI) -> None:
    """FastAPI files a response model under the route's media type (application/json); the
    refusals are sent as application/problem+json, so the document says so."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    for status, response in responses.items():
                        content = response.get("content", {})
                        if status.startswith("4") and "application/json" in content:
                            content[PROBLEM_JSON] = content.pop("application/json")
                    responses.setdefault("503", _unavailable_response(document))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _unavailable_response(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation may meet the database or broker away (`unavailable_problem`)."""
    described: dict[str, Any] = {"description": PROBLEM_DESCRIPTIONS[503]}
    if "Problem" in document.get("components", {}).get("schemas", {}):
        schema = {"$ref": "#/components/schemas/Problem"}
        described["content"] = {PROBLEM_JSON: {"schema": schema}}
    return described


class BodySizeLimit:
    """Answers 413 to a request body over `max_bytes` before the app sees any of it.

    With Content-Length the header decides and nothing is read. A body without it (chunked) is
    read here up to the limit, then handed on in one piece: the app never gets more, and a
    route that never reads its body (GET, DELETE) cannot act on an oversized request.
    Starlette's RequestBodyLimitMiddleware checks only as the app reads: a DELETE with an
    oversized body would erase first and have its answer replaced by the 413 afterwards.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await self._too_large()(scope, receive, send)
            else:  # the server hands on no more than the declared length
                await self.app(scope, receive, send)
            return
        received = await self._read_within_limit(receive)
        if received is None:
            await self._too_large()(scope, receive, send)
        else:
            await self.app(scope, _replaying(received, receive), send)

    async def _read_within_limit(self, receive: Receive) -> Message | None:
        """The whole body as one message (or the disconnect that cut it short); None once it
        grows past the limit, and nothing more is read then."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    def _too_large(self) -> JSONResponse:
        limit = f"at most {self.max_bytes} bytes ({self.max_bytes // 1024} KiB)"
        return problem(
            413,
            "Content Too Large",
            f"the request body is too large: {limit}",
            [{"field": "body", "message": limit}],
        )


def _declared_length(scope: Scope) -> int | None:
    """Content-Length when it is a number (servers refuse other values before the app)."""
    header = Headers(scope=scope).get("content-length")
    if header is None or not (header.isascii() and header.isdigit()):
        return None
    # Not int() of any length: beyond 4,300 digits it raises, and 19 digits exceed any limit.
    return int(header) if len(header) < 19 else sys.maxsize


def _replaying(first: Message, receive: Receive) -> Receive:
    """A receive that gives `first` (the whole body) first, then what the server sends."""
    pending = [first]

    async def receive_replayed() -> Message:
        return pending.pop() if pending else await receive()

    return receive_replayed


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


def install_health_and_metrics(
    app: FastAPI,
    checks: dict[str, Check] | Callable[[], dict[str, Check]],
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """/health/live, /health/ready running every check (or those `checks()` gives at the time
    of asking: a service's host knows its parts only once started), and /metrics.

    `before_scrape` runs before /metrics answers: a service whose metrics are computed from its
    database (reporting) reads them there, since collectors cannot wait for a query."""

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
        current = checks() if callable(checks) else checks
        results = {name: await _run_check(check) for name, check in current.items()}
        healthy = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": results},
            status_code=200 if healthy else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        if before_scrape is not None:
            await before_scrape()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _run_check(check: Check) -> str:
    try:
        await check()
    except Exception as error:  # a health check reports any failure, it never raises
        return f"failed: {type(error).__name__}"
    return "ok"


def server_options(
    app: ASGIApp | str, *, host: str, port: int, log_level: str, workers: int = 1
) -> dict[str, Any]:
    """uvicorn's options for a service's app (an import string of a factory when several
    worker processes each build their own)."""
    return {
        "app": app,
        "factory": isinstance(app, str),
        "workers": workers,
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "access_log": False,
        # Forwarded headers are ours to judge (settings.trust_forwarded_for), not uvicorn's.
        "proxy_headers": False,
        "log_level": log_level.lower(),
    }


def serve(app: ASGIApp | str, *, host: str, port: int, log_level: str, workers: int = 1) -> None:
    """Run the app until SIGTERM/SIGINT (uvicorn handles both and runs the lifespan exit)."""
    uvicorn.run(**server_options(app, host=host, port=port, log_level=log_level, workers=workers))
