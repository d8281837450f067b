"""Request-scoped helpers the routes share: the service, the trace, the public rate limit."""

import math
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import State

from schemas.envelope import utc_now
from services.registration.domain.trace import Trace
from services.registration.service import RegistrationService
from services.runtime.auth import Caller, CallerDep
from services.runtime.client_address import ClientAddresses
from services.runtime.ratelimit import RateLimiter

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


def client_key(state: State, peer: str | None, forwarded_for: str | None) -> str:
    addresses: ClientAddresses = state.client_addresses
    return addresses.limit_key(peer, forwarded_for)


def enforce_rate_limit(state: State, who: Caller, client: str) -> Caller:
    """Anonymous callers are limited per address (IPv6: per /64); staff and intake tokens are
    not."""
    if who.is_authenticated:
        return who
    limiter: RateLimiter = state.rate_limiter
    allowed, retry_after = limiter.allow(client)
    if not allowed:
        raise HTTPException(
            429,
            "too many requests from this address; try again later",
            headers={"Retry-After": str(math.ceil(retry_after))},
        )
    return who


async def public_rate_limit(request: Request, who: CallerDep) -> Caller:
    peer = request.client.host if request.client else None
    client = client_key(request.app.state, peer, request.headers.get("x-forwarded-for"))
    return enforce_rate_limit(request.app.state, who, client)


ServiceDep = Annotated[RegistrationService, Depends(service)]
TraceDep = Annotated[Trace, Depends(trace)]
PublicCallerDep = Annotated[Caller, Depends(public_rate_limit)]
