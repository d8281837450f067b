"""A forum's registrations in the console: search by organisation or contact, cancel one (after
a confirmation, through `RegistrationService.cancel` by staff, as the API) and export them all
as CSV for a spreadsheet."""

from collections.abc import Sequence
from uuid import UUID

from fastapi import Request, Response

from schemas import commands
from services.registration.domain.errors import DomainError
from services.registration.domain.registrations import Registration
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.services import Services
from services.registration.store import registrations as registration_store
from services.registration.web.staff.access import PREFIX, console_router
from services.registration.web.staff.form_input import refusal, validated, without_blanks
from services.registration.web.staff.lookups import shown
from services.registration.web.staff.rendering import page, reader_language, see_other
from services.runtime.forms import FieldError, text_field
from services.runtime.languages import Language
from services.runtime.spreadsheet import cell, csv_bytes

router = console_router()

# A forum's registrations are read whole: the list shows waitlist positions, which need the
# whole waitlist, and the largest event (the open conference) has a few hundred.
EVERY_REGISTRATION = 100_000


async def of_forum(services: Services, forum_id: UUID) -> list[Registration]:
    """In order of arrival, waitlisted ones with their position."""
    async with services.pool.acquire() as conn:
        return await registration_store.list_page(
            conn, forum_id, after_arrival=0, limit=EVERY_REGISTRATION
        )


def matching(registrations: Sequence[Registration], query: str) -> list[Registration]:
    """Those whose organisation, contact name or e-mail address holds `query` (any case)."""
    wanted = query.strip().casefold()
    if not wanted:
        return list(registrations)
    return [
        registration
        for registration in registrations
        if any(wanted in text.casefold() for text in _searched(registration))
    ]


def _searched(registration: Registration) -> list[str]:
    contact = registration.contact
    texts = [registration.organization_name or ""]
    return texts + ([contact.name, contact.email] if contact else [])


@router.get("/registrations/{registration_id}/cancel")
async def cancel_page(request: Request, registration_id: UUID, services: ServicesDep) -> Response:
    registration = await shown(services.registrations.get(registration_id))
    return await _cancel_page(request, services, registration, "", [])


@router.post("/registrations/{registration_id}/cancel")
async def cancel(
    request: Request, registration_id: UUID, services: ServicesDep, trace: TraceDep
) -> Response:
    registration = await shown(services.registrations.get(registration_id))
    reason = text_field(await request.form(), "reason")
    values = without_blanks({"reason": reason})
    command = validated(commands.CancelRegistration, values, reader_language(request))
    if isinstance(command, list):
        return await _cancel_page(request, services, registration, reason, command)
    try:
        await services.registrations.cancel(registration_id, command, trace, by="staff")
    except DomainError as error:
        errors = [refusal(error, frozenset({"reason"}), reader_language(request))]
        return await _cancel_page(request, services, registration, reason, errors, status=409)
    return see_other(f"{PREFIX}/forums/{registration.forum_id}", "registration_cancelled")


async def _cancel_page(
    request: Request,
    services: Services,
    registration: Registration,
    reason: str,
    errors: Sequence[FieldError],
    status: int | None = None,
) -> Response:
    forum = await shown(services.forums.get(registration.forum_id))
    context = {"registration": registration, "forum": forum, "reason": reason, "errors": errors}
    return page(
        request, "registration_cancel.html", context, status=status or (422 if errors else 200)
    )


@router.get("/forums/{forum_id}/registrations.csv")
async def export(request: Request, forum_id: UUID, services: ServicesDep) -> Response:
    """Every registration of the forum, with its contact and needs (personal data: no cache)."""
    await shown(services.forums.get(forum_id))
    language = reader_language(request)
    found = await of_forum(services, forum_id)
    body = csv_bytes(_headers(language), (_row(item, language.code) for item in found),
                     language.code)  # fmt: skip
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="registrations-{forum_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _headers(language: Language) -> list[str]:
    _ = language.gettext
    return [
        _("Registration id"),
        _("Organisation"),
        _("Status"),
        _("Waiting list position"),
        _("Attendees"),
        _("Contact"),
        _("E-mail"),
        _("Phone"),
        _("Wants to present"),
        _("Interested in partnership"),
        _("Accessibility needs"),
        _("Interpreter needs"),
        _("Registered at"),
    ]


def _row(registration: Registration, code: str) -> list[str]:
    contact = registration.contact
    values = [
        registration.id,
        registration.organization_name,
        registration.status.value,
        registration.waitlist_position,
        registration.attendees,
        contact.name if contact else None,
        contact.email if contact else None,
        contact.phone if contact else None,
        registration.wants_to_present,
        registration.interested_in_partnership,
        registration.accessibility_needs,
        registration.interpreter_needs,
        registration.created_at,
    ]
    return [cell(value, code) for value in values]
