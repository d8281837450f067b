"""`POST /v1/forums/{forum_id}/registrations`, answered ahead of FastAPI's request machinery.

The one endpoint under load (the public form and other systems). FastAPI's routing, dependency
solving and its middleware layers cost about a third of that endpoint's CPU (bench/README.md),
so this ASGI middleware serves every POST to that path — whatever spelling of the forum id, a
valid one or not — with the parts the other routes use (`resolve_caller`,
`enforce_rate_limit`, the `Register` model, `admit_registration`, the problem bodies). The route
in http/registrations.py only describes the operation in the OpenAPI document; it is never
reached. Every other request goes on to FastAPI unchanged.
"""

import logging
import re
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import Headers, State
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.commands import Register
from services.registration.domain.errors import DomainError, RuleViolation
from services.registration.http.deps import (
    CORRELATION_HEADER,
    enforce_rate_limit,
    trace_from,
)
from services.registration.http.problems import domain_error_problem
from services.registration.http.registrations import ROUTE_TEMPLATE, admit_registration
from services.runtime import http
from services.runtime.auth import resolve_caller
from services.runtime.client_address import ClientAddresses
from services.runtime.transient import is_transient

log = logging.getLogger(__name__)

# What Starlette's `{forum_id}` matches: one path segment, any characters but `/`.
_PATH = re.compile(r"^/v1/forums/([^/]+)/registrations$")
MAX_IDEMPOTENCY_KEY = 200
# The forum id parsed exactly as FastAPI parses a `UUID` path parameter (hyphens or not,
# braces, `urn:uuid:`, any case), with the same error messages.
_FORUM_ID = TypeAdapter(UUID)


class BodyTooLarge(Exception):
    """More than the body limit arrived; nothing more is read."""


class _Route:
    """What request metrics read from `scope["route"]`: the template, never the id."""

    path = ROUTE_TEMPLATE


class RegistrationFastPath:
    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: services, settings, token roles, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        forum_segment = registration_target(scope)
        if forum_segment is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _Route()
        response = await self._answer(scope, receive, forum_segment)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, forum_segment: str) -> Response:
        state = self.state
        headers = Headers(scope=scope)
        try:
            body = await _read_body(receive)
            peer = scope["client"][0] if scope.get("client") else None
            addresses: ClientAddresses = state.client_addresses
            client = addresses.limit_key(peer, headers.get("x-forwarded-for"))
            who = await resolve_caller(headers.get("authorization"), client, state.token_roles)
            enforce_rate_limit(state, who, client)
            parsed = _parse(forum_segment, body)
            if isinstance(parsed, list):
                return http.validation_problem(parsed)
            forum_id, request = parsed
            return await admit_registration(
                state,
                forum_id,
                request,
                who,
                trace_from(headers.get(CORRELATION_HEADER)),
                _idempotency_key(headers),
            )
        except DomainError as error:
            return domain_error_problem(error)
        except BodyTooLarge:
            detail = f"the body is larger than {http.MAX_BODY_BYTES} bytes"
            return http.problem(
                413, "Content Too Large", detail, [{"field": "body", "message": detail}]
            )
        except HTTPException as error:
            return http.http_error_problem(error)
        except Exception as error:  # outside FastAPI's error middleware: answer as it would
            if is_transient(error):  # the database restarting, a lost connection
                log.warning("registration: %s, answered 503", type(error).__name__)
                return http.unavailable_problem()
            log.exception("registration failed unexpectedly")
            return http.problem(500, "Internal Server Error", "the registration failed; try again")


def registration_target(scope: Scope) -> str | None:
    """The forum id segment (as written) when this is a registration POST, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    match = _PATH.match(scope["path"])
    return match.group(1) if match else None


def _parse(forum_segment: str, body: bytes) -> tuple[UUID, Register] | list[dict[str, Any]]:
    """The forum id and the body, or every problem with either — located as FastAPI locates
    them (`path`/`body` first), so field names come out as on every other route."""
    errors: list[dict[str, Any]] = []
    forum_id = request = None
    try:
        forum_id = _FORUM_ID.validate_python(forum_segment)
    except ValidationError as error:
        errors += [{**item, "loc": ("path", "forum_id")} for item in error.errors()]
    try:
        request = Register.model_validate_json(body)
    except ValidationError as error:
        errors += [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
    if forum_id is None or request is None:
        return errors
    return forum_id, request


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPException(400, "the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > http.MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _idempotency_key(headers: Headers) -> str | None:
    key = headers.get("idempotency-key")
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise RuleViolation(f"at most {MAX_IDEMPOTENCY_KEY} characters", field="Idempotency-Key")
    return key
