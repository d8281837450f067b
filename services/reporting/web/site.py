"""The dashboard site: its templates and catalog, the pages, `/static/` (the shared stylesheet, the
dashboard's own, its script and the charting library, served by the service itself: the page
works offline on the staff's network), and the page shown when a form is refused (CSRF)."""

from pathlib import Path

from fastapi import FastAPI, Request, Response

from services.reporting.web import dashboard
from services.runtime.csrf import CsrfRefused
from services.runtime.pages import Pages, mount_static

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
LOCALES = WEB / "locale"
STATIC = WEB / "static"


def install(app: FastAPI) -> None:
    app.state.pages = Pages(TEMPLATES, [LOCALES])
    app.include_router(dashboard.router)
    app.include_router(dashboard.api)
    mount_static(app, STATIC)
    app.add_exception_handler(CsrfRefused, _on_csrf_refused)


async def _on_csrf_refused(request: Request, error: Exception) -> Response:
    pages: Pages = request.app.state.pages
    language = dashboard.reader_language(request)
    return pages.render(request, "csrf_refused.html", {}, language=language, status=403)
