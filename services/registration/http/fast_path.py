"""The registration endpoint's hot path, answered before FastAPI's generic request machinery.

`POST /v1/forums/{forum_id}/registrations` is the one endpoint under load (the public form and
other systems). FastAPI's routing, dependency solving and its middleware layers cost about a
third of that endpoint's CPU (bench/README.md). This ASGI middleware answers it with the same
parts the FastAPI route uses — `resolve_caller`, `enforce_rate_limit`, the `Register` model,
`admit_registration` and the same problem bodies — and hands every other request on unchanged.
"""

import logging
import re
from typing import Any
from uuid import UUID

from pydantic import ValidationError
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
from services.registration.http.registrations import admit_registration
from services.runtime import http
from services.runtime.auth import resolve_caller
from services.runtime.client_address import ClientAddresses

log = logging.getLogger(__name__)

ROUTE_TEMPLATE = "/v1/forums/{forum_id}/registrations"
_PATH = re.compile(r"^/v1/forums/([0-9a-fA-F-]{36})/registrations$")
MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 200


class _Route:
    """What request metrics read from `scope["route"]`: the template, never the id."""

    path = ROUTE_TEMPLATE


class RegistrationFastPath:
    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: service, settings, token roles, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        forum_id = _registration_target(scope)
        if forum_id is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _Route()
        response = await self._answer(scope, receive, forum_id)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, forum_id: UUID) -> Response:
        state = self.state
        headers = Headers(scope=scope)
        try:
            body = await _read_body(receive)
            peer = scope["client"][0] if scope.get("client") else None
            addresses: ClientAddresses = state.client_addresses
            client = addresses.limit_key(peer, headers.get("x-forwarded-for"))
            who = await resolve_caller(headers.get("authorization"), client, state.token_roles)
            enforce_rate_limit(state, who, client)
            try:
                request = Register.model_validate_json(body)
            except ValidationError as error:  # only the body's: anything later is our bug
                return http.validation_problem(_as_body_errors(error))
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
        except HTTPException as error:
            return http.http_error_problem(error)
        except Exception:  # outside FastAPI's error middleware: answer 500 like it would
            log.exception("registration failed unexpectedly")
            return http.problem(500, "Internal Server Error", "the registration failed; try again")


def _registration_target(scope: Scope) -> UUID | None:
    """The forum id when this is a registration POST the fast path answers, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    match = _PATH.match(scope["path"])
    if match is None:
        return None
    try:
        return UUID(match.group(1))
    except ValueError:
        return None  # FastAPI answers it with its 422 naming forum_id


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPException(400, "the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _idempotency_key(headers: Headers) -> str | None:
    key = headers.get("idempotency-key")
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise RuleViolation(f"at most {MAX_IDEMPOTENCY_KEY} characters", field="Idempotency-Key")
    return key


def _as_body_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Locations as FastAPI reports them (`body` first), so field names come out the same."""
    return [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
