"""The console's site: its own templates and catalog (beside the public pages'), its stylesheet
at /staff/static/, its routes, and the pages for a refused form or a missing session."""

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from services.registration.web.staff import (
    forums,
    organizations,
    registrations,
    sign_in,
    tokens,
)
from services.registration.web.staff.access import SIGN_IN_PATH, FormRefused, NotSignedIn
from services.registration.web.staff.lookups import PageNotFound
from services.registration.web.staff.rendering import page
from services.runtime.pages import Pages
from services.runtime.security_headers import STATIC_HEADERS, SecurityHeaders
from services.runtime.sessions import Sessions

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
LOCALES = WEB / "locale"
STATIC = WEB / "static"
STATIC_PATH = "/staff/static"


def install(app: FastAPI) -> None:
    """The routes and pages; the session key comes with the lifespan (app.state.staff_sessions)."""
    app.state.staff_pages = Pages(TEMPLATES, [LOCALES])
    for module in (sign_in, forums, registrations, organizations, tokens):
        app.include_router(module.router)
    app.mount(STATIC_PATH, SecurityHeaders(StaticFiles(directory=STATIC), STATIC_HEADERS))
    app.add_exception_handler(NotSignedIn, _on_not_signed_in)
    app.add_exception_handler(FormRefused, _on_form_refused)
    app.add_exception_handler(PageNotFound, _on_not_found)


async def _on_not_signed_in(request: Request, error: Exception) -> Response:
    """To the sign-in page; a cookie that no longer opens a session (expired, forged, its token
    revoked) is dropped on the way."""
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    sessions: Sessions = request.app.state.staff_sessions
    if sessions.cookie_name in request.cookies:
        sessions.clear(response)
    return response


async def _on_form_refused(request: Request, error: Exception) -> Response:
    return page(request, "form_refused.html", {}, status=403)


async def _on_not_found(request: Request, error: Exception) -> Response:
    return page(request, "not_found.html", {}, status=404)
