"""Organisation commands: register, declare interest, join, leave, erase — one transaction each."""

from collections.abc import Callable
from uuid import UUID

import asyncpg

from schemas import commands
from schemas.envelope import Envelope
from schemas.topics import Topic
from services.registration.domain import organizations as rules
from services.registration.domain.errors import NotFound
from services.registration.domain.organizations import Organization
from services.registration.domain.trace import Trace
from services.registration.store import facts
from services.registration.store import organizations as store
from services.runtime import unit_of_work
from services.runtime.db import Connection
from services.runtime.unit_of_work import UnitOfWork


async def require(conn: Connection, organization_id: UUID, *, lock: bool = False) -> Organization:
    """The organisation, or NotFound; an erased one is gone for every caller (its anonymous row
    stays only so that counts and past registrations keep their organisation)."""
    organization = await store.get(conn, organization_id, lock=lock)
    if organization is None or organization.erased:
        raise NotFound(f"no organisation {organization_id}", field="organization_id")
    return organization


class OrganizationService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self, command: commands.OrganizationDraft, trace: Trace, unit: UnitOfWork | None = None
    ) -> Organization:
        organization, event = rules.create(command, trace)
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            await store.insert(conn, organization)
            await facts.append(conn, Topic.ORGANIZATIONS, [event], organization.id)
        return organization

    async def declare_interest(
        self,
        organization_id: UUID,
        command: commands.DeclareInterest,
        trace: Trace,
        unit: UnitOfWork | None = None,
    ) -> Organization:
        return await self._step(
            organization_id,
            lambda found: rules.declare_interest(found, trace, note=command.note),
            unit,
        )

    async def join(
        self,
        organization_id: UUID,
        command: commands.JoinPartnership,
        trace: Trace,
        unit: UnitOfWork | None = None,
    ) -> Organization:
        return await self._step(
            organization_id,
            lambda found: rules.join(found, command.agreement_signed_on, trace),
            unit,
        )

    async def leave(
        self,
        organization_id: UUID,
        command: commands.LeavePartnership,
        trace: Trace,
        unit: UnitOfWork | None = None,
    ) -> Organization:
        return await self._step(
            organization_id, lambda found: rules.leave(found, command.reason, trace), unit
        )

    async def _step(
        self,
        organization_id: UUID,
        change: Callable[[Organization], tuple[Organization, Envelope]],
        unit: UnitOfWork | None,
    ) -> Organization:
        """One lifecycle step in one transaction. The row lock serialises steps of the same
        organisation, so no step is lost and its facts reach the outbox in order."""
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            organization = await require(conn, organization_id, lock=True)
            changed, event = change(organization)
            await store.save_lifecycle(conn, changed)
            await facts.append(conn, Topic.ORGANIZATIONS, [event], organization_id)
        return changed

    async def erase(self, organization_id: UUID, trace: Trace) -> None:
        async with unit_of_work.transaction(self._pool)() as conn:
            organization = await require(conn, organization_id, lock=True)
            registration_ids = await store.erase_personal_data(conn, organization_id)
            event = rules.erase(organization, registration_ids, trace)
            await facts.append(conn, Topic.ORGANIZATIONS, [event], organization_id)

    async def get(self, organization_id: UUID) -> Organization:
        async with self._pool.acquire() as conn:
            return await require(conn, organization_id)
