"""The registration service's web site: its templates, catalogs and stylesheet, its page routes,
and the page shown when a form comes without a valid CSRF token."""

from pathlib import Path

from fastapi import FastAPI, Request, Response
from starlette.staticfiles import StaticFiles

from services.registration.web import cancel
from services.runtime.csrf import CsrfRefused
from services.runtime.languages import choose_language
from services.runtime.pages import LANGUAGE_PARAMETER, Pages
from services.runtime.security_headers import STATIC_HEADERS, SecurityHeaders

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
LOCALES = WEB / "locale"
STATIC = WEB / "static"


def install(app: FastAPI) -> None:
    """Mount the pages and `/static/`; the CSRF key comes with the lifespan (`app.state.csrf`)."""
    app.state.pages = Pages(TEMPLATES, [LOCALES])
    app.include_router(cancel.router)
    app.mount("/static", SecurityHeaders(StaticFiles(directory=STATIC), STATIC_HEADERS))
    app.add_exception_handler(CsrfRefused, _on_csrf_refused)


async def _on_csrf_refused(request: Request, error: Exception) -> Response:
    pages: Pages = request.app.state.pages
    language = choose_language(request.query_params.get(LANGUAGE_PARAMETER))
    return pages.render(request, "csrf_refused.html", {}, language=language, status=403)
