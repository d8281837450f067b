"""Bearer-token authentication every service shares: who calls (anonymous, staff, intake).

A service keeps its `TokenRoles` at `app.state.token_roles`; the dependencies below read it."""

import hmac
import time
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, HTTPException, Request

from services.runtime.access import tokens
from services.runtime.access.tokens import Role
from services.runtime.settings import Settings

STAFF = Role.STAFF.value
INTAKE = Role.INTAKE.value


@dataclass(frozen=True)
class Caller:
    role: str | None  # None: anonymous

    @property
    def is_staff(self) -> bool:
        return self.role == STAFF

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None


class TokenRoles:
    """Resolves bearer tokens to roles: the admin token from settings, else the access store.

    A known token's role is kept for `cache_seconds` so the hot path does not pay a query per
    request (a revoked token is refused at most that much later, by every service alike). Unknown
    tokens are not kept: a new token works at once, and made-up tokens cannot fill the memory."""

    def __init__(self, pool: asyncpg.Pool, admin_token: str | None, cache_seconds: float) -> None:
        self._pool = pool
        # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError,
        # so a 500), and header values arrive latin-1-decoded, so any byte can be in a token.
        self._admin_token = admin_token.encode() if admin_token else None
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, access_pool: asyncpg.Pool) -> "TokenRoles":
        admin_token = settings.admin_token.get_secret_value() if settings.admin_token else None
        return cls(access_pool, admin_token, cache_seconds=settings.token_cache_seconds)

    async def role_of(self, token: str) -> str | None:
        if self._admin_token and hmac.compare_digest(token.encode(), self._admin_token):
            return STAFF
        digest = tokens.token_hash(token)
        cached = self._cache.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        async with self._pool.acquire() as conn:
            role = await tokens.role_of(conn, digest)
        if role is None:
            self._cache.pop(digest, None)
        else:
            self._cache[digest] = (role, time.monotonic() + self._cache_seconds)
        return role


BEARER_CHALLENGE = 'Bearer realm="dialognet"'


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": BEARER_CHALLENGE})


async def resolve_caller(authorization: str | None, roles: TokenRoles) -> Caller:
    """Anonymous without the header; 401 for a malformed, unknown or revoked token."""
    if not authorization:
        return Caller(role=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("use 'Authorization: Bearer <token>'")
    role = await roles.role_of(token.strip())
    if role is None:
        raise unauthorized("unknown or revoked token")
    return Caller(role=role)


async def caller(request: Request) -> Caller:
    return await resolve_caller(request.headers.get("authorization"), request.app.state.token_roles)


CallerDep = Annotated[Caller, Depends(caller)]


async def staff(who: CallerDep) -> Caller:
    if not who.is_authenticated:
        raise unauthorized("this endpoint needs a staff token")
    if not who.is_staff:
        raise HTTPException(403, "this endpoint needs the staff role")
    return who


StaffDep = Annotated[Caller, Depends(staff)]
