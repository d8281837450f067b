"""Request-scoped helpers the routes share: the service, the trace, the public rate limit."""

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from schemas.envelope import utc_now
from services.registration.domain.trace import Trace
from services.registration.service import RegistrationService
from services.runtime.auth import Caller, CallerDep, ClientKeyDep
from services.runtime.ratelimit import RateLimiter, too_many_requests

CORRELATION_HEADER = "x-correlation-id"
MAX_CORRELATION_LENGTH = 100


# Dependencies are `async def` although they never await: FastAPI runs a plain `def` one in
# the thread pool, a thread hop per dependency per request (py-spy: ~13% of the hot path).


async def service(request: Request) -> RegistrationService:
    registration_service: RegistrationService = request.app.state.service
    return registration_service


async def trace(request: Request) -> Trace:
    """A caller may pass its own correlation id to trace the chain across systems."""
    return trace_from(request.headers.get(CORRELATION_HEADER))


def trace_from(correlation_header: str | None) -> Trace:
    offered = correlation_header or ""
    correlation_id = offered if 0 < len(offered) <= MAX_CORRELATION_LENGTH else None
    return Trace.fresh(utc_now(), correlation_id)


def enforce_rate_limit(state: State, who: Caller, client: str) -> Caller:
    """Anonymous callers are limited per address (IPv6: per /64); staff and intake tokens are
    not."""
    if who.is_authenticated:
        return who
    limiter: RateLimiter = state.rate_limiter
    allowed, retry_after = limiter.allow(client)
    if not allowed:
        raise too_many_requests("too many requests from this address; try again later", retry_after)
    return who


async def public_rate_limit(request: Request, who: CallerDep, client: ClientKeyDep) -> Caller:
    return enforce_rate_limit(request.app.state, who, client)


ServiceDep = Annotated[RegistrationService, Depends(service)]
TraceDep = Annotated[Trace, Depends(trace)]
PublicCallerDep = Annotated[Caller, Depends(public_rate_limit)]
