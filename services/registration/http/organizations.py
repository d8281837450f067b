"""/v1/organizations: create, list, read, lifecycle steps and erasure (staff)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response

from schemas import commands
from schemas.vocabulary import OrganizationStatus
from services.registration.http.deps import ServiceDep, TraceDep
from services.registration.http.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, bad_cursor
from services.registration.http.views import (
    OrganizationPage,
    OrganizationView,
    decode_cursor,
    encode_cursor,
)
from services.registration.store import organizations as organization_store
from services.runtime.auth import StaffDep

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])


@router.post("", status_code=201, response_model=OrganizationView)
async def create_organization(
    body: commands.CreateOrganization, service: ServiceDep, trace: TraceDep, _: StaffDep
) -> OrganizationView:
    return OrganizationView.of(await service.create_organization(body, trace))


@router.get("", response_model=OrganizationPage)
async def list_organizations(
    service: ServiceDep,
    _: StaffDep,
    status: OrganizationStatus | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> OrganizationPage:
    after = None
    if cursor:
        try:
            name, organization_id = decode_cursor(cursor)
            after = (name, UUID(organization_id))
        except ValueError as error:
            raise bad_cursor() from error
    async with service.pool.acquire() as conn:
        found = await organization_store.list_page(
            conn, status=status.value if status else None, after=after, limit=limit + 1
        )
    items = [OrganizationView.of(organization) for organization in found[:limit]]
    following = (
        encode_cursor(found[limit - 1].name, found[limit - 1].id) if len(found) > limit else None
    )
    return OrganizationPage(items=items, next=following)


@router.get("/{organization_id}", response_model=OrganizationView)
async def read_organization(
    organization_id: UUID, service: ServiceDep, _: StaffDep
) -> OrganizationView:
    return OrganizationView.of(await service.organization(organization_id))


@router.post("/{organization_id}/interest", response_model=OrganizationView)
async def declare_interest(
    organization_id: UUID,
    service: ServiceDep,
    trace: TraceDep,
    _: StaffDep,
    body: Annotated[commands.DeclareInterest | None, Body()] = None,
) -> OrganizationView:
    return OrganizationView.of(await service.declare_interest(organization_id, trace))


@router.post("/{organization_id}/join", response_model=OrganizationView)
async def join(
    organization_id: UUID,
    body: commands.JoinPartnership,
    service: ServiceDep,
    trace: TraceDep,
    _: StaffDep,
) -> OrganizationView:
    return OrganizationView.of(await service.join(organization_id, body, trace))


@router.post("/{organization_id}/leave", response_model=OrganizationView)
async def leave(
    organization_id: UUID,
    service: ServiceDep,
    trace: TraceDep,
    _: StaffDep,
    body: Annotated[commands.LeavePartnership | None, Body()] = None,
) -> OrganizationView:
    command = body or commands.LeavePartnership()
    return OrganizationView.of(await service.leave(organization_id, command, trace))


@router.delete("/{organization_id}", status_code=204)
async def erase_organization(
    organization_id: UUID, service: ServiceDep, trace: TraceDep, _: StaffDep
) -> Response:
    """Erase the personal data of the organisation's contacts (emits `organization.erased`)."""
    await service.erase(organization_id, trace)
    return Response(status_code=204)
