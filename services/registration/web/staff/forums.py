"""Forums in the console: the list with fill and waitlist, schedule, edit, cancel (after a
confirmation) and mark held with who attended — each through `ForumService`, as the API."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import Request, Response
from starlette.datastructures import FormData

from schemas import commands
from schemas.vocabulary import BERLIN, Audience, ForumFormat, ForumStatus, RegistrationStatus
from services.registration.domain.errors import DomainError
from services.registration.domain.forums import Forum
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.services import Services
from services.registration.store import forums as forum_store
from services.registration.web.staff import registrations
from services.registration.web.staff.access import PREFIX, console_router
from services.registration.web.staff.form_input import refusal, validated, without_blanks
from services.registration.web.staff.lookups import PageNotFound, shown
from services.registration.web.staff.rendering import page, reader_language, see_other
from services.runtime.forms import FieldError, text_field

router = console_router()

# The fields of the schedule and edit forms, named as the API's (so its errors name them).
FORUM_FIELDS = (
    "title",
    "format",
    "audience",
    "topics",
    "venue",
    "starts_at",
    "ends_at",
    "registration_deadline",
    "capacity",
    "seats_per_organization",
)
FIELDS = frozenset(FORUM_FIELDS)
TIMES = ("starts_at", "ends_at", "registration_deadline")
# More than the network has held in all its years; the list is one page.
LISTED_FORUMS = 1000
# What `<input type="datetime-local">` sends and shows: a Berlin wall-clock time.
LOCAL_TIME = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class ForumForm:
    """The schedule or edit form as shown: what was typed (or the forum's values), its errors."""

    values: dict[str, str]
    errors: Sequence[FieldError] = field(default_factory=list)


@router.get("/")
async def forum_list(request: Request, services: ServicesDep) -> Response:
    async with services.pool.acquire() as conn:
        forums = await forum_store.list_page(
            conn, audience=None, status=None, after=None, limit=LISTED_FORUMS
        )
    return page(request, "forums.html", {"forums": forums})


@router.get("/forums/new")
async def schedule_page(request: Request) -> Response:
    blank = ForumForm({"format": ForumFormat.FORUM.value, "audience": Audience.OPEN.value})
    return _form_page(request, blank, forum=None)


@router.post("/forums")
async def schedule(request: Request, services: ServicesDep, trace: TraceDep) -> Response:
    entered = _entered(await request.form())
    command = validated(commands.ScheduleForum, _command_values(entered), reader_language(request))
    if isinstance(command, list):
        return _form_page(request, ForumForm(entered, command), forum=None)
    try:
        forum = await services.forums.schedule(command, trace)
    except DomainError as error:
        return _form_page(
            request,
            ForumForm(entered, [refusal(error, FIELDS, reader_language(request))]),
            forum=None,
        )
    return see_other(f"{PREFIX}/forums/{forum.id}", "scheduled")


@router.get("/forums/{forum_id}")
async def forum_page(
    request: Request, forum_id: UUID, services: ServicesDep, q: str = ""
) -> Response:
    forum = await shown(services.forums.get(forum_id))
    found = registrations.matching(await registrations.of_forum(services, forum_id), q)
    context = {"forum": forum, "registrations": found, "query": q.strip()}
    return page(request, "forum.html", context)


@router.get("/forums/{forum_id}/edit")
async def edit_page(request: Request, forum_id: UUID, services: ServicesDep) -> Response:
    forum = await _scheduled(services, forum_id)
    return _form_page(request, ForumForm(_values_of(forum)), forum=forum)


@router.post("/forums/{forum_id}/edit")
async def edit(
    request: Request, forum_id: UUID, services: ServicesDep, trace: TraceDep
) -> Response:
    forum = await _scheduled(services, forum_id)
    entered = _entered(await request.form())
    # Only what the person changed: the form shows times to the minute, and a forum scheduled
    # through the API may have seconds, which must not become a change (and an e-mail to all).
    shown = _values_of(forum)
    changed = {name: value for name, value in entered.items() if value != shown[name]}
    patch = validated(commands.UpdateForum, _command_values(changed), reader_language(request))
    if isinstance(patch, list):
        return _form_page(request, ForumForm(entered, patch), forum=forum)
    try:
        await services.forums.update(forum_id, patch, trace)
    except DomainError as error:
        return _form_page(
            request,
            ForumForm(entered, [refusal(error, FIELDS, reader_language(request))]),
            forum=forum,
        )
    return see_other(f"{PREFIX}/forums/{forum_id}", "updated")


@router.get("/forums/{forum_id}/cancel")
async def cancel_page(request: Request, forum_id: UUID, services: ServicesDep) -> Response:
    forum = await _scheduled(services, forum_id)
    return _cancel_page(request, forum, reason="", errors=[])


@router.post("/forums/{forum_id}/cancel")
async def cancel(
    request: Request, forum_id: UUID, services: ServicesDep, trace: TraceDep
) -> Response:
    forum = await _scheduled(services, forum_id)
    reason = text_field(await request.form(), "reason")
    command = validated(
        commands.CancelForum, without_blanks({"reason": reason}), reader_language(request)
    )
    if isinstance(command, list):
        return _cancel_page(request, forum, reason=reason, errors=command)
    try:
        await services.forums.cancel(forum_id, command, trace)
    except DomainError as error:
        return _cancel_page(
            request,
            forum,
            reason,
            [refusal(error, frozenset({"reason"}), reader_language(request))],
        )
    return see_other(f"{PREFIX}/forums/{forum_id}", "cancelled")


@router.get("/forums/{forum_id}/held")
async def held_page(request: Request, forum_id: UUID, services: ServicesDep) -> Response:
    forum = await _scheduled(services, forum_id)
    return await _held_page(request, services, forum, {}, attended=set(), errors=[])


@router.post("/forums/{forum_id}/held")
async def mark_held(
    request: Request, forum_id: UUID, services: ServicesDep, trace: TraceDep
) -> Response:
    forum = await _scheduled(services, forum_id)
    form = await request.form()
    entered = {name: text_field(form, name) for name in ("attendance", "outcomes")}
    attended = {value for value in form.getlist("attended") if isinstance(value, str)}
    values: dict[str, Any] = {**without_blanks(entered), "attended_registration_ids": attended}
    command = validated(commands.MarkForumHeld, values, reader_language(request))
    if isinstance(command, list):
        return await _held_page(request, services, forum, entered, attended, command)
    try:
        await services.forums.mark_held(forum_id, command, trace)
    except DomainError as error:
        errors = [refusal(error, frozenset({"attendance", "outcomes"}), reader_language(request))]
        return await _held_page(request, services, forum, entered, attended, errors)
    return see_other(f"{PREFIX}/forums/{forum_id}", "held")


async def _scheduled(services: Services, forum_id: UUID) -> Forum:
    """The forum, if it can still be changed; a held or cancelled one has only its page."""
    forum = await shown(services.forums.get(forum_id))
    if forum.status is not ForumStatus.SCHEDULED:
        raise PageNotFound
    return forum


def _entered(form: FormData) -> dict[str, str]:
    return {name: text_field(form, name) for name in FORUM_FIELDS}


def _command_values(entered: dict[str, str]) -> dict[str, Any]:
    """The form as the API's body: topics one a line, empty fields left out."""
    values: dict[str, Any] = without_blanks(entered)
    if "topics" in values:
        values["topics"] = [line.strip() for line in values["topics"].splitlines() if line.strip()]
    return values


def _values_of(forum: Forum) -> dict[str, str]:
    shown = {name: str(getattr(forum, name) or "") for name in FORUM_FIELDS}
    shown["topics"] = "\n".join(forum.topics)
    for name in TIMES:
        shown[name] = getattr(forum, name).astimezone(BERLIN).strftime(LOCAL_TIME)
    return shown


def _form_page(request: Request, form: ForumForm, *, forum: Forum | None) -> Response:
    context = {
        "form": form,
        "errors": form.errors,
        "forum": forum,
    }
    return page(request, "forum_form.html", context, status=422 if form.errors else 200)


def _cancel_page(
    request: Request, forum: Forum, reason: str, errors: Sequence[FieldError]
) -> Response:
    context = {"forum": forum, "reason": reason, "errors": errors}
    return page(request, "forum_cancel.html", context, status=422 if errors else 200)


async def _held_page(
    request: Request,
    services: Services,
    forum: Forum,
    entered: dict[str, str],
    attended: set[str],
    errors: Sequence[FieldError],
) -> Response:
    confirmed = [
        registration
        for registration in await registrations.of_forum(services, forum.id)
        if registration.status is RegistrationStatus.CONFIRMED
    ]
    context = {
        "forum": forum,
        "confirmed": confirmed,
        "entered": entered,
        "attended": attended,
        "errors": errors,
    }
    return page(request, "forum_held.html", context, status=422 if errors else 200)
