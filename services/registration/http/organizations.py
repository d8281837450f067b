"""/v1/organizations: create, list, read, lifecycle steps and erasure (staff)."""

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response

from schemas import commands
from schemas.vocabulary import OrganizationStatus
from services.registration.domain.organizations import Organization
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.http.problems import REFUSALS
from services.registration.http.views import OrganizationPage, OrganizationView
from services.registration.store import organizations as organization_store
from services.runtime import paging
from services.runtime.auth import StaffDep
from services.runtime.http import linked, problem_responses
from services.runtime.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, PageOrder

# Staff only: every operation may also answer 403 (a token of another role).
router = APIRouter(
    prefix="/v1/organizations",
    tags=["organizations"],
    responses={**REFUSALS, **problem_responses(403)},
)
LIFECYCLE_STEP = problem_responses(404, 409)


def _organization_position(parts: Sequence[str]) -> tuple[str, UUID]:
    name, organization_id = parts
    return paging.name(name), UUID(organization_id)


# By name, then id, as the store lists them.
ORGANIZATION_ORDER = PageOrder[tuple[str, UUID], Organization](
    position_of=lambda organization: (organization.name, organization.id),
    read=_organization_position,
)


@router.post(
    "",
    status_code=201,
    response_model=OrganizationView,
    responses=linked(
        201,
        "Created",
        "organization_id",
        "read_organization",
        "declare_interest",
        "join",
        "leave",
        "erase_organization",
    ),
)
async def create_organization(
    body: commands.CreateOrganization, services: ServicesDep, trace: TraceDep, _: StaffDep
) -> OrganizationView:
    return OrganizationView.of(await services.organizations.create(body, trace))


@router.get("", response_model=OrganizationPage)
async def list_organizations(
    services: ServicesDep,
    _: StaffDep,
    status: OrganizationStatus | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> OrganizationPage:
    page = ORGANIZATION_ORDER.request(cursor, limit)
    async with services.pool.acquire() as conn:
        found = await organization_store.list_page(
            conn, status=status.value if status else None, after=page.after, limit=page.fetch_size
        )
    organizations, following = page.page(found)
    return OrganizationPage(
        items=[OrganizationView.of(organization) for organization in organizations], next=following
    )


@router.get("/{organization_id}", response_model=OrganizationView, responses=problem_responses(404))
async def read_organization(
    organization_id: UUID, services: ServicesDep, _: StaffDep
) -> OrganizationView:
    return OrganizationView.of(await services.organizations.get(organization_id))


@router.post(
    "/{organization_id}/interest", response_model=OrganizationView, responses=LIFECYCLE_STEP
)
async def declare_interest(
    organization_id: UUID,
    services: ServicesDep,
    trace: TraceDep,
    _: StaffDep,
    body: Annotated[commands.DeclareInterest | None, Body()] = None,
) -> OrganizationView:
    command = body or commands.DeclareInterest()
    return OrganizationView.of(
        await services.organizations.declare_interest(organization_id, command, trace)
    )


@router.post("/{organization_id}/join", response_model=OrganizationView, responses=LIFECYCLE_STEP)
async def join(
    organization_id: UUID,
    body: commands.JoinPartnership,
    services: ServicesDep,
    trace: TraceDep,
    _: StaffDep,
) -> OrganizationView:
    return OrganizationView.of(await services.organizations.join(organization_id, body, trace))


@router.post("/{organization_id}/leave", response_model=OrganizationView, responses=LIFECYCLE_STEP)
async def leave(
    organization_id: UUID,
    services: ServicesDep,
    trace: TraceDep,
    _: StaffDep,
    body: Annotated[commands.LeavePartnership | None, Body()] = None,
) -> OrganizationView:
    command = body or commands.LeavePartnership()
    return OrganizationView.of(await services.organizations.leave(organization_id, command, trace))


@router.delete("/{organization_id}", status_code=204, responses=problem_responses(404))
async def erase_organization(
    organization_id: UUID, services: ServicesDep, trace: TraceDep, _: StaffDep
) -> Response:
    """Erase the personal data of the organisation's contacts (emits `organization.erased`)."""
    await services.organizations.erase(organization_id, trace)
    return Response(status_code=204)
