"""Organisations in the console: the list by status, create, and each lifecycle step (declare
interest, join with the agreement date, leave, erase after a confirmation that names what goes)
— each through `OrganizationService`, as the API."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from uuid import UUID

from fastapi import Request, Response
from pydantic import BaseModel

from schemas import commands
from schemas.vocabulary import OrganizationKind, OrganizationStatus
from services.registration.domain.errors import DomainError
from services.registration.domain.organizations import Organization
from services.registration.domain.trace import Trace
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.services import Services
from services.registration.store import organizations as organization_store
from services.registration.web.staff.access import PREFIX, console_router
from services.registration.web.staff.form_input import refusal, validated, without_blanks
from services.registration.web.staff.lookups import shown
from services.registration.web.staff.rendering import page, reader_language, see_other
from services.runtime.forms import FieldError, text_field

router = console_router()

NEW_FIELDS = ("name", "kind", "district", "website", "contact.name", "contact.email",
              "contact.phone", "contact.language")  # fmt: skip
# Every organisation the network knows fits one page (13 partners, a few hundred at most).
LISTED_ORGANIZATIONS = 5000
# Each step's form: its one optional or required field, the API's command, the service call.
Step = Callable[[Services, UUID, Any, Trace], Awaitable[Organization]]
STEPS: dict[str, tuple[str, type[BaseModel], Step]] = {
    "interest": (
        "note",
        commands.DeclareInterest,
        lambda services, id_, command, trace: services.organizations.declare_interest(
            id_, command, trace
        ),
    ),
    "join": (
        "agreement_signed_on",
        commands.JoinPartnership,
        lambda services, id_, command, trace: services.organizations.join(id_, command, trace),
    ),
    "leave": (
        "reason",
        commands.LeavePartnership,
        lambda services, id_, command, trace: services.organizations.leave(id_, command, trace),
    ),
}


@router.get("/organizations")
async def organization_list(request: Request, services: ServicesDep, status: str = "") -> Response:
    chosen = status if status in set(OrganizationStatus) else None
    async with services.pool.acquire() as conn:
        found = await organization_store.list_page(
            conn, status=chosen, after=None, limit=LISTED_ORGANIZATIONS
        )
    context = {"organizations": found, "status": chosen, "statuses": list(OrganizationStatus)}
    return page(request, "organizations.html", context)


@router.get("/organizations/new")
async def create_page(request: Request) -> Response:
    return _create_page(request, {"contact.language": "de"}, [])


@router.post("/organizations")
async def create(request: Request, services: ServicesDep, trace: TraceDep) -> Response:
    form = await request.form()
    entered = {name: text_field(form, name) for name in NEW_FIELDS}
    command = validated(commands.CreateOrganization, _nested(entered), reader_language(request))
    if isinstance(command, list):
        return _create_page(request, entered, command)
    try:
        organization = await services.organizations.create(command, trace)
    except DomainError as error:
        return _create_page(
            request, entered, [refusal(error, frozenset(NEW_FIELDS), reader_language(request))]
        )
    return see_other(f"{PREFIX}/organizations/{organization.id}", "created")


@router.get("/organizations/{organization_id}")
async def organization_page(
    request: Request, organization_id: UUID, services: ServicesDep
) -> Response:
    organization = await shown(services.organizations.get(organization_id))
    return _organization_page(request, organization, {}, [])


@router.get("/organizations/{organization_id}/erase")
async def erase_page(request: Request, organization_id: UUID, services: ServicesDep) -> Response:
    organization = await shown(services.organizations.get(organization_id))
    return page(request, "organization_erase.html", {"organization": organization})


@router.post("/organizations/{organization_id}/erase")
async def erase(
    request: Request, organization_id: UUID, services: ServicesDep, trace: TraceDep
) -> Response:
    organization = await shown(services.organizations.get(organization_id))
    await services.organizations.erase(organization.id, trace)
    return see_other(f"{PREFIX}/organizations", "erased")


# After the erase routes: "erase" is not one of the steps below.


@router.post("/organizations/{organization_id}/{step}")
async def take_step(
    request: Request, organization_id: UUID, step: str, services: ServicesDep, trace: TraceDep
) -> Response:
    """Declare interest, join or leave: the step's one field, then the service's rule."""
    organization = await shown(services.organizations.get(organization_id))
    if step not in STEPS:
        return page(request, "not_found.html", {}, status=404)
    field, model, call = STEPS[step]
    entered = {field: text_field(await request.form(), field)}
    command = validated(model, without_blanks(entered), reader_language(request))
    if isinstance(command, list):
        return _organization_page(request, organization, entered, command)
    try:
        await call(services, organization_id, command, trace)
    except DomainError as error:
        errors = [refusal(error, frozenset({field}), reader_language(request))]
        return _organization_page(request, organization, entered, errors, status=409)
    return see_other(f"{PREFIX}/organizations/{organization_id}", step)


def _nested(entered: dict[str, str]) -> dict[str, Any]:
    """`contact.email` into the contact object the API's body has."""
    values: dict[str, Any] = {}
    contact = {}
    for name, value in without_blanks(entered).items():
        group, _, part = name.partition(".")
        if part:
            contact[part] = value
        else:
            values[group] = value
    return {**values, "contact": contact}


def _create_page(
    request: Request, entered: dict[str, str], errors: Sequence[FieldError]
) -> Response:
    context = {"entered": entered, "errors": errors, "kinds": list(OrganizationKind)}
    return page(request, "organization_new.html", context, status=422 if errors else 200)


def _organization_page(
    request: Request,
    organization: Organization,
    entered: dict[str, str],
    errors: Sequence[FieldError],
    *,
    status: int | None = None,
) -> Response:
    context = {"organization": organization, "entered": entered, "errors": errors}
    return page(request, "organization.html", context, status=status or (422 if errors else 200))
