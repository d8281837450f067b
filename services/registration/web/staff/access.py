"""Who may use the console: a staff session on every page but sign-in, and a CSRF token on
every form (refused with the console's own page, not the public one)."""

from fastapi import APIRouter, Depends, Request

from services.runtime import csrf
from services.runtime.auth import Caller
from services.runtime.sessions import Sessions

PREFIX = "/staff"
SIGN_IN_PATH = f"{PREFIX}/sign-in"
# The session cookie goes to the console only, under its own name: the dashboard's session
# (another port of the same host) keeps its cookie.
COOKIE_NAME = "dialognet_staff_session"


class NotSignedIn(Exception):
    """No valid staff session (none, forged, expired, or its token revoked); nothing was done."""


class FormRefused(Exception):
    """A form without a valid CSRF token; nothing was done."""


HOURS = 3600


def sessions(key: bytes, lifetime_hours: float, *, secure_cookie: bool) -> Sessions:
    return Sessions(key, lifetime_hours * HOURS, secure_cookie, COOKIE_NAME, PREFIX)


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.staff_sessions
    return sessions


async def signed_in(request: Request) -> Caller:
    """Every request re-checks the session's token (through the token cache): a revoked token's
    session ends within DIALOGNET_TOKEN_CACHE_SECONDS."""
    caller = await sessions_of(request).signed_in_staff(request)
    if caller is None:
        raise NotSignedIn
    return caller


async def checked_form(request: Request) -> None:
    try:
        await csrf.protect(request)
    except csrf.CsrfRefused:
        raise FormRefused from None


def console_router(*, needs_session: bool = True) -> APIRouter:
    """The session first (a stranger's form is not even read), then CSRF; the console is no
    operation of the API, so it stays out of the OpenAPI document."""
    first = [Depends(signed_in)] if needs_session else []
    return APIRouter(
        prefix=PREFIX, dependencies=[*first, Depends(checked_form)], include_in_schema=False
    )
