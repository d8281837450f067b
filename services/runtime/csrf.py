"""CSRF protection of the web pages' forms: a signed double-submit token.

The browser holds a random value in a cookie (`SameSite=Strict`, `HttpOnly`, `Secure` on https);
every form carries HMAC(key, that value) in a hidden field. An unsafe request is accepted only
when its field is the HMAC of the cookie it came with. Another site can make a browser send the
cookie but can read neither it nor the page, and cannot compute the HMAC without the key; a
signed token rather than a bare copy, so a cookie planted from a sibling domain is no use either.
No server-side session is needed, so every replica checks every form.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, Response

COOKIE_NAME = "dialognet_csrf"
FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The pages' forms have no files, and text fields up to one a registration: the staff console's
# checklist of who attended a forum (the open conference has a few hundred). The 64 KiB body
# limit stops a form long before this (a checkbox of a registration id is 46 bytes).
MAX_FORM_FIELDS = 2000
# What `new_binding` makes (32 random bytes, URL-safe base64); any other cookie is not ours.
_BINDING = re.compile(r"[A-Za-z0-9_-]{43}")


class CsrfRefused(Exception):
    """An unsafe request without a valid CSRF token; nothing was done."""


@dataclass(frozen=True)
class CsrfProtection:
    """The signing key (one per service, shared by its replicas) and how the cookie is sent."""

    key: bytes = field(repr=False)  # never in a log line or a traceback's locals
    secure_cookie: bool

    def token(self, binding: str) -> str:
        return hmac.new(self.key, binding.encode(), hashlib.sha256).hexdigest()

    def accepts(self, binding: str | None, offered: str) -> bool:
        if binding is None:
            return False
        # As bytes: compare_digest raises TypeError for a str with non-ASCII characters.
        return hmac.compare_digest(
            self.token(binding).encode(), offered.encode("utf-8", "surrogatepass")
        )

    def set_cookie(self, response: Response, binding: str) -> None:
        # A session cookie: it lives as long as the browser's session, like an open form.
        response.set_cookie(
            COOKIE_NAME,
            binding,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
        )


def new_binding() -> str:
    return secrets.token_urlsafe(32)


async def protect(request: Request) -> None:
    """Dependency of every page router: a safe request gets the browser's binding (or a new
    one, sent as a cookie with the page); an unsafe one without the matching form field is
    refused with CsrfRefused before its handler runs."""
    protection: CsrfProtection = request.app.state.csrf
    binding = _cookie_binding(request)
    if request.method not in SAFE_METHODS and not protection.accepts(
        binding, await _offered_token(request)
    ):
        raise CsrfRefused
    if binding is None:
        binding = new_binding()
        request.state.csrf_cookie_is_new = True
    request.state.csrf_binding = binding


def form_token(request: Request) -> str | None:
    """The token the request's forms carry; None outside a protected router."""
    binding: str | None = getattr(request.state, "csrf_binding", None)
    if binding is None:
        return None
    protection: CsrfProtection = request.app.state.csrf
    return protection.token(binding)


def attach_cookie(request: Request, response: Response) -> None:
    """Sends the binding with the page when the browser did not have one yet."""
    if getattr(request.state, "csrf_cookie_is_new", False):
        protection: CsrfProtection = request.app.state.csrf
        protection.set_cookie(response, request.state.csrf_binding)


def _cookie_binding(request: Request) -> str | None:
    value = request.cookies.get(COOKIE_NAME)
    return value if value is not None and _BINDING.fullmatch(value) else None


async def _offered_token(request: Request) -> str:
    try:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except HTTPException:
        # Not a form our pages send (files, too many fields, broken multipart): no token can
        # be read from it, so it is refused like any form without one.
        return ""
    offered = form.get(FORM_FIELD)
    return offered if isinstance(offered, str) else ""
