"""Bearer-token authentication every service shares: who calls (anonymous, staff, intake).

`install` puts what the dependencies below read on the app's state: the token roles and the
client addresses."""

import asyncio
import hmac
import time
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, HTTPException, Request
from starlette.datastructures import State

from services.runtime import metrics
from services.runtime.access import tokens
from services.runtime.access.tokens import Role
from services.runtime.client_address import ClientAddresses
from services.runtime.ratelimit import RateLimiter, too_many_requests
from services.runtime.settings import Settings

STAFF = Role.STAFF.value
_KNOWN = metrics.TOKEN_LOOKUPS.labels("known")
_UNKNOWN = metrics.TOKEN_LOOKUPS.labels("unknown")
_REFUSED = metrics.TOKEN_LOOKUPS.labels("refused")


@dataclass(frozen=True)
class Caller:
    role: str | None  # None: anonymous

    @property
    def is_staff(self) -> bool:
        return self.role == STAFF

    @property
    def is_authenticated(self) -> bool:
        return self.role is not None


class TooManyFailedLookups(Exception):
    """The client presented too many unknown tokens lately; it was not looked up."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class TokenRoles:
    """Resolves bearer tokens to roles: the admin token from settings, else the access store.

    A known token's role is kept for `cache_seconds` so the hot path does not pay a query per
    request (a revoked token is refused at most that much later, by every service alike). Unknown
    tokens are not kept: a new token works at once, and made-up tokens cannot fill the memory.

    Made-up tokens cannot exhaust the database either: each client address may fail
    `failed_lookups` allows (then TooManyFailedLookups, without a query), and at most
    `lookup_concurrency` lookups run at once, holding that many connections of the pool."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        admin_token: str | None,
        *,
        cache_seconds: float,
        failed_lookups: RateLimiter,
        lookup_concurrency: int,
    ) -> None:
        self._pool = pool
        # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError,
        # so a 500), and header values arrive latin-1-decoded, so any byte can be in a token.
        self._admin_token = admin_token.encode() if admin_token else None
        self._admin_digest = tokens.token_hash(admin_token).encode() if admin_token else None
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str, float]] = {}
        self._failed_lookups = failed_lookups
        self._lookups = asyncio.Semaphore(lookup_concurrency)

    @classmethod
    def from_settings(cls, settings: Settings, access_pool: asyncpg.Pool) -> "TokenRoles":
        admin_token = settings.admin_token.get_secret_value() if settings.admin_token else None
        return cls(
            access_pool,
            admin_token,
            cache_seconds=settings.token_cache_seconds,
            failed_lookups=RateLimiter(settings.failed_token_lookups_per_minute),
            lookup_concurrency=settings.token_lookup_concurrency,
        )

    async def role_of(self, token: str, client: str) -> str | None:
        """The token's role, None if unknown or revoked; `client` is the caller's rate-limit key."""
        if self._admin_token and hmac.compare_digest(token.encode(), self._admin_token):
            return STAFF
        return await self.role_of_digest(tokens.token_hash(token), client)

    async def role_of_digest(self, digest: str, client: str) -> str | None:
        """As `role_of`, for a token known only by its SHA-256 (a signed session holds that,
        never the token); the admin token's digest is staff too."""
        if self._admin_digest and hmac.compare_digest(digest.encode(), self._admin_digest):
            return STAFF
        cached = self._cache.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        # Counted before the lookup, given back if the token is known: concurrent made-up tokens
        # from one address are stopped here, not after they all reached the database.
        allowed, retry_after = self._failed_lookups.allow(client)
        if not allowed:
            _REFUSED.inc()
            raise TooManyFailedLookups(retry_after)
        try:
            async with self._lookups, self._pool.acquire() as conn:
                role = await tokens.role_of(conn, digest)
        except BaseException:
            self._failed_lookups.refund(client)  # no answer is no failed lookup (database down)
            raise
        if role is None:
            _UNKNOWN.inc()
            self._cache.pop(digest, None)
            return None
        _KNOWN.inc()
        self._failed_lookups.refund(client)
        self._cache[digest] = (role, time.monotonic() + self._cache_seconds)
        return role


def install(state: State, settings: Settings, access_pool: asyncpg.Pool) -> None:
    state.token_roles = TokenRoles.from_settings(settings, access_pool)
    state.client_addresses = ClientAddresses.from_settings(settings)


BEARER_CHALLENGE = 'Bearer realm="dialognet"'


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": BEARER_CHALLENGE})


async def resolve_caller(authorization: str | None, client: str, roles: TokenRoles) -> Caller:
    """Anonymous without the header; 401 for a malformed, unknown or revoked token; 429 when
    `client` (its rate-limit key) presented too many unknown tokens."""
    if not authorization:
        return Caller(role=None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("use 'Authorization: Bearer <token>'")
    try:
        role = await roles.role_of(token.strip(), client)
    except TooManyFailedLookups as refused:
        raise too_many_requests(
            "too many unknown or revoked tokens from this address; try again later",
            refused.retry_after,
        ) from None
    if role is None:
        raise unauthorized("unknown or revoked token")
    return Caller(role=role)


async def client_key(request: Request) -> str:
    """The key the caller's rate limits count under (its address behind our proxies)."""
    addresses: ClientAddresses = request.app.state.client_addresses
    peer = request.client.host if request.client else None
    return addresses.limit_key(peer, request.headers.get("x-forwarded-for"))


ClientKeyDep = Annotated[str, Depends(client_key)]


async def caller(request: Request, client: ClientKeyDep) -> Caller:
    authorization = request.headers.get("authorization")
    return await resolve_caller(authorization, client, request.app.state.token_roles)


CallerDep = Annotated[Caller, Depends(caller)]


async def staff(who: CallerDep) -> Caller:
    if not who.is_authenticated:
        raise unauthorized("this endpoint needs a staff token")
    if not who.is_staff:
        raise HTTPException(403, "this endpoint needs the staff role")
    return who


StaffDep = Annotated[Caller, Depends(staff)]
