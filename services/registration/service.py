"""Command handlers: each runs one transaction holding the state change and its outbox rows."""

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from uuid import UUID, uuid4

import asyncpg

from schemas import commands
from schemas.envelope import Envelope
from schemas.organizations import OrganizationRegistered
from schemas.topics import Topic
from schemas.vocabulary import OrganizationStatus, RegistrationStatus
from services.registration import metrics
from services.registration.domain import forums as forum_rules
from services.registration.domain import organizations as organization_rules
from services.registration.domain import registrations as registration_rules
from services.registration.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from services.registration.domain.forums import Forum
from services.registration.domain.organizations import Organization
from services.registration.domain.registrations import Registration
from services.registration.domain.trace import Trace
from services.registration.store import SCHEMA
from services.registration.store import forums as forum_store
from services.registration.store import organizations as organization_store
from services.registration.store import registrations as registration_store
from services.runtime import outbox, unit_of_work
from services.runtime.db import Connection
from services.runtime.inbox import InboxEntry
from services.runtime.outbox import Outgoing


@dataclass(frozen=True)
class Admitted:
    registration: Registration
    cancel_token: str
    replayed: bool = False


class RegistrationService:
    """The one entry for every state change, from HTTP and from the intake topic alike."""

    def __init__(self, pool: asyncpg.Pool, cancel_secret: bytes) -> None:
        self.pool = pool
        self._cancel_secret = cancel_secret

    def _unit_of_work(self, entry: InboxEntry | None) -> AbstractAsyncContextManager[Connection]:
        if entry is None:
            return unit_of_work.transaction(self.pool)()
        return unit_of_work.claiming(self.pool, schema=SCHEMA, entry=entry)()

    # --- organisations -------------------------------------------------------------------

    async def create_organization(
        self, command: commands.OrganizationDraft, trace: Trace, entry: InboxEntry | None = None
    ) -> Organization:
        organization, event = organization_rules.create(command, trace)
        async with self._unit_of_work(entry) as conn:
            await organization_store.insert(conn, organization)
            await _publish(conn, Topic.ORGANIZATIONS, [event], organization.id)
        return organization

    async def declare_interest(
        self, organization_id: UUID, trace: Trace, entry: InboxEntry | None = None
    ) -> Organization:
        return await self._change_lifecycle(
            organization_id, lambda found: organization_rules.declare_interest(found, trace), entry
        )

    async def join(
        self,
        organization_id: UUID,
        command: commands.JoinPartnership,
        trace: Trace,
        entry: InboxEntry | None = None,
    ) -> Organization:
        return await self._change_lifecycle(
            organization_id,
            lambda found: organization_rules.join(found, command.agreement_signed_on, trace),
            entry,
        )

    async def leave(
        self,
        organization_id: UUID,
        command: commands.LeavePartnership,
        trace: Trace,
        entry: InboxEntry | None = None,
    ) -> Organization:
        return await self._change_lifecycle(
            organization_id,
            lambda found: organization_rules.leave(found, command.reason, trace),
            entry,
        )

    async def _change_lifecycle(
        self,
        organization_id: UUID,
        change: Callable[[Organization], tuple[Organization, Envelope]],
        entry: InboxEntry | None,
    ) -> Organization:
        """One lifecycle step in one transaction. The row lock serialises steps of the same
        organisation, so no step is lost and its facts reach the outbox in order."""
        async with self._unit_of_work(entry) as conn:
            organization = await _organization(conn, organization_id, lock=True)
            changed, event = change(organization)
            await organization_store.save_lifecycle(conn, changed)
            await _publish(conn, Topic.ORGANIZATIONS, [event], organization_id)
        return changed

    async def erase(self, organization_id: UUID, trace: Trace) -> None:
        async with self._unit_of_work(None) as conn:
            organization = await _organization(conn, organization_id, lock=True)
            registration_ids = await organization_store.erase_personal_data(conn, organization_id)
            event = organization_rules.erase(organization, registration_ids, trace)
            await _publish(conn, Topic.ORGANIZATIONS, [event], organization_id)

    # --- forums --------------------------------------------------------------------------

    async def schedule_forum(
        self, command: commands.ScheduleForum, trace: Trace, entry: InboxEntry | None = None
    ) -> Forum:
        forum, event = forum_rules.schedule(command, trace)
        async with self._unit_of_work(entry) as conn:
            await forum_store.insert(conn, forum)
            await _publish(conn, Topic.FORUMS, [event])
        return forum

    async def update_forum(
        self,
        forum_id: UUID,
        patch: commands.UpdateForum,
        trace: Trace,
        entry: InboxEntry | None = None,
    ) -> Forum:
        async with self._unit_of_work(entry) as conn:
            forum = await _forum(conn, forum_id, lock=True)
            changed, event = forum_rules.update(forum, patch, trace)
            await forum_store.save_details(conn, changed)
            await _publish(conn, Topic.FORUMS, [event])
            # More seats may let the waitlist move up.
            return await _promote_waitlisted(conn, changed, trace)

    async def cancel_forum(
        self,
        forum_id: UUID,
        command: commands.CancelForum,
        trace: Trace,
        entry: InboxEntry | None = None,
    ) -> Forum:
        async with self._unit_of_work(entry) as conn:
            forum = await _forum(conn, forum_id, lock=True)
            changed, event = forum_rules.cancel(forum, command.reason, trace)
            await forum_store.record_cancelled(conn, forum_id, command.reason)
            await _publish(conn, Topic.FORUMS, [event])
        return changed

    async def mark_forum_held(
        self,
        forum_id: UUID,
        command: commands.MarkForumHeld,
        trace: Trace,
        entry: InboxEntry | None = None,
    ) -> Forum:
        async with self._unit_of_work(entry) as conn:
            forum = await _forum(conn, forum_id, lock=True)
            confirmed = await registration_store.confirmed_ids(conn, forum_id)
            changed, event = forum_rules.mark_held(forum, command, confirmed, trace)
            await forum_store.record_held(
                conn,
                forum_id,
                attendance=command.attendance,
                attended=command.attended_registration_ids,
                outcomes=command.outcomes,
            )
            await _publish(conn, Topic.FORUMS, [event])
        return changed

    # --- registrations -------------------------------------------------------------------

    async def register(
        self,
        forum_id: UUID,
        request: commands.Register,
        trace: Trace,
        *,
        entry: InboxEntry | None = None,
        idempotency_key: str | None = None,
        anonymous: bool = False,
    ) -> Admitted:
        """`anonymous`: the caller has no token, so only open forums take the registration."""
        idempotency = None
        if idempotency_key:
            idempotency = (idempotency_key, _request_hash(forum_id, request))
            earlier = await self._replay(*idempotency)
            if earlier:
                if anonymous:  # a replay answers with the cancel token: same access rule
                    registration_rules.check_anonymous_access(await self.forum(forum_id))
                return earlier
        try:
            return await self._register(forum_id, request, trace, entry, idempotency, anonymous)
        except _ReplayedError as replayed:
            return replayed.admitted

    async def _register(
        self,
        forum_id: UUID,
        request: commands.Register,
        trace: Trace,
        entry: InboxEntry | None,
        idempotency: tuple[str, str] | None,
        anonymous: bool,
    ) -> Admitted:
        registration_id = uuid4()
        async with self.pool.acquire() as conn:
            forum, organization, created = await _registration_parties(
                conn, forum_id, request, trace, anonymous=anonymous
            )
            registration_rules.check_admission(forum, organization, request, trace.now)
            new = _new_registration(registration_id, forum, organization, request, trace)
            if entry is None and created is None and not _declares_interest(organization, request):
                # The hot path: one statement, no explicit transaction around it.
                return await self._admit(conn, forum, new, request, trace, idempotency)
        async with self._unit_of_work(entry) as conn:
            await _update_organization(conn, organization, created, new, request, trace)
            return await self._admit(conn, forum, new, request, trace, idempotency)

    async def _admit(
        self,
        conn: Connection,
        forum: Forum,
        registration: Registration,
        request: commands.Register,
        trace: Trace,
        idempotency: tuple[str, str] | None,
    ) -> Admitted:
        token = registration_rules.cancel_token(self._cancel_secret, registration.id)
        event = registration_rules.made(registration, forum, token, trace)
        try:
            admission = await registration_store.admit(
                conn,
                registration_id=registration.id,
                forum_id=forum.id,
                organization_id=registration.organization_id,
                seats_per_organization=forum.seats_per_organization,
                request=request,
                event=event,
                now=trace.now,
                idempotency=idempotency,
            )
        except asyncpg.UniqueViolationError as error:
            raise await self._duplicate(error, idempotency) from error
        if not admission.forum_open:
            raise Conflict("registration is closed for this forum", field="forum_id")
        if not admission.within_cap:
            assert forum.seats_per_organization is not None
            raise RuleViolation(
                registration_rules.over_cap_message(forum.seats_per_organization), field="attendees"
            )
        assert admission.status is not None
        metrics.REGISTRATIONS.labels(admission.status.value).inc()
        admitted = replace(
            registration, status=admission.status, waitlist_position=admission.waitlist_position
        )
        return Admitted(admitted, token)

    async def _duplicate(
        self, error: asyncpg.UniqueViolationError, idempotency: tuple[str, str] | None
    ) -> Exception:
        """A concurrent first request with the same Idempotency-Key wins; this one replays it."""
        if idempotency and "idempotency" in (error.constraint_name or ""):
            earlier = await self._replay(*idempotency)
            if earlier:
                return _ReplayedError(earlier)
        return Conflict(
            "this e-mail address is already registered for this forum", field="contact.email"
        )

    async def _replay(self, key: str, request_hash: str) -> Admitted | None:
        async with self.pool.acquire() as conn:
            earlier = await registration_store.idempotent_result(conn, key)
            if earlier is None:
                return None
            stored_hash, registration_id, first_response = earlier
            if stored_hash != request_hash:
                raise RuleViolation(
                    "this Idempotency-Key was used with a different request",
                    field="Idempotency-Key",
                )
            registration = await registration_store.get(conn, registration_id)
        if registration is None:
            return None
        position = first_response.get("waitlist_position")
        first = replace(
            registration,
            status=RegistrationStatus(str(first_response["status"])),
            waitlist_position=int(str(position)) if position is not None else None,
        )
        token = registration_rules.cancel_token(self._cancel_secret, registration_id)
        return Admitted(first, token, replayed=True)

    async def cancel_registration(
        self,
        registration_id: UUID,
        command: commands.CancelRegistration,
        trace: Trace,
        *,
        by: str,
        entry: InboxEntry | None = None,
    ) -> Registration:
        async with self._unit_of_work(entry) as conn:
            found = await registration_store.get(conn, registration_id)
            if found is None:
                raise NotFound(f"no registration {registration_id}", field="registration_id")
            if by == "registrant" and not registration_rules.token_matches(
                self._cancel_secret, registration_id, command.cancel_token or ""
            ):
                raise Forbidden(
                    "the cancel token does not match this registration", field="cancel_token"
                )
            # Lock order as in admission: organisation seats, forum, then the registration.
            await registration_store.lock_organization_seats(
                conn, found.forum_id, found.organization_id
            )
            forum = await _forum(conn, found.forum_id, lock=True)
            registration = await registration_store.get(conn, registration_id, lock=True)
            assert registration is not None
            event = registration_rules.cancelled(registration, forum, by, command.reason, trace)
            await registration_store.mark_cancelled(conn, registration_id, by)
            await registration_store.release_organization_seats(
                conn, forum.id, registration.organization_id, registration.attendees
            )
            await _publish(conn, Topic.REGISTRATIONS, [event], registration.organization_id)
            forum = _release_seat(forum, registration)
            await forum_store.save_counters(conn, forum)
            await _promote_waitlisted(conn, forum, trace)
        return replace(registration, status=RegistrationStatus.CANCELLED, waitlist_position=None)

    async def record_rejection(self, rejection: Envelope, entry: InboxEntry) -> None:
        """An intake command that broke a rule: its answer is a fact, once, like any other."""
        async with self._unit_of_work(entry) as conn:
            await _publish(conn, Topic.INTAKE_REJECTED, [rejection])

    # --- queries -------------------------------------------------------------------------

    async def organization(self, organization_id: UUID) -> Organization:
        async with self.pool.acquire() as conn:
            return await _organization(conn, organization_id)

    async def forum(self, forum_id: UUID) -> Forum:
        async with self.pool.acquire() as conn:
            return await _forum(conn, forum_id)

    async def registration(self, registration_id: UUID) -> Registration:
        async with self.pool.acquire() as conn:
            found = await registration_store.get(conn, registration_id)
        if found is None:
            raise NotFound(f"no registration {registration_id}", field="registration_id")
        return found


class _ReplayedError(Exception):
    """Carries an Idempotency-Key replay out of a failed insert (a concurrent first request)."""

    def __init__(self, admitted: Admitted) -> None:
        super().__init__("replayed")
        self.admitted = admitted


async def _registration_parties(
    conn: Connection, forum_id: UUID, request: commands.Register, trace: Trace, *, anonymous: bool
) -> tuple[Forum, Organization, OrganizationRegistered | None]:
    """The forum and the registering organisation; an inline organisation is made here and
    stored with the registration (the event that registers it is returned beside it)."""
    forum, organization = await registration_store.forum_and_organization(
        conn, forum_id, request.organization_id
    )
    if forum is None:
        raise NotFound(f"no forum {forum_id}", field="forum_id")
    if anonymous:
        registration_rules.check_anonymous_access(forum)
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
        organization = await _organization(conn, organization.id, lock=True)
    if _declares_interest(organization, request):
        organization, interested = organization_rules.declare_interest(
            organization, trace, registration_id=registration.id
        )
        await organization_store.save_lifecycle(conn, organization)
        events.append(interested)
    await _publish(conn, Topic.ORGANIZATIONS, events, organization.id)


def _declares_interest(organization: Organization, request: commands.Register) -> bool:
    return request.interested_in_partnership and organization.status is OrganizationStatus.PROSPECT


def _new_registration(
    registration_id: UUID,
    forum: Forum,
    organization: Organization,
    request: commands.Register,
    trace: Trace,
) -> Registration:
    return Registration(
        id=registration_id,
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


def _request_hash(forum_id: UUID, request: commands.Register) -> str:
    return hashlib.sha256(f"{forum_id}:{request.model_dump_json()}".encode()).hexdigest()


def _release_seat(forum: Forum, registration: Registration) -> Forum:
    if registration.status is RegistrationStatus.CONFIRMED:
        return replace(forum, seats_taken=forum.seats_taken - registration.attendees)
    if registration.status is RegistrationStatus.WAITLISTED:
        return replace(forum, waitlist_length=forum.waitlist_length - 1)
    return forum


async def _promote_waitlisted(conn: Connection, forum: Forum, trace: Trace) -> Forum:
    """Confirm waitlisted registrations in order while they fit; the forum row is locked."""
    if forum.waitlist_length == 0:
        return forum
    waiting = await registration_store.waitlist(conn, forum.id)
    promoted = registration_rules.promotions(forum.seats_remaining, waiting)
    if not promoted:
        return forum
    await registration_store.mark_confirmed(conn, [registration.id for registration in promoted])
    forum = replace(
        forum,
        seats_taken=forum.seats_taken + sum(registration.attendees for registration in promoted),
        waitlist_length=forum.waitlist_length - len(promoted),
    )
    await forum_store.save_counters(conn, forum)
    for registration in promoted:
        event = registration_rules.promoted(registration, forum, trace)
        await _publish(conn, Topic.REGISTRATIONS, [event], registration.organization_id)
    return forum


async def _publish(
    conn: Connection, topic: Topic, events: Sequence[Envelope], subject_id: UUID | None = None
) -> None:
    await outbox.append(conn, SCHEMA, [Outgoing(topic, event, subject_id) for event in events])


async def _organization(
    conn: Connection, organization_id: UUID, *, lock: bool = False
) -> Organization:
    organization = await organization_store.get(conn, organization_id, lock=lock)
    if organization is None:
        raise NotFound(f"no organisation {organization_id}", field="organization_id")
    return organization


async def _forum(conn: Connection, forum_id: UUID, *, lock: bool = False) -> Forum:
    forum = await forum_store.get(conn, forum_id, lock=lock)
    if forum is None:
        raise NotFound(f"no forum {forum_id}", field="forum_id")
    return forum
