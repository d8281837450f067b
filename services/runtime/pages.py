"""Server-rendered pages: Jinja2 templates (autoescaped), one environment per language with its
catalog and formats, and what every page answer carries (security headers, the CSRF cookie)."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request, Response, params
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.staticfiles import StaticFiles

from services.runtime import csrf
from services.runtime.languages import (
    NATIVE_NAMES,
    RUNTIME_LOCALES,
    SUPPORTED_LANGUAGES,
    Language,
    accepted_language,
    choose_language,
    load_language,
)
from services.runtime.security_headers import PAGE_HEADERS, STATIC_HEADERS, SecurityHeaders

# `?lang=de|en` chooses the page's language over the one the service knows for the reader.
LANGUAGE_PARAMETER = "lang"
# The layout (base.html), form macros and the one stylesheet every service's pages share.
SHARED_TEMPLATES = Path(__file__).parent / "web" / "templates"
SHARED_STATIC = Path(__file__).parent / "web" / "static"
# A reader's `?lang=` choice, kept for every page of the service's origin (the staff console and
# the dashboard share it with the public pages).
LANGUAGE_COOKIE = "dialognet_language"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def reader_language(request: Request, *known: str | None) -> str:
    """The language of a page: the reader's `?lang=` choice, else the one they chose before
    (the cookie), else what the service knows of them (`known`, e.g. a contact's language),
    else what their browser asks for (`Accept-Language`), else German."""
    return choose_language(
        request.query_params.get(LANGUAGE_PARAMETER),
        request.cookies.get(LANGUAGE_COOKIE),
        *known,
        accepted_language(request.headers.get("accept-language")),
    )


def remember_language(request: Request, response: Response, language: str) -> None:
    """A page shown in the language `?lang=` chose keeps that choice in a cookie (not read by
    script, never sent by another site's request). GET only: a form's action carries the page's
    language, which the reader may never have chosen."""
    if request.method == "GET" and request.query_params.get(LANGUAGE_PARAMETER) == language:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    href: str


class Pages:
    """Renders a service's templates in each supported language."""

    def __init__(self, templates: Path, locale_dirs: Sequence[Path]) -> None:
        self.languages = {
            code: load_language(code, [RUNTIME_LOCALES, *locale_dirs])
            for code in SUPPORTED_LANGUAGES
        }
        # One environment per language: gettext is installed into an environment, and requests
        # in different languages are rendered at the same time.
        self._environments = {
            code: _environment(templates, language) for code, language in self.languages.items()
        }

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        language: str,
        status: int = 200,
        offer_languages: bool = False,
    ) -> HTMLResponse:
        """`offer_languages`: link this page in each other language (GET pages only: a POST's
        answer is no place to return to)."""
        links = _language_links(request, language) if offer_languages else []
        html = (
            self._environments[language]
            .get_template(template)
            .render(
                **context,
                language=language,
                csrf_token=csrf.form_token(request),
                language_links=links,
            )
        )
        response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
        csrf.attach_cookie(request, response)
        remember_language(request, response, language)
        return response


def _environment(templates: Path, language: Language) -> Environment:
    environment = Environment(
        # The service's own templates first, then the layout and macros every page shares.
        loader=FileSystemLoader([templates, SHARED_TEMPLATES]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,  # a misspelt name fails the test, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Added by the i18n extension, so unknown to the type checker. Newstyle gettext escapes
    # the values put into a translated sentence, as autoescape does everywhere else.
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        language.translations, newstyle=True
    )
    environment.globals.update(
        day=language.day, hours=language.hours, moment=language.moment, number=language.number
    )
    return environment


def _language_links(request: Request, current: str) -> list[LanguageLink]:
    if request.method != "GET":
        return []
    return [
        LanguageLink(code, NATIVE_NAMES[code], _with_language(request, code))
        for code in SUPPORTED_LANGUAGES
        if code != current
    ]


def _with_language(request: Request, code: str) -> str:
    query = [
        (name, value)
        for name, value in request.query_params.multi_items()
        if name != LANGUAGE_PARAMETER
    ]
    return f"{request.url.path}?{urlencode([*query, (LANGUAGE_PARAMETER, code)])}"


def mount_static(app: FastAPI, own: Path | None = None) -> None:
    """`/static/`: the shared stylesheet, and the service's own files in `own` (looked up
    first), with the pages' security headers."""
    if own is None:
        files = StaticFiles(directory=SHARED_STATIC)
    else:
        # Starlette looks in `directory`, then in each package's folder (SHARED_STATIC).
        files = StaticFiles(directory=own, packages=[("services.runtime", "web/static")])
    app.mount("/static", SecurityHeaders(files, STATIC_HEADERS))


def page_router(*, first: Sequence[params.Depends] = ()) -> APIRouter:
    """A router for pages: CSRF checked on every unsafe method before the handler runs (after
    the dependencies `first`, e.g. a rate limit); pages are not operations of the API, so they
    stay out of its OpenAPI document."""
    return APIRouter(dependencies=[*first, Depends(csrf.protect)], include_in_schema=False)


async def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(pages_of)]
