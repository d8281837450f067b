"""Staff sessions of the dashboard: a signed cookie, so every replica accepts it.

The cookie (`HttpOnly`, `SameSite=Strict`, `Secure` on https) holds an expiry and the SHA-256
of the staff token signed in with, with an HMAC over both. It never holds the token. Each
request checks the signature and the expiry, then asks the access store (through the token
cache) whether the token still has the staff role: a revoked token ends its sessions within
DIALOGNET_TOKEN_CACHE_SECONDS.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from fastapi import Response

COOKIE_NAME = "dialognet_session"


@dataclass(frozen=True)
class Sessions:
    key: bytes
    lifetime_seconds: float
    secure_cookie: bool

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
            COOKIE_NAME,
            self.issue(token_digest),
            max_age=int(self.lifetime_seconds),
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=self.secure_cookie
        )

    def _signature(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()
