"""How the console answers with a page: in the reader's language (`?lang=`, remembered in a
cookie, else German), with the links every console page shows (dashboard, local mailbox)."""

from datetime import datetime
from functools import partial
from typing import Any

from babel.dates import format_datetime
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from schemas.vocabulary import BERLIN
from services.runtime.languages import Language, choose_language
from services.runtime.pages import LANGUAGE_COOKIE, LANGUAGE_PARAMETER, Pages
from services.runtime.settings import Settings


def language_of(request: Request) -> str:
    """`?lang=`, else the reader's remembered choice (every service's pages share its cookie),
    else German: staff read the console in the centre's language unless they choose."""
    chosen = request.query_params.get(LANGUAGE_PARAMETER)
    return choose_language(chosen, request.cookies.get(LANGUAGE_COOKIE))


def reader_language(request: Request) -> Language:
    """The reader's language with its words and formats (for messages made in Python)."""
    pages: Pages = request.app.state.staff_pages
    return pages.languages[language_of(request)]


def mailbox_url(settings: Settings) -> str | None:
    """The embedded mail sink's web view, which runs only when no relay is configured."""
    if settings.smtp_url is not None:
        return None
    return f"http://{settings.mailbox_host}:{settings.mailbox_port}"


def page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    pages: Pages = request.app.state.staff_pages
    settings: Settings = request.app.state.settings
    language = language_of(request)
    shared = {
        "moment": partial(_moment, pages.languages[language]),
        "dashboard_url": settings.reporting_public_base_url,
        "mailbox_url": mailbox_url(settings),
        "notice": request.query_params.get("done"),
    }
    # Pages.render remembers a `?lang=` choice in the shared cookie.
    return pages.render(
        request,
        template,
        {**shared, **context},
        language=language,
        status=status,
        offer_languages=request.method == "GET",
    )


def _moment(language: Language, value: datetime) -> str:
    """`20.01.2027, 10:30` in Europe/Berlin: deadlines and when something happened."""
    return format_datetime(value, "short", tzinfo=BERLIN, locale=language.locale)


def see_other(path: str, notice: str | None = None) -> Response:
    """After a form that changed something: to the page that shows it (a reload sends nothing
    twice), with what was done named by `notice` (shown as a status message)."""
    return RedirectResponse(f"{path}?done={notice}" if notice else path, status_code=303)
