"""Request-scoped helpers the routes share: the service, the trace, the public rate limit."""

import math
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from schemas.envelope import utc_now
from services.registration.domain.trace import Trace
from services.registration.http.auth import Caller, CallerDep
from services.registration.service import RegistrationService
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
    offered = request.headers.get(CORRELATION_HEADER, "")
    correlation_id = offered if 0 < len(offered) <= MAX_CORRELATION_LENGTH else None
    return Trace.fresh(utc_now(), correlation_id)


def client_address(request: Request) -> str:
    if request.app.state.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


async def public_rate_limit(request: Request, who: CallerDep) -> Caller:
    """Anonymous callers are limited per address; staff and intake tokens are not."""
    if who.is_authenticated:
        return who
    limiter: RateLimiter = request.app.state.rate_limiter
    allowed, retry_after = limiter.allow(client_address(request))
    if not allowed:
        raise HTTPException(
            429,
            "too many requests from this address; try again later",
            headers={"Retry-After": str(math.ceil(retry_after))},
        )
    return who


ServiceDep = Annotated[RegistrationService, Depends(service)]
TraceDep = Annotated[Trace, Depends(trace)]
PublicCallerDep = Annotated[Caller, Depends(public_rate_limit)]
