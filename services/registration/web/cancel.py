"""The registrant's cancel page: `GET /registrations/{id}/cancel?token=…` shows the registration
and a form; its POST cancels as the API does (`RegistrationService.cancel`, by the registrant)."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from fastapi import Request, Response
from pydantic import TypeAdapter, ValidationError

from schemas.commands import CancelRegistration
from schemas.text import MultiLine
from schemas.vocabulary import ForumStatus, RegistrationStatus
from services.registration.domain.errors import Conflict, Forbidden, NotFound
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.links import CANCEL_PAGE_PATH
from services.registration.registrations import OwnRegistration
from services.registration.services import Services
from services.registration.web.public_router import public_router
from services.runtime.forms import FieldError, error_for, field_errors, text_field
from services.runtime.languages import Language
from services.runtime.pages import LANGUAGE_PARAMETER, Pages, PagesDep, reader_language

router = public_router()

# The bound the API's command enforces, read from its type so the page never states another.
REASON_MAX_LENGTH: int = TypeAdapter(MultiLine).json_schema()["maxLength"]


class CancelState(StrEnum):
    OPEN = "open"
    ALREADY_CANCELLED = "already_cancelled"
    FORUM_HELD = "forum_held"
    FORUM_CANCELLED = "forum_cancelled"


def cancel_state(own: OwnRegistration) -> CancelState:
    """Whether the form is offered, else why not: the service's rule (domain/registrations.py
    `check_cancellable`, `cancelled`), told apart so the page can say which it is."""
    if own.registration.status is RegistrationStatus.CANCELLED:
        return CancelState.ALREADY_CANCELLED
    if own.forum.status is ForumStatus.HELD:
        return CancelState.FORUM_HELD
    if own.forum.status is ForumStatus.CANCELLED:
        return CancelState.FORUM_CANCELLED
    return CancelState.OPEN


@dataclass(frozen=True)
class CancelForm:
    """What the form holds when shown: the token it carries, the reason as typed, its errors."""

    token: str
    reason: str = ""
    errors: Sequence[FieldError] = ()


@router.get(CANCEL_PAGE_PATH)
async def cancel_page(
    request: Request,
    registration_id: str,
    services: ServicesDep,
    pages: PagesDep,
    token: str = "",
) -> Response:
    own = await _own_registration(services, registration_id, token)
    if own is None:
        return _invalid_link(request, pages)
    return _show(request, pages, own, CancelForm(token))


@router.post(CANCEL_PAGE_PATH)
async def cancel_from_page(
    request: Request,
    registration_id: str,
    services: ServicesDep,
    pages: PagesDep,
    trace: TraceDep,
) -> Response:
    """The rate limit and the CSRF token were checked before this runs (public_router)."""
    form = await request.form()
    entered = CancelForm(text_field(form, "token"), text_field(form, "reason"))
    own = await _own_registration(services, registration_id, entered.token)
    if own is None:
        return _invalid_link(request, pages)
    command = _validated(entered, pages.languages[_language(request, own)])
    if isinstance(command, CancelForm):
        return _show(request, pages, own, command)
    try:
        cancelled = await services.registrations.cancel(
            own.registration.id, command, trace, by="registrant"
        )
    except Conflict:
        # Shown while it could be cancelled, but since then it was (another tab, the event
        # team) or its forum was held or cancelled: the page as it stands now, with 409.
        now = await services.registrations.of_token_holder(own.registration.id, entered.token)
        return _show(request, pages, now, CancelForm(entered.token), status=409)
    context = {"forum": own.forum, "registration": cancelled, "had_seat": _had_seat(own)}
    return pages.render(
        request, "registrations/cancelled.html", context, language=_language(request, own)
    )


def _validated(entered: CancelForm, language: Language) -> CancelRegistration | CancelForm:
    """The API's command (so the same bounds), or the form again with what is wrong in it."""
    try:
        return CancelRegistration(cancel_token=entered.token, reason=entered.reason.strip() or None)
    except ValidationError as error:
        return CancelForm(entered.token, entered.reason, field_errors(error, language))


def _had_seat(own: OwnRegistration) -> bool:
    return own.registration.status is RegistrationStatus.CONFIRMED


async def _own_registration(
    services: Services, registration_id: str, token: str
) -> OwnRegistration | None:
    try:
        return await services.registrations.of_token_holder(UUID(registration_id), token)
    except (ValueError, Forbidden, NotFound):
        return None


def _invalid_link(request: Request, pages: Pages) -> Response:
    """One page, and 403, for a wrong or missing token, an unknown and a malformed id: a 404
    for unknown ids would tell whoever tries which ids exist. (The token is checked first, so
    an unknown id is not even looked up; only a valid token can meet a vanished one.)"""
    return pages.render(
        request, "invalid_link.html", {}, language=reader_language(request), status=403
    )


def _language(request: Request, own: OwnRegistration) -> str:
    """The reader's choice (`?lang=`, the cookie) over the language they registered in."""
    contact = own.registration.contact
    return reader_language(request, contact.language if contact else None)


def _show(
    request: Request,
    pages: Pages,
    own: OwnRegistration,
    form: CancelForm,
    *,
    status: int | None = None,
) -> Response:
    language = _language(request, own)
    action = CANCEL_PAGE_PATH.format(registration_id=own.registration.id)
    return pages.render(
        request,
        "registrations/cancel.html",
        {
            "registration": own.registration,
            "forum": own.forum,
            "state": cancel_state(own).value,
            "form": form,
            "errors": form.errors,
            "reason_error": error_for(form.errors, "reason"),
            "reason_limit": REASON_MAX_LENGTH,
            # The language stays the page's when its answer is shown; the token travels in the
            # form's body, not in this URL.
            "action": f"{action}?{LANGUAGE_PARAMETER}={language}",
        },
        language=language,
        status=status or (422 if form.errors else 200),
        offer_languages=True,
    )
