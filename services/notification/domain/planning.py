"""Which e-mail each fact causes, and to whom: plain functions of the fact and of what the read
model knows, returning the mails planned (each maybe suppressed, with the reason)."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from schemas.forums import ForumUpdated
from schemas.organizations import OrganizationInterested, PartnerJoined
from schemas.registrations import (
    RegistrationCancelled,
    RegistrationMade,
    RegistrationPromoted,
)
from schemas.registrations import (
    RegistrationFacts as RegistrationPayload,
)
from schemas.vocabulary import Contact
from services.notification.domain.known import (
    ForumEnding,
    KnownForum,
    KnownOrganization,
    KnownRegistration,
)
from services.notification.domain.mails import (
    Calendar,
    ForumFacts,
    Kind,
    Mail,
    Recipient,
    RegistrationFacts,
    forum_facts,
)
from services.notification.domain.occasions import UNSUBSCRIBED, why_not_send
from services.notification.domain.recipients import calendar_uid, recipient_hash

# forum.updated changes these, and only these, make a mail (and a new .ics) worth sending.
SCHEDULE_FIELDS = frozenset({"starts_at", "ends_at", "venue"})


@dataclass(frozen=True)
class Links:
    """The addresses mails link to, built by the service from its settings."""

    registration_url: Callable[[UUID], str]  # forum id → the public page to register
    cancel_url: Callable[[UUID, str], str]  # registration id, cancel token → the cancel page
    unsubscribe_url: Callable[[str], str]  # recipient hash → the unsubscribe page


@dataclass(frozen=True)
class Occasion:
    """The fact a mail answers, and the rules of when not to send one."""

    event_id: UUID
    event_type: str
    correlation_id: str | None
    occurred_at: datetime
    now: datetime
    max_age: timedelta
    calendar_domain: str


@dataclass(frozen=True)
class Planned:
    """One delivery to write: the mail, what it is about, and why not to send it (if so)."""

    mail: Mail
    recipient_hash: str
    occasion: Occasion
    organization_id: UUID | None
    forum_id: UUID | None
    registration_id: UUID | None
    suppressed: str | None


def _planned(
    occasion: Occasion,
    mail: Mail,
    *,
    organization_id: UUID | None = None,
    registration_id: UUID | None = None,
    forum_status: str | None = None,
    unsubscribed: bool = False,
) -> Planned:
    reason = why_not_send(
        mail.kind,
        occurred_at=occasion.occurred_at,
        now=occasion.now,
        max_age=occasion.max_age,
        forum=mail.forum,
        forum_status=forum_status,
    )
    if reason is None and unsubscribed:
        reason = UNSUBSCRIBED
    return Planned(
        mail=mail,
        recipient_hash=recipient_hash(mail.recipient.address),
        occasion=occasion,
        organization_id=organization_id,
        forum_id=mail.forum.id if mail.forum else None,
        registration_id=registration_id,
        suppressed=reason,
    )


def recipient_of(contact: Contact | None) -> Recipient | None:
    if contact is None:
        return None
    return Recipient(address=str(contact.email), name=contact.name, language=contact.language)


# --- registrations ------------------------------------------------------------------------


def _forum_of(
    data: RegistrationPayload, known: KnownForum | None, occurred_at: datetime
) -> ForumFacts:
    """The forum as the read model knows it when that is newer than the registration fact
    (a forum.updated processed first, from the other topic: the mail tells the new time);
    else as the fact tells it."""
    if known is not None and known.updated_at >= occurred_at:
        return known.facts()
    return forum_facts(data.forum_id, data.forum, known.registration_deadline if known else None)


def _registration(data: RegistrationPayload, cancel_url: str | None) -> RegistrationFacts:
    return RegistrationFacts(
        id=data.registration_id,
        attendees=data.attendees,
        status=data.status,
        waitlist_position=data.waitlist_position,
        organization_name=data.organization_name,
        cancel_url=cancel_url,
    )


def _calendar(
    occasion: Occasion, forum_id: UUID, registration_id: UUID, sequence: int, *, cancel: bool
) -> Calendar:
    return Calendar(
        uid=calendar_uid(forum_id, registration_id, occasion.calendar_domain),
        sequence=sequence,
        method="CANCEL" if cancel else "REQUEST",
    )


def registration_made(
    occasion: Occasion,
    event: RegistrationMade,
    forum: KnownForum | None,
    links: Links,
    cancel_token: str | None,
) -> list[Planned]:
    """`cancel_token`: the event's, or the read model's when a replay's event lost it."""
    data = event.data
    recipient = recipient_of(data.contact)
    if recipient is None:
        return []
    confirmed = data.status == "confirmed"
    cancel_url = links.cancel_url(data.registration_id, cancel_token) if cancel_token else None
    calendar = (
        _calendar(occasion, data.forum_id, data.registration_id, _sequence(forum), cancel=False)
        if confirmed
        else None
    )
    mail = Mail(
        kind=Kind.REGISTRATION_CONFIRMED if confirmed else Kind.REGISTRATION_WAITLISTED,
        recipient=recipient,
        forum=_forum_of(data, forum, occasion.occurred_at),
        registration=_registration(data, cancel_url),
        calendar=calendar,
    )
    return [_registrants_mail(occasion, mail, data, forum)]


def registration_promoted(
    occasion: Occasion,
    event: RegistrationPromoted,
    forum: KnownForum | None,
    links: Links,
    cancel_token: str | None,
) -> list[Planned]:
    data = event.data
    recipient = recipient_of(data.contact)
    if recipient is None:
        return []
    cancel_url = links.cancel_url(data.registration_id, cancel_token) if cancel_token else None
    mail = Mail(
        kind=Kind.REGISTRATION_PROMOTED,
        recipient=recipient,
        forum=_forum_of(data, forum, occasion.occurred_at),
        registration=_registration(data, cancel_url),
        calendar=_calendar(
            occasion, data.forum_id, data.registration_id, _sequence(forum), cancel=False
        ),
    )
    return [_registrants_mail(occasion, mail, data, forum)]


def registration_cancelled(
    occasion: Occasion, event: RegistrationCancelled, forum: KnownForum | None
) -> list[Planned]:
    """A cancellation by the forum's end says nothing of its own: forum_cancelled tells it."""
    data = event.data
    recipient = recipient_of(data.contact)
    if recipient is None or data.cancelled_by == "forum":
        return []
    had_seat = data.previous_status == "confirmed"
    calendar = (
        _calendar(occasion, data.forum_id, data.registration_id, _sequence(forum), cancel=True)
        if had_seat
        else None
    )
    mail = Mail(
        kind=Kind.REGISTRATION_CANCELLED,
        recipient=recipient,
        forum=_forum_of(data, forum, occasion.occurred_at),
        registration=_registration(data, None),
        calendar=calendar,
        reason=data.reason,
    )
    return [_registrants_mail(occasion, mail, data, forum)]


def _registrants_mail(
    occasion: Occasion, mail: Mail, data: RegistrationPayload, forum: KnownForum | None
) -> Planned:
    return _planned(
        occasion,
        mail,
        organization_id=data.organization_id,
        registration_id=data.registration_id,
        forum_status=forum.status if forum else None,
    )


def _sequence(forum: KnownForum | None) -> int:
    return forum.sequence if forum else 0


# --- forums ---------------------------------------------------------------------------------


def forum_scheduled(
    occasion: Occasion,
    forum: ForumFacts,
    invited: Sequence[KnownOrganization],
    unsubscribed: set[str],
    links: Links,
) -> list[Planned]:
    """`invited`: the organisations to invite (every partner; for an open forum also every
    interested organisation); `unsubscribed`: recipient hashes that asked for no invitations.
    `occasion` is the forum.scheduled fact, also when an organisation's own fact comes later."""
    forum = forum.model_copy(update={"registration_url": links.registration_url(forum.id)})
    planned = []
    for organization in invited:
        if organization.contact is None:
            continue
        hashed = recipient_hash(organization.contact.address)
        mail = Mail(
            kind=Kind.FORUM_INVITATION,
            recipient=organization.contact,
            forum=forum,
            organization_name=organization.name,
            unsubscribe_url=links.unsubscribe_url(hashed),
        )
        planned.append(
            _planned(
                occasion,
                mail,
                organization_id=organization.id,
                unsubscribed=hashed in unsubscribed,
            )
        )
    return planned


def forum_updated(
    occasion: Occasion,
    event: ForumUpdated,
    forum: KnownForum,
    registered: Iterable[KnownRegistration],
    links: Links,
) -> list[Planned]:
    """To everyone registered (confirmed or waitlisted) when the time or the venue changed;
    `forum` is the read model after the update (its SEQUENCE raised)."""
    changed = sorted(SCHEDULE_FIELDS & set(event.data.changed_fields))
    if not changed:
        return []
    facts = forum.facts()
    planned = []
    for registration in registered:
        if registration.contact is None or registration.status == "cancelled":
            continue
        confirmed = registration.status == "confirmed"
        mail = Mail(
            kind=Kind.FORUM_UPDATED,
            recipient=registration.contact,
            forum=facts,
            registration=_known_registration(registration, links),
            calendar=_calendar(occasion, forum.id, registration.id, forum.sequence, cancel=False)
            if confirmed
            else None,
            changed=changed,
        )
        planned.append(_registrations_mail(occasion, mail, registration, forum.status))
    return planned


def forum_ended(
    occasion: Occasion,
    ending: ForumEnding,
    forum: KnownForum,
    registered: Iterable[KnownRegistration],
) -> list[Planned]:
    """The forum's last word to its registrations: its cancellation, or the thanks."""
    if ending.cancelled:
        return _forum_cancelled(occasion, ending, forum, registered)
    return _forum_held(occasion, ending, forum, registered)


def _forum_cancelled(
    occasion: Occasion,
    ending: ForumEnding,
    forum: KnownForum,
    registered: Iterable[KnownRegistration],
) -> list[Planned]:
    """To everyone registered when the forum was cancelled: confirmed, waitlisted, and those
    whose waitlist place the cancellation ended (their registration.cancelled may come first)."""
    facts = forum.facts()
    planned = []
    for registration in registered:
        ended_by_forum = registration.cancelled_by == "forum"
        if registration.contact is None or (
            registration.status == "cancelled" and not ended_by_forum
        ):
            continue
        had_seat = registration.status == "confirmed"
        mail = Mail(
            kind=Kind.FORUM_CANCELLED,
            recipient=registration.contact,
            forum=facts,
            registration=_known_registration(registration, None),
            calendar=_calendar(occasion, forum.id, registration.id, forum.sequence, cancel=True)
            if had_seat
            else None,
            reason=ending.reason,
        )
        planned.append(_registrations_mail(occasion, mail, registration, "cancelled"))
    return planned


def _forum_held(
    occasion: Occasion,
    ending: ForumEnding,
    forum: KnownForum,
    registered: Iterable[KnownRegistration],
) -> list[Planned]:
    """Thanks to the attended registrations; to every confirmed one when none were listed."""
    attended = ending.attended_registration_ids
    planned = []
    for registration in registered:
        taking_part = (
            registration.id in attended if attended else registration.status == "confirmed"
        )
        if registration.contact is None or not taking_part:
            continue
        mail = Mail(
            kind=Kind.FORUM_THANKS,
            recipient=registration.contact,
            forum=forum.facts(),
            registration=_known_registration(registration, None),
            outcomes=ending.outcomes,
        )
        planned.append(_registrations_mail(occasion, mail, registration, "held"))
    return planned


def forum_reminder(
    occasion: Occasion,
    forum: KnownForum,
    registered: Iterable[KnownRegistration],
    due_at: datetime,
    links: Links,
) -> list[Planned]:
    """To every confirmed registrant who had registered when the reminder fell due."""
    planned = []
    for registration in registered:
        if (
            registration.contact is None
            or registration.status != "confirmed"
            or registration.registered_at > due_at
        ):
            continue
        mail = Mail(
            kind=Kind.FORUM_REMINDER,
            recipient=registration.contact,
            forum=forum.facts(),
            registration=_known_registration(registration, links),
            calendar=_calendar(occasion, forum.id, registration.id, forum.sequence, cancel=False),
        )
        planned.append(_registrations_mail(occasion, mail, registration, forum.status))
    return planned


def _known_registration(registration: KnownRegistration, links: Links | None) -> RegistrationFacts:
    cancel_url = (
        links.cancel_url(registration.id, registration.cancel_token)
        if links is not None and registration.cancel_token
        else None
    )
    return RegistrationFacts(
        id=registration.id,
        attendees=registration.attendees,
        status=registration.status,
        waitlist_position=registration.waitlist_position,
        organization_name=registration.organization_name,
        cancel_url=cancel_url,
    )


def _registrations_mail(
    occasion: Occasion, mail: Mail, registration: KnownRegistration, forum_status: str
) -> Planned:
    return _planned(
        occasion,
        mail,
        organization_id=registration.organization_id,
        registration_id=registration.id,
        forum_status=forum_status,
    )


# --- organisations --------------------------------------------------------------------------


def partner_joined(occasion: Occasion, event: PartnerJoined) -> list[Planned]:
    data = event.data
    recipient = recipient_of(data.contact)
    if recipient is None:
        return []
    mail = Mail(kind=Kind.PARTNER_WELCOME, recipient=recipient, organization_name=data.name)
    return [_planned(occasion, mail, organization_id=data.organization_id)]


def organization_interested(
    occasion: Occasion, event: OrganizationInterested, staff_mailbox: str | None
) -> list[Planned]:
    """The acknowledgement to the organisation; a note to staff when they have a mailbox."""
    data = event.data
    contact = recipient_of(data.contact)
    planned = []
    if contact is not None:
        mail = Mail(kind=Kind.INTEREST_ACKNOWLEDGED, recipient=contact, organization_name=data.name)
        planned.append(_planned(occasion, mail, organization_id=data.organization_id))
    if staff_mailbox:
        note = Mail(
            kind=Kind.INTEREST_STAFF_NOTE,
            recipient=Recipient(address=staff_mailbox, language="de"),
            organization_name=data.name,
            note=data.note,
            contact=contact,
        )
        planned.append(_planned(occasion, note, organization_id=data.organization_id))
    return planned
