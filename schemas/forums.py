"""Facts on the `forums` topic, keyed by forum id."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from schemas.envelope import Envelope, Payload
from schemas.vocabulary import Audience, ForumFormat, ForumStatus


class ForumSnapshot(Payload):
    """The whole forum as scheduled or after an update (times in UTC)."""

    forum_id: UUID
    format: ForumFormat
    title: str
    topics: list[str] = []
    venue: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    capacity: int
    seats_per_organization: int | None = None
    audience: Audience
    status: ForumStatus


class ForumUpdatedData(ForumSnapshot):
    changed_fields: list[str] = []


class ForumHeldData(Payload):
    forum_id: UUID
    title: str
    format: ForumFormat
    status: ForumStatus
    attendance: int
    attended_registration_ids: list[UUID] = []
    outcomes: str | None = None
    held_at: datetime


class ForumCancelledData(Payload):
    forum_id: UUID
    title: str
    format: ForumFormat
    status: ForumStatus
    starts_at: datetime
    reason: str | None = None
    cancelled_at: datetime


class ForumScheduled(Envelope):
    type: Literal["forum.scheduled"] = "forum.scheduled"
    data: ForumSnapshot


class ForumUpdated(Envelope):
    type: Literal["forum.updated"] = "forum.updated"
    data: ForumUpdatedData


class ForumHeld(Envelope):
    type: Literal["forum.held"] = "forum.held"
    data: ForumHeldData


class ForumCancelled(Envelope):
    type: Literal["forum.cancelled"] = "forum.cancelled"
    data: ForumCancelledData
