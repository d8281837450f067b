"""The router of the public pages: every unsafe request first passes the per-address limit of
the public registration form (one budget for both), then the CSRF check, then its handler."""

from fastapi import APIRouter, Depends, Request
from starlette.exceptions import HTTPException

from services.registration.http.deps import enforce_rate_limit
from services.runtime.auth import Caller, client_key
from services.runtime.csrf import SAFE_METHODS
from services.runtime.pages import page_router

# The pages are for people in a browser: they never read a bearer token, so always limited.
ANONYMOUS = Caller(role=None)


class RateLimited(Exception):
    """The address used up its budget; nothing was done. `headers` carry `Retry-After`."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("too many requests from this address")
        self.headers = headers


async def limit_unsafe_requests(request: Request) -> None:
    """Before the CSRF check, so that refused forms count too and a flood of them is cut off
    before its bodies are read."""
    if request.method in SAFE_METHODS:
        return
    state = request.app.state
    try:
        enforce_rate_limit(state, ANONYMOUS, await client_key(request))
    except HTTPException as refusal:
        if refusal.status_code != 429:
            raise
        raise RateLimited(dict(refusal.headers or {})) from None


def public_router() -> APIRouter:
    return page_router(first=[Depends(limit_unsafe_requests)])
