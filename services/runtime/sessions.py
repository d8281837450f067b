"""Staff sessions of the web pages (the dashboard, the staff console): a signed cookie, so every
replica accepts it.

The cookie (`HttpOnly`, `SameSite=Strict`, `Secure` on https) holds an expiry and the SHA-256
of the staff token signed in with, with an HMAC over both. It never holds the token. Each
request checks the signature and the expiry, then asks the access store (through the token
cache) whether the token still has the staff role: a revoked token ends its sessions within
DIALOGNET_TOKEN_CACHE_SECONDS.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass, field

from fastapi import Request, Response

from services.runtime.access.tokens import token_hash
from services.runtime.auth import Caller, TokenRoles, TooManyFailedLookups, client_key

COOKIE_NAME = "dialognet_session"
# A bearer token is at most this long (one made by `dialognet token create` is 43 characters).
MAX_TOKEN_LENGTH = 200


class SignInRefused(Exception):
    """The token offered to sign in does not open a staff session; `reason` names why for the
    page: missing, unknown (or revoked), not_staff (an intake token), too_many (lookups)."""

    def __init__(self, reason: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Sessions:
    """One service's sessions. Cookies are per host, not per port: services on one host give
    theirs another `cookie_name` (and `path`), or signing in to one would sign out of another."""

    key: bytes = field(repr=False)  # never in a log line or a traceback's locals
    lifetime_seconds: float
    secure_cookie: bool
    cookie_name: str = COOKIE_NAME
    path: str = "/"

    def issue(self, token_digest: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.lifetime_seconds)
        payload = f"{expires}.{token_digest}"
        return f"{payload}.{self._signature(payload)}"

    def token_digest(self, cookie: str | None, now: float | None = None) -> str | None:
        """The signed-in token's digest, or None for a missing, forged or expired cookie."""
        if not cookie or cookie.count(".") != 2:
            return None
        expires, digest, signature = cookie.split(".")
        expected = self._signature(f"{expires}.{digest}")
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return None
        if not expires.isdigit() or int(expires) < (now or time.time()):
            return None
        return digest

    def attach(self, response: Response, token_digest: str) -> None:
        response.set_cookie(
            self.cookie_name,
            self.issue(token_digest),
            max_age=int(self.lifetime_seconds),
            path=self.path,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            self.cookie_name,
            path=self.path,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
        )

    async def signed_in_staff(self, request: Request) -> Caller | None:
        """The caller of a valid staff session, else None (no cookie, forged, expired, revoked,
        or the token's role is no longer staff)."""
        digest = self.token_digest(request.cookies.get(self.cookie_name))
        if digest is None:
            return None
        roles: TokenRoles = request.app.state.token_roles
        caller = Caller(role=await roles.role_of_digest(digest, await client_key(request)))
        return caller if caller.is_staff else None

    def _signature(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()


async def staff_token_digest(request: Request, token: str) -> str:
    """The digest a session keeps for a sign-in form's token, if it is a staff token (the admin
    token counts); SignInRefused otherwise, with the status the sign-in page answers."""
    token = token.strip()
    if not token:
        raise SignInRefused("missing", 401)
    roles: TokenRoles = request.app.state.token_roles
    try:
        role = await roles.role_of(token, await client_key(request))
    except TooManyFailedLookups as refused:
        raise SignInRefused("too_many", 429, refused.retry_after) from None
    if role is None:
        raise SignInRefused("unknown", 401)
    if not Caller(role=role).is_staff:
        # Known, but an intake system's: authenticated, not allowed (403, not 401).
        raise SignInRefused("not_staff", 403)
    return token_hash(token)
