"""The registration service's web site: its templates, catalogs and stylesheet, its page routes,
and the pages shown when a form is refused before its handler (CSRF, rate limit)."""

from pathlib import Path

from fastapi import FastAPI, Request, Response

from services.registration.web import cancel, forum_page, home, privacy, result
from services.registration.web.public_router import RateLimited
from services.runtime.csrf import CsrfRefused
from services.runtime.pages import Pages, mount_static, reader_language

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
LOCALES = WEB / "locale"


def install(app: FastAPI) -> None:
    """Mount the pages and `/static/` (the shared stylesheet); the CSRF key comes with the
    lifespan (`app.state.csrf`)."""
    app.state.pages = Pages(TEMPLATES, [LOCALES])
    for pages in (home, forum_page, result, cancel, privacy):
        app.include_router(pages.router)
    mount_static(app)
    app.add_exception_handler(CsrfRefused, _on_csrf_refused)
    app.add_exception_handler(RateLimited, _on_rate_limited)


async def _on_csrf_refused(request: Request, error: Exception) -> Response:
    return _refusal_page(request, "csrf_refused.html", 403)


async def _on_rate_limited(request: Request, error: Exception) -> Response:
    assert isinstance(error, RateLimited)
    response = _refusal_page(request, "too_many_requests.html", 429)
    response.headers.update(error.headers)
    return response


def _refusal_page(request: Request, template: str, status: int) -> Response:
    """Refused before anything was read about a registration: in the language the form was
    sent in (its action carries `?lang=`), else the reader's."""
    pages: Pages = request.app.state.pages
    language = reader_language(request)
    return pages.render(request, template, {}, language=language, status=status)
