"""/v1/deliveries (staff): find every e-mail owed and what became of it — without reading logs
— and send a failed one again once its cause is mended."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from schemas.envelope import utc_now
from services.notification.domain.mails import Kind
from services.notification.store import deliveries as store
from services.notification.store.deliveries import Delivery
from services.runtime import paging
from services.runtime.auth import StaffDep
from services.runtime.http import Refused, problem_responses
from services.runtime.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, PageOrder

router = APIRouter(
    prefix="/v1/deliveries",
    tags=["deliveries"],
    responses=problem_responses(401, 403, 413, 422, 429),
)

Status = Literal["queued", "sending", "sent", "retrying", "failed", "suppressed"]


class DeliveryView(BaseModel):
    """One e-mail owed: to whom (the address while it is kept; always its hash), why, and its
    state. `reason`: why it was suppressed, or the last error."""

    id: UUID
    kind: Kind
    status: Status
    language: str
    recipient: str | None
    recipient_hash: str
    source_event_id: UUID
    source_event_type: str
    forum_id: UUID | None
    registration_id: UUID | None
    organization_id: UUID | None
    reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    message_id: str
    subject_occurred_at: datetime
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> "DeliveryView":
        return cls(
            id=delivery.id,
            kind=Kind(delivery.kind),
            status=delivery.status,  # type: ignore[arg-type]
            language=delivery.language,
            recipient=delivery.mail.recipient.address if delivery.mail else None,
            recipient_hash=delivery.recipient_hash,
            source_event_id=delivery.source_event_id,
            source_event_type=delivery.source_event_type,
            forum_id=delivery.forum_id,
            registration_id=delivery.registration_id,
            organization_id=delivery.organization_id,
            reason=delivery.reason,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            message_id=delivery.message_id,
            subject_occurred_at=delivery.event_occurred_at,
            created_at=delivery.created_at,
            sent_at=delivery.sent_at,
            failed_at=delivery.failed_at,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next: str | None


def _position(parts: Sequence[str]) -> tuple[datetime, UUID]:
    created_at, delivery_id = parts
    return paging.timestamp(created_at), UUID(delivery_id)


# Oldest first, by creation then id, as the store lists them (the deliveries_listing index).
DELIVERY_ORDER = PageOrder[tuple[datetime, UUID], Delivery](
    position_of=lambda delivery: (delivery.created_at.isoformat(), delivery.id), read=_position
)


@router.get("", response_model=DeliveryPage)
async def list_deliveries(
    request: Request,
    _: StaffDep,
    status: Status | None = None,
    kind: Kind | None = None,
    forum_id: Annotated[UUID | None, Query()] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> DeliveryPage:
    page = DELIVERY_ORDER.request(cursor, limit)
    async with request.app.state.host.pool.acquire() as conn:
        found = await store.list_page(
            conn,
            status=status,
            kind=kind.value if kind else None,
            forum_id=forum_id,
            after=page.after,
            limit=page.fetch_size,
        )
    rows, following = page.page(found)
    return DeliveryPage(items=[DeliveryView.of(row) for row in rows], next=following)


@router.get("/{delivery_id}", response_model=DeliveryView, responses=problem_responses(404))
async def read_delivery(delivery_id: UUID, request: Request, _: StaffDep) -> DeliveryView:
    async with request.app.state.host.pool.acquire() as conn:
        found = await store.get(conn, delivery_id)
    if found is None:
        raise _not_found(delivery_id)
    return DeliveryView.of(found)


@router.post(
    "/{delivery_id}/retry", response_model=DeliveryView, responses=problem_responses(404, 409)
)
async def retry_delivery(delivery_id: UUID, request: Request, _: StaffDep) -> DeliveryView:
    """Queue a failed delivery again (attempts start anew); 409 for any other state."""
    async with request.app.state.host.pool.acquire() as conn:
        requeued = await store.requeue_failed(conn, delivery_id, utc_now())
        found = requeued or await store.get(conn, delivery_id)
    if found is None:
        raise _not_found(delivery_id)
    if requeued is None:
        detail = (
            f"only a failed delivery can be retried; this one is {found.status}"
            if found.mail is not None
            else "this delivery's recipient was erased"
        )
        raise Refused(409, detail, field="delivery_id")
    request.app.state.sender.wake()
    return DeliveryView.of(requeued)


def _not_found(delivery_id: UUID) -> Refused:
    return Refused(404, f"no delivery {delivery_id}", field="delivery_id")
