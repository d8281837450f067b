"""Request-scoped helpers the routes share: the services, the trace, the public rate limit."""

import math
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import State

from schemas.envelope import utc_now
from services.registration.domain.trace import Trace
from services.registration.http.auth import Caller, CallerDep
from services.registration.services import Services
from services.runtime.ratelimit import RateLimiter

CORRELATION_HEADER = "x-correlation-id"
MAX_CORRELATION_LENGTH = 100


# Dependencies are `async def` although they never await: FastAPI runs a plain `def` one in
# the thread pool, a thread hop per dependency per request (py-spy: ~13% of the hot path).


async def services(request: Request) -> Services:
    built: Services = request.app.state.services
    return built


async def trace(request: Request) -> Trace:
    """A caller may pass its own correlation id to trace the chain across systems."""
    return trace_from(request.headers.get(CORRELATION_HEADER))


def trace_from(correlation_header: str | None) -> Trace:
    """The caller's correlation id when it is printable ASCII of a sane length, else a fresh one.

    It is copied into every fact the request causes, and on into mails and logs; header values
    arrive latin-1-decoded, so they may hold any byte, control characters included."""
    offered = correlation_header or ""
    usable = (
        0 < len(offered) <= MAX_CORRELATION_LENGTH and offered.isascii() and offered.isprintable()
    )
    return Trace.fresh(utc_now(), offered if usable else None)


def client_address(state: State, peer: str | None, forwarded_for: str | None) -> str:
    if state.settings.trust_forwarded_for and forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return peer or "unknown"


def enforce_rate_limit(state: State, who: Caller, address: str) -> Caller:
    """Anonymous callers are limited per address; staff and intake tokens are not."""
    if who.is_authenticated:
        return who
    limiter: RateLimiter = state.rate_limiter
    allowed, retry_after = limiter.allow(address)
    if not allowed:
        raise HTTPException(
            429,
            "too many requests from this address; try again later",
            headers={"Retry-After": str(math.ceil(retry_after))},
        )
    return who


async def public_rate_limit(request: Request, who: CallerDep) -> Caller:
    peer = request.client.host if request.client else None
    address = client_address(request.app.state, peer, request.headers.get("x-forwarded-for"))
    return enforce_rate_limit(request.app.state, who, address)


ServicesDep = Annotated[Services, Depends(services)]
TraceDep = Annotated[Trace, Depends(trace)]
PublicCallerDep = Annotated[Caller, Depends(public_rate_limit)]
