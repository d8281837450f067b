"""The consumer of the fact topics: each fact updates the read model and plans its e-mails as
deliveries, in one transaction with the fact's inbox entry — so a redelivered or replayed fact
changes nothing and plans nothing twice. Sending happens later (sender.py), never here."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

import asyncpg
from pydantic import ValidationError

from schemas.catalog import parse_event
from schemas.envelope import Envelope, utc_now
from schemas.forums import ForumCancelled, ForumHeld, ForumScheduled, ForumUpdated
from schemas.organizations import (
    OrganizationErased,
    OrganizationInterested,
    OrganizationRegistered,
    PartnerJoined,
    PartnerLeft,
)
from schemas.registrations import (
    RegistrationCancelled,
    RegistrationFacts,
    RegistrationMade,
    RegistrationPromoted,
)
from services.notification.domain import planning
from services.notification.domain.known import (
    FactRef,
    ForumEnding,
    KnownForum,
    KnownOrganization,
    KnownRegistration,
)
from services.notification.domain.mails import ForumFacts, forum_facts
from services.notification.domain.planning import Links, Occasion, Planned
from services.notification.domain.recipients import recipient_hash
from services.notification.store import SCHEMA, deliveries, known, reminders, unsubscribes
from services.runtime import inbox
from services.runtime.consumer import Batch, Envelopes, Outcome, Unprocessable
from services.runtime.db import Connection

log = logging.getLogger(__name__)

CONSUMER = "notification"
# The types this consumer acts on; any other type on these topics is acknowledged unchanged
# (a newer producer's type: consumers must tolerate them).
HANDLED = (
    OrganizationRegistered,
    OrganizationInterested,
    PartnerJoined,
    PartnerLeft,
    OrganizationErased,
    ForumScheduled,
    ForumUpdated,
    ForumHeld,
    ForumCancelled,
    RegistrationMade,
    RegistrationPromoted,
    RegistrationCancelled,
)
# A fact processed later than this after it occurred is being caught up on (see _hold); its
# mails wait CATCH_UP_HOLD, long enough here to read a thousand of the facts that followed it.
# A minute: a burst of live facts (a thousand registrations at once, the benchmark) is read
# well within it and waits for nothing.
CAUGHT_UP_WITHIN = timedelta(seconds=60)
CATCH_UP_HOLD = timedelta(seconds=10)
HANDLED_TYPES = frozenset(str(kind.model_fields["type"].default) for kind in HANDLED)


@dataclass(frozen=True)
class Policy:
    """What planning needs of the settings."""

    links: Links
    max_age: timedelta
    reminder_lead: timedelta
    staff_mailbox: str | None
    mail_domain: str


class FactConsumer(Envelopes):
    """Applies what one fetch brought in one transaction, fact after fact in the order read:
    the fetch's inbox entries are claimed in one statement, each new fact updates the read
    model and plans its mails, and the planned deliveries are written in one statement. A
    transaction a fact cost about 13 ms of round trips and a commit (BEGIN, the claim, the
    reads, the writes, COMMIT, the pool's reset, the offset commit): the consumer read 76
    facts/s while the sender could send 200 (bench/notifications.py). Per-key order holds: a
    fetch's messages of a partition come in offset order. A fact that fails unexpectedly fails
    the whole transaction, and the runtime applies the fetch one message at a time to find it
    (consumer.py)."""

    def __init__(self, pool: asyncpg.Pool, policy: Policy) -> None:
        self._pool = pool
        self._policy = policy

    async def apply(self, batch: Batch[dict[str, Any]]) -> list[Outcome]:
        events = [_handled(received.item) for received in batch.received]
        async with self._pool.acquire() as conn, conn.transaction():
            # The fetch's inbox entries in one statement; an id twice in it is applied once.
            fresh = await inbox.claim_all(
                conn,
                schema=SCHEMA,
                consumer=CONSUMER,
                event_ids=[str(event.event_id) for event in events if event is not None],
            )
            planned = _PlannedInFetch(self._policy.mail_domain)
            outcomes = []
            for event in events:
                if event is None:
                    outcomes.append(Outcome.PROCESSED)
                elif str(event.event_id) not in fresh:
                    outcomes.append(Outcome.DUPLICATE)
                else:
                    fresh.discard(str(event.event_id))
                    await self._handle_in(conn, event, planned)
                    outcomes.append(Outcome.PROCESSED)
            await planned.write(conn)
            return outcomes

    async def _handle_in(
        self, conn: Connection, event: Envelope, planned: "_PlannedInFetch"
    ) -> None:
        now = utc_now()
        if isinstance(event, OrganizationErased):
            # The erasure rewrites the deliveries already planned: this fetch's too.
            await planned.write(conn)
        planned.add(await self._apply(conn, event), due=now + _hold(now - event.occurred_at))

    def _occasion(self, fact: FactRef) -> Occasion:
        return Occasion(
            event_id=fact.event_id,
            event_type=fact.event_type,
            correlation_id=fact.correlation_id,
            occurred_at=fact.occurred_at,
            now=utc_now(),
            max_age=self._policy.max_age,
            calendar_domain=self._policy.mail_domain,
        )

    async def _apply(self, conn: Connection, event: Envelope) -> list[Planned]:
        occasion = self._occasion(_fact_of(event))
        policy = self._policy
        match event:
            case OrganizationRegistered() | PartnerLeft():
                await _save_organization(conn, event)
                return []
            case OrganizationInterested():
                organization = await _save_organization(conn, event)
                if await known.is_erased(conn, organization.id):
                    return []  # an old fact read again (a replay): its contact is gone
                mails = planning.organization_interested(
                    occasion, event, _address(policy.staff_mailbox)
                )
                return mails + await self._invitations_owed(conn, organization, event)
            case PartnerJoined():
                organization = await _save_organization(conn, event)
                if await known.is_erased(conn, organization.id):
                    return []
                mails = planning.partner_joined(occasion, event)
                return mails + await self._invitations_owed(conn, organization, event)
            case OrganizationErased():
                await _erase(conn, event)
                return []
            case ForumScheduled() | ForumUpdated():
                return await self._forum_scheduled_or_updated(conn, event, occasion)
            case ForumCancelled() | ForumHeld():
                return await self._forum_ended(conn, event, occasion)
            case RegistrationMade() | RegistrationPromoted() | RegistrationCancelled():
                return await self._registration(conn, event, occasion)
        return []

    async def _forum_scheduled_or_updated(
        self, conn: Connection, event: ForumScheduled | ForumUpdated, occasion: Occasion
    ) -> list[Planned]:
        data = event.data
        reschedules = isinstance(event, ForumUpdated) and bool(
            planning.SCHEDULE_FIELDS & set(event.data.changed_fields)
        )
        scheduling = _fact_of(event) if isinstance(event, ForumScheduled) else None
        forum = await known.save_forum(
            conn,
            forum_id=data.forum_id,
            title=data.title,
            format=data.format,
            venue=data.venue,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            registration_deadline=data.registration_deadline,
            audience=data.audience,
            status=data.status,
            reschedules=reschedules,
            occurred_at=event.occurred_at,
            scheduling=scheduling,
        )
        if forum.status == "scheduled":
            await reminders.schedule(conn, forum.id, forum.starts_at, self._policy.reminder_lead)
        if isinstance(event, ForumUpdated):
            registered = await known.registrations_of(conn, forum.id)
            return planning.forum_updated(occasion, event, forum, registered, self._policy.links)
        invited = await known.invited_to(conn, open_forum=data.audience == "open")
        scheduled = forum_facts(data.forum_id, data, data.registration_deadline)
        return await self._invitations(conn, occasion, scheduled, invited)

    async def _invitations(
        self,
        conn: Connection,
        occasion: Occasion,
        forum: ForumFacts,
        invited: list[KnownOrganization],
    ) -> list[Planned]:
        hashes = [recipient_hash(o.contact.address) for o in invited if o.contact is not None]
        unsubscribed = await unsubscribes.among(conn, hashes)
        return planning.forum_scheduled(occasion, forum, invited, unsubscribed, self._policy.links)

    async def _invitations_owed(
        self,
        conn: Connection,
        organization: KnownOrganization,
        event: PartnerJoined | OrganizationInterested,
    ) -> list[Planned]:
        """Invitations to forums scheduled after this fact occurred whose scheduling was
        processed first (another topic): the organisation was invited then, by occurrence."""
        if organization.status not in ("partner", "interested") or organization.contact is None:
            return []
        planned: list[Planned] = []
        later = await known.scheduled_after(
            conn, event.occurred_at, open_only=organization.status != "partner"
        )
        for forum, scheduling in later:
            occasion = self._occasion(scheduling)
            planned += await self._invitations(conn, occasion, forum.facts(), [organization])
        return planned

    async def _forum_ended(
        self, conn: Connection, event: ForumCancelled | ForumHeld, occasion: Occasion
    ) -> list[Planned]:
        ending = _ending(event)
        status = "cancelled" if ending.cancelled else "held"
        forum = await known.save_forum_ending(conn, event.data.forum_id, status, ending)
        await reminders.cancel(conn, event.data.forum_id)
        if forum is None:
            log.warning("%s of forum %s before it was scheduled: no mail", event.type, event.key)
            return []
        registered = await known.registrations_of(conn, forum.id)
        return planning.forum_ended(occasion, ending, forum, registered)

    async def _ending_owed(
        self,
        conn: Connection,
        forum: KnownForum | None,
        registration: KnownRegistration,
        occurred_at: datetime,
    ) -> list[Planned]:
        """The thanks or cancellation of a forum held or cancelled after this registration's
        fact occurred, when the forum's fact was processed first (another topic)."""
        if forum is None or forum.status == "scheduled":
            return []
        ending = await known.ending_of(conn, forum.id)
        if ending is None or ending.fact.occurred_at < occurred_at:
            return []
        return planning.forum_ended(self._occasion(ending.fact), ending, forum, [registration])

    async def _registration(
        self,
        conn: Connection,
        event: RegistrationMade | RegistrationPromoted | RegistrationCancelled,
        occasion: Occasion,
    ) -> list[Planned]:
        saved = await known.save_registration(
            conn,
            registration=_known(event),
            confirmed=event.data.status == "confirmed",
            occurred_at=event.occurred_at,
        )
        if saved.organization_erased:
            return []  # no mail to a contact whose data was erased, not even from an old fact
        forum, registration = saved.forum, saved.registration
        owed = await self._ending_owed(conn, forum, registration, event.occurred_at)
        return self._registration_mails(event, occasion, forum, registration) + owed

    def _registration_mails(
        self,
        event: RegistrationMade | RegistrationPromoted | RegistrationCancelled,
        occasion: Occasion,
        forum: KnownForum | None,
        saved: KnownRegistration,
    ) -> list[Planned]:
        links = self._policy.links
        match event:
            case RegistrationMade():
                return planning.registration_made(occasion, event, forum, links, saved.cancel_token)
            case RegistrationPromoted():
                return planning.registration_promoted(
                    occasion, event, forum, links, saved.cancel_token
                )
            case RegistrationCancelled():
                return planning.registration_cancelled(occasion, event, forum)


async def _save_organization(
    conn: Connection,
    event: OrganizationRegistered | OrganizationInterested | PartnerJoined | PartnerLeft,
) -> KnownOrganization:
    data = event.data
    contact = getattr(data, "contact", None)
    return await known.save_organization(
        conn,
        organization_id=data.organization_id,
        name=data.name,
        status=data.status,
        contact=planning.recipient_of(contact),
        occurred_at=event.occurred_at,
    )


async def _erase(conn: Connection, event: OrganizationErased) -> None:
    data = event.data
    await known.erase_organization(conn, data.organization_id, data.erased_at)
    await deliveries.erase_organization(conn, data.organization_id, data.registration_ids)


class _PlannedInFetch:
    """The deliveries a fetch's facts planned, in the order planned, written in one statement
    (at the end of the fetch's transaction, or before an erasure changes deliveries): a fact
    a statement was a round trip and an insert of one row for every mail of a burst."""

    def __init__(self, mail_domain: str) -> None:
        self._mail_domain = mail_domain
        self._planned: list[Planned] = []
        self._due: list[datetime] = []

    def add(self, planned: list[Planned], *, due: datetime) -> None:
        self._planned += planned
        self._due += [due] * len(planned)

    async def write(self, conn: Connection) -> None:
        if self._planned:
            await deliveries.insert_planned(
                conn, self._planned, mail_domain=self._mail_domain, due=self._due
            )
        self._planned, self._due = [], []


def _fact_of(event: Envelope) -> FactRef:
    return FactRef(event.event_id, event.type, event.occurred_at, event.correlation_id)


def _ending(event: ForumCancelled | ForumHeld) -> ForumEnding:
    if isinstance(event, ForumCancelled):
        return ForumEnding(_fact_of(event), event.data.reason, None, frozenset())
    data = event.data
    return ForumEnding(
        _fact_of(event), None, data.outcomes, frozenset(data.attended_registration_ids)
    )


def _known(
    event: RegistrationMade | RegistrationPromoted | RegistrationCancelled,
) -> KnownRegistration:
    """As the fact tells it (store.known.save_registration leaves out an erased one's data)."""
    data: RegistrationFacts = event.data
    return KnownRegistration(
        id=data.registration_id,
        forum_id=data.forum_id,
        organization_id=data.organization_id,
        organization_name=data.organization_name,
        status=data.status,
        attendees=data.attendees,
        waitlist_position=data.waitlist_position,
        contact=planning.recipient_of(data.contact),
        cancel_token=getattr(data, "cancel_token", None),
        registered_at=getattr(data, "registered_at", event.occurred_at),
        cancelled_by=getattr(data, "cancelled_by", None),
    )


def _handled(raw: dict[str, Any]) -> Envelope | None:
    """The typed fact, None for a type this consumer does not act on."""
    kind = raw.get("type")
    # Not a string (a list is not even hashable): no type this consumer acts on either.
    if not isinstance(kind, str) or kind not in HANDLED_TYPES:
        return None
    return _parsed(raw)


def _parsed(raw: dict[str, Any]) -> Envelope:
    """The typed fact; a malformed one can never be processed: to the dead-letter topic."""
    try:
        return parse_event(raw)
    except ValidationError as error:
        fields = ", ".join(sorted({".".join(map(str, e["loc"])) for e in error.errors()}))
        raise Unprocessable(f"not a valid {str(raw.get('type'))[:100]}: {fields}") from None


def _hold(lateness: timedelta) -> timedelta:
    """How long the mails of a fact processed `lateness` after it occurred wait to be sent.

    A late fact is history being caught up on (a start on a long history, a replay, the end of
    an outage), and what followed it is being read right behind it, from this topic and the
    other two. Sent at once, a confirmation for a forum that its later facts moved into the
    past or reported held went out before those facts were read; held for a moment, the check
    at sending sees them. Facts read as they happen (milliseconds late) wait for nothing.
    """
    return CATCH_UP_HOLD if lateness > CAUGHT_UP_WITHIN else timedelta(0)


def _address(mailbox: str | None) -> str | None:
    """The bare address of `Name <address>` or `address`."""
    if not mailbox:
        return None
    return parseaddr(mailbox)[1] or None
