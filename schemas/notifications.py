"""Facts on the `notifications` topic, keyed by a hash of the recipient (never the address)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.envelope import Envelope, Payload


class NotificationData(Payload):
    delivery_id: UUID
    template: str
    language: str
    recipient_hash: str = Field(description="SHA-256 of the lower-cased address, hex")
    source_event_id: UUID
    source_event_type: str


class NotificationSentData(NotificationData):
    sent_at: datetime


class NotificationFailedData(NotificationData):
    failed_at: datetime
    attempts: int
    error: str


class NotificationSent(Envelope):
    type: Literal["notification.sent"] = "notification.sent"
    data: NotificationSentData


class NotificationFailed(Envelope):
    type: Literal["notification.failed"] = "notification.failed"
    data: NotificationFailedData
