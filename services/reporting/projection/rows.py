"""Which rows each fact writes: a pure function of the event, `writes_of(fact)`.

Every write is an upsert that is commutative with every other write of the same row (a later
`occurred_at` wins a state; first and last times merge with LEAST / GREATEST; flags only ever
turn on, erasure only ever turns off), so applying the writes of a set of events in any order
gives the same rows. The store's SQL for each statement (store/writes.py) keeps those rules.
"""

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID

from schemas.envelope import Envelope
from schemas.forums import ForumCancelled, ForumHeld, ForumScheduled, ForumSnapshot, ForumUpdated
from schemas.notifications import NotificationFailed, NotificationSent
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
from services.reporting.email_kinds import bounded_kind


class Statement(StrEnum):
    """The upserts of the read models (their SQL: store/writes.py)."""

    ORGANIZATION = "organization"
    ORGANIZATION_NAME = "organization_name"
    ORGANIZATION_ERASED = "organization_erased"
    ORGANIZATION_STEP = "organization_step"
    FORUM_SNAPSHOT = "forum_snapshot"
    FORUM_SEEN = "forum_seen"
    FORUM_ENDED = "forum_ended"
    REGISTRATION = "registration"
    ATTENDANCE = "attendance"
    DELIVERY = "delivery"


class Write(NamedTuple):
    """One row's upsert: the statement and its values (the generation is the store's). A tuple:
    a registration makes three, and a frozen dataclass cost 1 µs more each to make."""

    statement: Statement
    values: tuple[Any, ...]


# Ties of equal occurred_at are broken by how far along a lifecycle a fact is.
ORGANIZATION_RANKS = {"registered": 0, "interested": 1, "joined": 2, "left": 3}
FORUM_RANK_SNAPSHOT, FORUM_RANK_ENDED = 0, 1
REGISTRATION_RANKS = {
    "registration.made": 0,
    "registration.promoted": 1,
    "registration.cancelled": 2,
}


def writes_of(fact: Envelope) -> list[Write]:
    """The rows `fact` writes; nothing for a fact the read models do not show."""
    for kind, writer in _WRITERS:
        if isinstance(fact, kind):
            return writer(fact)
    return []


def _organization(
    fact: Envelope,
    step: str,
    name: str,
    status: str,
    at: datetime,
    kind: str | None = None,
    district: str | None = None,
) -> list[Write]:
    organization_id: UUID = fact.data.organization_id
    when = fact.occurred_at
    rank = ORGANIZATION_RANKS[step]
    return [
        Write(
            Statement.ORGANIZATION,
            (organization_id, name, when, kind, district, status, when, rank),
        ),
        Write(Statement.ORGANIZATION_STEP, (fact.event_id, organization_id, step, at)),
    ]


def _registered(fact: OrganizationRegistered) -> list[Write]:
    data = fact.data
    return _organization(
        fact, "registered", data.name, data.status, fact.occurred_at, data.kind, data.district
    )


def _interested(fact: OrganizationInterested) -> list[Write]:
    data = fact.data
    return _organization(fact, "interested", data.name, data.status, data.interested_at)


def _joined(fact: PartnerJoined) -> list[Write]:
    data = fact.data
    return _organization(fact, "joined", data.name, data.status, data.joined_at)


def _left(fact: PartnerLeft) -> list[Write]:
    data = fact.data
    return _organization(fact, "left", data.name, data.status, data.left_at)


def _erased(fact: OrganizationErased) -> list[Write]:
    return [Write(Statement.ORGANIZATION_ERASED, (fact.data.organization_id,))]


def _snapshot(fact: ForumScheduled | ForumUpdated) -> list[Write]:
    forum: ForumSnapshot = fact.data
    return [
        Write(
            Statement.FORUM_SNAPSHOT,
            (
                forum.forum_id,
                forum.title,
                forum.format,
                list(forum.topics),
                forum.venue,
                forum.starts_at,
                forum.ends_at,
                forum.registration_deadline,
                forum.capacity,
                forum.audience,
                fact.occurred_at,
                forum.status,
                FORUM_RANK_SNAPSHOT,
                fact.occurred_at,  # the status's time: the snapshot's
            ),
        )
    ]


def _held(fact: ForumHeld) -> list[Write]:
    data = fact.data
    attended = [
        Write(Statement.ATTENDANCE, (registration_id, data.forum_id))
        for registration_id in data.attended_registration_ids
    ]
    return [_forum_ended(fact, data.attendance, data.held_at, None), *attended]


def _cancelled_forum(fact: ForumCancelled) -> list[Write]:
    return [_forum_ended(fact, None, None, fact.data.cancelled_at)]


def _forum_ended(
    fact: ForumHeld | ForumCancelled,
    attendance: int | None,
    held_at: datetime | None,
    cancelled_at: datetime | None,
) -> Write:
    data = fact.data
    return Write(
        Statement.FORUM_ENDED,
        (
            data.forum_id, data.title, data.format, data.status, fact.occurred_at,
            FORUM_RANK_ENDED, attendance, held_at, cancelled_at,
        ),
    )  # fmt: skip


def _registration(
    fact: RegistrationMade | RegistrationPromoted | RegistrationCancelled,
) -> list[Write]:
    data: RegistrationFacts = fact.data
    when = fact.occurred_at
    registered_at = fact.data.registered_at if isinstance(fact, RegistrationMade) else None
    cancelled = fact.data if isinstance(fact, RegistrationCancelled) else None
    summary = data.forum
    writes = [
        Write(
            Statement.REGISTRATION,
            (
                data.registration_id,
                data.forum_id,
                data.organization_id,
                data.status,
                when,
                REGISTRATION_RANKS[fact.type],
                data.attendees,
                data.wants_to_present,
                data.interested_in_partnership,
                _given(data.accessibility_needs),
                _given(data.interpreter_needs),
                registered_at,
                when,
                cancelled.cancelled_by if cancelled else None,
                cancelled.cancelled_at if cancelled else None,
            ),
        ),
        # The forum as the registration tells it, until its own facts arrive.
        Write(
            Statement.FORUM_SEEN,
            (
                data.forum_id,
                summary.title,
                summary.format,
                summary.venue,
                summary.starts_at,
                summary.ends_at,
            ),
        ),
    ]
    if data.organization_name:
        writes.append(
            Write(Statement.ORGANIZATION_NAME, (data.organization_id, data.organization_name, when))
        )
    return writes


def _given(needs: str | None) -> bool:
    return bool(needs and needs.strip())


def _sent(fact: NotificationSent) -> list[Write]:
    return _delivery(fact.data.delivery_id, fact.data.template, "sent", fact.data.sent_at)


def _failed(fact: NotificationFailed) -> list[Write]:
    return _delivery(fact.data.delivery_id, fact.data.template, "failed", fact.data.failed_at)


def _delivery(delivery_id: UUID, template: str, result: str, at: datetime) -> list[Write]:
    return [Write(Statement.DELIVERY, (delivery_id, bounded_kind(template), result, at))]


_WRITERS: tuple[tuple[type[Envelope], Callable[[Any], list[Write]]], ...] = (
    (OrganizationRegistered, _registered),
    (OrganizationInterested, _interested),
    (PartnerJoined, _joined),
    (PartnerLeft, _left),
    (OrganizationErased, _erased),
    (ForumScheduled, _snapshot),
    (ForumUpdated, _snapshot),
    (ForumHeld, _held),
    (ForumCancelled, _cancelled_forum),
    (RegistrationMade, _registration),
    (RegistrationPromoted, _registration),
    (RegistrationCancelled, _registration),
    (NotificationSent, _sent),
    (NotificationFailed, _failed),
)
