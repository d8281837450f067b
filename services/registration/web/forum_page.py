"""`/forums/{id}`: an open forum and its registration form; the form's POST registers through
`RegistrationService.register` as the API does (the same facts), then redirects to the result.

A partners-only forum answers as an unknown one (404): the public pages never say what partners
are invited to, as the API tells an anonymous caller nothing about it either (401)."""

from uuid import UUID

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from schemas.envelope import utc_now
from schemas.vocabulary import Audience
from services.registration.domain.errors import DomainError, NotFound
from services.registration.domain.forums import Forum
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.services import Services
from services.registration.store import organizations as organization_store
from services.registration.web import registration_form
from services.registration.web.availability import availability, most_attendees
from services.registration.web.public_router import public_router
from services.registration.web.registration_form import RegistrationForm
from services.registration.web.result import remember_result, result_page_url
from services.runtime.languages import NATIVE_NAMES, SUPPORTED_LANGUAGES
from services.runtime.pages import LANGUAGE_PARAMETER, Pages, PagesDep, reader_language
from services.runtime.security_headers import PAGE_HEADERS

FORUM_PAGE_PATH = "/forums/{forum_id}"
# The partner list of the form's select; the network has a few dozen partners, so one bounded
# read (names and ids only: the public form never shows a contact).
MAX_PARTNERS = 1000

router = public_router()


@router.get(FORUM_PAGE_PATH)
async def forum_page(
    request: Request, forum_id: str, services: ServicesDep, pages: PagesDep
) -> Response:
    language = reader_language(request)
    forum = await _public_forum(services, forum_id)
    if forum is None:
        return not_found(request, pages, language)
    form = RegistrationForm.blank(language)
    return await _show(request, pages, services, forum, form, language, offer_languages=True)


@router.post(FORUM_PAGE_PATH)
async def register_from_page(
    request: Request, forum_id: str, services: ServicesDep, pages: PagesDep, trace: TraceDep
) -> Response:
    """The rate limit and the CSRF token were checked before this runs (public_router)."""
    language = reader_language(request)
    forum = await _public_forum(services, forum_id)
    if forum is None:
        return not_found(request, pages, language)
    form = await request.form()
    if registration_form.honeypot_filled(form):
        return pages.render(request, "forums/refused.html", {}, language=language, status=400)
    entered = RegistrationForm.read(form)
    if not availability(forum, trace.now).takes_registrations:
        return await _show(request, pages, services, forum, entered, language, status=409)
    words = pages.languages[language]
    command = registration_form.command(entered, words)
    if isinstance(command, RegistrationForm):
        return await _show(request, pages, services, forum, command, language)
    try:
        admitted = await services.registrations.register(
            forum.id, command, trace, idempotency_key=entered.idempotency_key, anonymous=True
        )
    except DomainError as error:
        refused = registration_form.refusal(error, words, most_attendees(forum))
        if refused is None:  # about the forum: closed meanwhile, or no longer public
            return await _forum_as_it_is_now(request, pages, services, forum.id, entered, language)
        shown = entered.with_errors([refused])
        return await _show(request, pages, services, forum, shown, language, status=error.status)
    registration_id = admitted.registration.id
    # 303: the browser GETs the result, so a reload shows it again instead of posting again.
    response = RedirectResponse(
        result_page_url(registration_id, language), status_code=303, headers=PAGE_HEADERS
    )
    remember_result(request, response, registration_id)
    return response


async def _public_forum(services: Services, forum_id: str) -> Forum | None:
    try:
        forum = await services.forums.get(UUID(forum_id))
    except (ValueError, NotFound):
        return None
    return forum if forum.audience is Audience.OPEN else None


async def _forum_as_it_is_now(
    request: Request,
    pages: Pages,
    services: Services,
    forum_id: UUID,
    entered: RegistrationForm,
    language: str,
) -> Response:
    forum = await _public_forum(services, str(forum_id))
    if forum is None:
        return not_found(request, pages, language)
    return await _show(request, pages, services, forum, entered, language, status=409)


def not_found(request: Request, pages: Pages, language: str) -> Response:
    return pages.render(request, "forums/not_found.html", {}, language=language, status=404)


async def _show(
    request: Request,
    pages: Pages,
    services: Services,
    forum: Forum,
    form: RegistrationForm,
    language: str,
    *,
    status: int | None = None,
    offer_languages: bool = False,
) -> Response:
    state = availability(forum, utc_now())
    context = {
        "forum": forum,
        "state": state.value,
        "form": form,
        "errors": form.errors,
        "partners": await _partners(services) if state.takes_registrations else [],
        "kinds": registration_form.kind_names(pages.languages[language]),
        "contact_languages": [(code, NATIVE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
        "most_attendees": most_attendees(forum),
        "checked": registration_form.CHECKED,
        "honeypot": registration_form.HONEYPOT,
        "action": f"{FORUM_PAGE_PATH.format(forum_id=forum.id)}?{LANGUAGE_PARAMETER}={language}",
    }
    if status is None:  # a closed forum's page is shown (200) saying why; a form sent to it, 409
        status = 422 if form.errors else 200
    return pages.render(request, "forums/forum.html", context, language=language,
                        status=status, offer_languages=offer_languages)  # fmt: skip


async def _partners(services: Services) -> list[tuple[str, str]]:
    """(id, name) of every partner organisation, by name."""
    async with services.pool.acquire() as conn:
        found = await organization_store.list_page(
            conn, status="partner", after=None, limit=MAX_PARTNERS
        )
    return [(str(organization.id), organization.name) for organization in found]
