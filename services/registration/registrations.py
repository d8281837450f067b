"""Registration commands: register for a forum (the hot path) and cancel a registration."""

from dataclasses import dataclass, replace
from uuid import UUID, uuid4

import asyncpg

from schemas import commands
from schemas.envelope import Envelope
from schemas.organizations import OrganizationRegistered
from schemas.topics import Topic
from schemas.vocabulary import OrganizationStatus, RegistrationStatus
from services.registration import forums, idempotency, metrics, organizations, waitlist
from services.registration.domain import organizations as organization_rules
from services.registration.domain import registrations as rules
from services.registration.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from services.registration.domain.forums import Forum
from services.registration.domain.organizations import Organization
from services.registration.domain.registrations import Registration
from services.registration.domain.trace import Trace
from services.registration.idempotency import IdempotencyKey
from services.registration.store import facts
from services.registration.store import forums as forum_store
from services.registration.store import organizations as organization_store
from services.registration.store import registrations as store
from services.runtime import unit_of_work
from services.runtime.db import Connection
from services.runtime.unit_of_work import UnitOfWork

DUPLICATE_EMAIL = "this e-mail address is already registered for this forum"


@dataclass(frozen=True)
class Admitted:
    """A registration as its registrant is told: with the cancel token only they get."""

    registration: Registration
    cancel_token: str
    replayed: bool = False


@dataclass(frozen=True)
class OwnRegistration:
    """A registration with its forum, as the holder of its cancel token is shown it."""

    registration: Registration
    forum: Forum


@dataclass(frozen=True)
class _Refused:
    """The admitting statement hit a unique constraint: a concurrent first request with the
    same Idempotency-Key, or the e-mail address registered already."""

    constraint: str


class RegistrationService:
    def __init__(self, pool: asyncpg.Pool, cancel_secret: bytes) -> None:
        self._pool = pool
        self._cancel_secret = cancel_secret

    async def register(
        self,
        forum_id: UUID,
        request: commands.Register,
        trace: Trace,
        *,
        unit: UnitOfWork | None = None,
        idempotency_key: str | None = None,
        anonymous: bool = False,
    ) -> Admitted:
        """`anonymous`: the caller has no token, so only open forums take the registration."""
        key = IdempotencyKey.of(idempotency_key, forum_id, request) if idempotency_key else None
        if key is not None and (earlier := await self._first_answer(key)) is not None:
            if anonymous:  # a replay answers with the cancel token: same access rule
                rules.check_anonymous_access(await self._forum(forum_id))
            return earlier
        outcome = await self._admit_new(forum_id, request, trace, unit, key, anonymous)
        if isinstance(outcome, Admitted):
            return outcome
        # A concurrent first request with this key won: answer as it was answered.
        if (
            key is not None
            and "idempotency" in outcome.constraint
            and (earlier := await self._first_answer(key)) is not None
        ):
            return earlier
        raise Conflict(DUPLICATE_EMAIL, field="contact.email")

    async def _admit_new(
        self,
        forum_id: UUID,
        request: commands.Register,
        trace: Trace,
        unit: UnitOfWork | None,
        key: IdempotencyKey | None,
        anonymous: bool,
    ) -> Admitted | _Refused:
        try:
            async with self._pool.acquire() as conn:
                forum, organization, created = await _parties(
                    conn, forum_id, request, trace, anonymous=anonymous
                )
                rules.check_admission(forum, organization, request, trace.now)
                new = _new_registration(forum, organization, request, trace)
                if (
                    unit is None
                    and created is None
                    and not _declares_interest(organization, request)
                ):
                    # The hot path: one statement, no explicit transaction around it.
                    return await self._admit(conn, forum, new, request, trace, key)
            async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
                await _update_organization(conn, organization, created, new, request, trace)
                return await self._admit(conn, forum, new, request, trace, key)
        except asyncpg.UniqueViolationError as error:
            return _Refused(error.constraint_name or "")

    async def _admit(
        self,
        conn: Connection,
        forum: Forum,
        registration: Registration,
        request: commands.Register,
        trace: Trace,
        key: IdempotencyKey | None,
    ) -> Admitted:
        token = rules.cancel_token(self._cancel_secret, registration.id)
        event = rules.made(registration, forum, token, trace)
        admission = await store.admit(
            conn,
            registration_id=registration.id,
            forum_id=forum.id,
            organization_id=registration.organization_id,
            seats_per_organization=forum.seats_per_organization,
            request=request,
            event=event,
            now=trace.now,
            idempotency_key=key.key if key else None,
            request_hash=key.request_hash if key else None,
        )
        if not admission.forum_open:
            raise Conflict("registration is closed for this forum", field="forum_id")
        if admission.status is None:  # open, but the organisation's seats would pass the cap
            assert forum.seats_per_organization is not None
            raise RuleViolation(
                rules.over_cap_message(forum.seats_per_organization), field="attendees"
            )
        metrics.REGISTRATIONS.labels(admission.status.value).inc()
        admitted = replace(
            registration, status=admission.status, waitlist_position=admission.waitlist_position
        )
        return Admitted(admitted, token)

    async def _first_answer(self, key: IdempotencyKey) -> Admitted | None:
        async with self._pool.acquire() as conn:
            first = await idempotency.first_answer(conn, key)
        if first is None:
            return None
        token = rules.cancel_token(self._cancel_secret, first.id)
        return Admitted(first, token, replayed=True)

    async def cancel(
        self,
        registration_id: UUID,
        command: commands.CancelRegistration,
        trace: Trace,
        *,
        by: str,
        unit: UnitOfWork | None = None,
    ) -> Registration:
        async with unit_of_work.given_or_transaction(unit, self._pool)() as conn:
            found = await self._require(conn, registration_id)
            if by == "registrant" and not rules.token_matches(
                self._cancel_secret, registration_id, command.cancel_token or ""
            ):
                raise Forbidden(
                    "the cancel token does not match this registration", field="cancel_token"
                )
            # Lock order as in admission: organisation seats, forum, then the registration.
            await store.lock_organization_seats(conn, found.forum_id, found.organization_id)
            forum = await forums.require(conn, found.forum_id, lock=True)
            registration = await self._require(conn, registration_id, lock=True)
            rules.check_cancellable(forum)
            event = rules.cancelled(registration, forum, by, command.reason, trace)
            await store.mark_cancelled(conn, registration_id, by)
            await store.release_organization_seats(
                conn, forum.id, registration.organization_id, registration.attendees
            )
            await facts.append(conn, Topic.REGISTRATIONS, [event], registration.organization_id)
            forum = _release_seat(forum, registration)
            await forum_store.save_counters(conn, forum)
            await waitlist.promote(conn, forum, trace)
        return replace(registration, status=RegistrationStatus.CANCELLED, waitlist_position=None)

    async def of_token_holder(self, registration_id: UUID, cancel_token: str) -> OwnRegistration:
        """The registration and its forum for the holder of its cancel token (the cancel page).

        The token is checked before anything is read: whoever offers a wrong one learns
        nothing, not even whether the id exists (by the answer or by its time)."""
        if not rules.token_matches(self._cancel_secret, registration_id, cancel_token):
            raise Forbidden(
                "the cancel token does not match this registration", field="cancel_token"
            )
        async with self._pool.acquire() as conn:
            registration = await self._require(conn, registration_id)
            forum = await forums.require(conn, registration.forum_id)
        return OwnRegistration(registration, forum)

    async def get(self, registration_id: UUID) -> Registration:
        async with self._pool.acquire() as conn:
            return await self._require(conn, registration_id)

    async def _forum(self, forum_id: UUID) -> Forum:
        async with self._pool.acquire() as conn:
            return await forums.require(conn, forum_id)

    @staticmethod
    async def _require(
        conn: Connection, registration_id: UUID, *, lock: bool = False
    ) -> Registration:
        found = await store.get(conn, registration_id, lock=lock)
        if found is None:
            raise NotFound(f"no registration {registration_id}", field="registration_id")
        return found


async def _parties(
    conn: Connection, forum_id: UUID, request: commands.Register, trace: Trace, *, anonymous: bool
) -> tuple[Forum, Organization, OrganizationRegistered | None]:
    """The forum and the registering organisation, read together (the hot path reads nothing
    else); an inline organisation is made here and stored with the registration (the event that
    registers it is returned beside it)."""
    forum, organization = await store.forum_and_organization(
        conn, forum_id, request.organization_id
    )
    if forum is None:
        raise NotFound(f"no forum {forum_id}", field="forum_id")
    if anonymous:
        rules.check_anonymous_access(forum)
    if request.organization is not None:
        draft = request.organization
        if draft.contact is None:
            draft = draft.model_copy(update={"contact": request.contact})
        return forum, *organization_rules.create(draft, trace)
    if organization is None:
        raise RuleViolation(f"no organisation {request.organization_id}", field="organization_id")
    return forum, organization, None


async def _update_organization(
    conn: Connection,
    organization: Organization,
    created: OrganizationRegistered | None,
    registration: Registration,
    request: commands.Register,
    trace: Trace,
) -> None:
    """Store an inline organisation and move it to interested, in the registration's transaction."""
    events: list[Envelope] = []
    if created is not None:
        await organization_store.insert(conn, organization)
        events.append(created)
    else:
        organization = await organizations.require(conn, organization.id, lock=True)
    if _declares_interest(organization, request):
        organization, interested = organization_rules.declare_interest(
            organization, trace, registration_id=registration.id
        )
        await organization_store.save_lifecycle(conn, organization)
        events.append(interested)
    await facts.append(conn, Topic.ORGANIZATIONS, events, organization.id)


def _declares_interest(organization: Organization, request: commands.Register) -> bool:
    return request.interested_in_partnership and organization.status is OrganizationStatus.PROSPECT


def _new_registration(
    forum: Forum, organization: Organization, request: commands.Register, trace: Trace
) -> Registration:
    return Registration(
        id=uuid4(),
        forum_id=forum.id,
        organization_id=organization.id,
        organization_name=organization.name,
        status=RegistrationStatus.CONFIRMED,
        attendees=request.attendees,
        contact=request.contact,
        wants_to_present=request.wants_to_present,
        interested_in_partnership=request.interested_in_partnership,
        accessibility_needs=request.accessibility_needs,
        interpreter_needs=request.interpreter_needs,
        created_at=trace.now,
    )


def _release_seat(forum: Forum, registration: Registration) -> Forum:
    if registration.status is RegistrationStatus.CONFIRMED:
        return replace(forum, seats_taken=forum.seats_taken - registration.attendees)
    if registration.status is RegistrationStatus.WAITLISTED:
        return replace(forum, waitlist_length=forum.waitlist_length - 1)
    return forum
