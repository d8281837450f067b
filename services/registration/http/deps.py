"""Request-scoped helpers the routes share: the services, the trace, the public rate limit."""

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from schemas.envelope import utc_now
from services.registration.domain.trace import Trace
from services.registration.services import Services
from services.runtime.auth import Caller, CallerDep, ClientKeyDep
from services.runtime.ratelimit import RateLimiter, too_many_requests

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


ServicesDep = Annotated[Services, Depends(services)]
TraceDep = Annotated[Trace, Depends(trace)]
PublicCallerDep = Annotated[Caller, Depends(public_rate_limit)]
