"""The dashboard's routes: `/` (the page, or the sign-in page without a staff session),
`POST /sign-in`, `POST /sign-out`, and `GET /v1/dashboard` (its numbers as JSON, for its
script)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from services.reporting.http.answers import live_read_models
from services.reporting.scrape import MetricsReader
from services.reporting.web import view
from services.reporting.web.staff import StaffReaderDep, signed_in_staff
from services.runtime.auth import Caller
from services.runtime.languages import choose_language
from services.runtime.pages import (
    LANGUAGE_COOKIE,
    LANGUAGE_PARAMETER,
    Pages,
    PagesDep,
    page_router,
)
from services.runtime.sessions import MAX_TOKEN_LENGTH, Sessions, SignInRefused, staff_token_digest

router = page_router()
api = APIRouter(tags=["dashboard"])


def reader_language(request: Request) -> str:
    """`?lang=` chooses (Pages.render remembers it in the cookie every service's pages share),
    else the cookie, else German."""
    chosen = request.query_params.get(LANGUAGE_PARAMETER)
    return choose_language(chosen, request.cookies.get(LANGUAGE_COOKIE))


async def numbers(request: Request, language: str) -> dict[str, Any]:
    reader: MetricsReader = request.app.state.metrics_reader
    await reader.refresh()  # the pipeline panel shows what /metrics says
    refresh = request.app.state.settings.reporting_dashboard_refresh_seconds
    async with live_read_models(request) as (conn, generation):
        return await view.dashboard(conn, generation, language, reader.pipeline, refresh)


@router.get("/")
async def dashboard_page(
    request: Request, pages: PagesDep, staff: Annotated[Caller | None, Depends(signed_in_staff)]
) -> Response:
    language = reader_language(request)
    if staff is None:
        response = _sign_in_page(request, pages, language)
    else:
        context = {"dashboard": await numbers(request, language)}
        response = pages.render(request, "dashboard.html", context, language=language,
                                offer_languages=True)  # fmt: skip
    return response  # Pages.render remembered a `?lang=` choice


def _sign_in_page(
    request: Request, pages: Pages, language: str, error: str | None = None, status: int = 200
) -> Response:
    return pages.render(request, "sign_in.html", {"error": error}, language=language,
                        status=status, offer_languages=error is None)  # fmt: skip


@router.post("/sign-in")
async def sign_in(
    request: Request, pages: PagesDep, token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)] = ""
) -> Response:
    """The CSRF token was checked before this runs (page_router)."""
    language = reader_language(request)
    try:
        digest = await staff_token_digest(request, token)
    except SignInRefused as refused:
        response = _sign_in_page(request, pages, language, refused.reason, refused.status)
        if refused.retry_after is not None:
            response.headers["Retry-After"] = str(int(refused.retry_after) + 1)
        return response
    response = RedirectResponse("/", status_code=303)
    sessions: Sessions = request.app.state.sessions
    sessions.attach(response, digest)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    sessions: Sessions = request.app.state.sessions
    sessions.clear(response)
    return response


@api.get("/v1/dashboard", responses={401: {"description": "No staff session or token"}})
async def dashboard_numbers(request: Request, staff: StaffReaderDep) -> Response:
    """What the dashboard shows, in `?lang=` (or the remembered language), for its script."""
    response = JSONResponse(await numbers(request, reader_language(request)))
    response.headers["Cache-Control"] = "no-store"
    return response
