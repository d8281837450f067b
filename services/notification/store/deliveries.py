"""Deliveries: one row per e-mail owed, and its states — queued → sending → sent, or retrying
(transient SMTP failure, with backoff) → sending …, or failed; suppressed when not to be sent.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.notification.domain.mails import Mail
from services.notification.domain.planning import Planned
from services.notification.domain.recipients import message_id
from services.runtime import outbox
from services.runtime.db import Connection
from services.runtime.outbox import Outgoing

# A delivery is in flight while `sending`; final once sent, failed or suppressed.
PENDING = ("queued", "retrying")
FINAL = ("sent", "failed", "suppressed")

COLUMNS = (
    "id, source_event_id, source_event_type, kind, language, recipient_hash, mail,"
    " organization_id, forum_id, registration_id, status, reason, attempts, next_attempt_at,"
    " message_id, correlation_id, event_occurred_at, created_at, sent_at, failed_at"
)


INSERTED = (
    "id, source_event_id, source_event_type, kind, language, recipient_hash, mail,"
    " organization_id, forum_id, registration_id, status, reason, next_attempt_at, message_id,"
    " correlation_id, event_occurred_at"
)


@dataclass(frozen=True)
class Delivery:
    id: UUID
    source_event_id: UUID
    source_event_type: str
    kind: str
    language: str
    recipient_hash: str
    mail: Mail | None  # None once the organisation is erased
    organization_id: UUID | None
    forum_id: UUID | None
    registration_id: UUID | None
    status: str
    reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    message_id: str
    correlation_id: str | None
    event_occurred_at: datetime
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


def _delivery(row: asyncpg.Record | dict[str, Any]) -> Delivery:
    values: dict[str, Any] = dict(row)
    mail = values.pop("mail")
    return Delivery(mail=Mail.model_validate(mail) if mail is not None else None, **values)


async def insert_planned(
    conn: Connection,
    planned: Sequence[Planned],
    *,
    mail_domain: str,
    due: datetime | Sequence[datetime],
) -> int:
    """Write the planned deliveries, due at `due` (one time for all, or one a delivery); one
    already there for the same (event, recipient, kind) stays as it is. Returns how many were
    new."""
    if not planned:
        return 0
    due_each = [due] * len(planned) if isinstance(due, datetime) else list(due)
    rows = [
        (
            uuid4(),
            item.occasion.event_id,
            item.occasion.event_type,
            item.mail.kind.value,
            item.mail.recipient.language,
            item.recipient_hash,
            item.mail.model_dump_json(),
            item.organization_id,
            item.forum_id,
            item.registration_id,
            "suppressed" if item.suppressed else "queued",
            item.suppressed,
            None if item.suppressed else item_due,
            message_id(item.occasion.event_id, item.recipient_hash, item.mail.kind, mail_domain),
            item.occasion.correlation_id,
            item.occasion.occurred_at,
        )
        for item, item_due in zip(planned, due_each, strict=True)
    ]
    inserted = await conn.fetch(
        f"INSERT INTO notification.deliveries ({INSERTED})"
        f" SELECT {INSERTED} FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[],"
        " $5::text[], $6::text[], $7::text[]::jsonb[], $8::uuid[], $9::uuid[], $10::uuid[],"
        " $11::text[], $12::text[], $13::timestamptz[], $14::text[], $15::text[],"
        f" $16::timestamptz[]) WITH ORDINALITY AS planned ({INSERTED}, position)"
        # In the order planned: plan_order (the identity) follows it (mail to one address is
        # sent in that order, claim_due).
        " ORDER BY position"
        " ON CONFLICT (source_event_id, recipient_hash, kind) DO NOTHING RETURNING status",
        *[list(column) for column in zip(*rows, strict=True)],
    )
    return len(inserted)


@dataclass(frozen=True)
class ForumNow:
    """A delivery's forum as the read model holds it at claiming."""

    status: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime | None


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending, with what decides at sending whether it still may go:
    read with the claim (one statement a batch, not three queries a mail)."""

    delivery: Delivery
    organization_erased: bool
    recipient_unsubscribed: bool
    forum: ForumNow | None


async def claim_due(
    conn: Connection, *, limit: int, now: datetime, sending_timeout: timedelta
) -> list[Claimed]:
    """Deliveries due now, marked `sending` (committed before sending, so another replica
    never takes them): queued or retrying ones whose time came, and any left `sending`
    longer than `sending_timeout` by a process that died mid-send (sent again, same Message-ID).

    Only the earliest pending delivery of each recipient is due: mail to one address goes out
    in the order it was planned. Sent side by side, a registrant's cancellation overtook their
    waitlist mail, and a calendar that gets a CANCEL before its REQUEST keeps the entry.

    Each comes with its organisation's erasure, its recipient's unsubscribe and its forum as
    the read model holds them now (this statement reads those tables of the schema too).
    """
    rows = await conn.fetch(
        "WITH claimed AS ("
        " UPDATE notification.deliveries d SET status = 'sending', claimed_at = $2,"
        " attempts = d.attempts + 1"
        " WHERE d.id IN (SELECT c.id FROM notification.deliveries c"
        "   WHERE ((c.status IN ('queued', 'retrying') AND c.next_attempt_at <= $2)"
        "      OR (c.status = 'sending' AND c.claimed_at < $3))"
        "   AND NOT EXISTS (SELECT 1 FROM notification.deliveries e"
        "     WHERE e.recipient_hash = c.recipient_hash"
        "     AND e.status IN ('queued', 'retrying', 'sending')"
        "     AND e.plan_order < c.plan_order)"
        "   ORDER BY c.next_attempt_at NULLS FIRST, c.plan_order"
        "   LIMIT $1 FOR UPDATE OF c SKIP LOCKED)"
        f" RETURNING {COLUMNS})"
        " SELECT claimed.*, o.erased_at IS NOT NULL AS organization_erased,"
        " u.recipient_hash IS NOT NULL AS recipient_unsubscribed, f.status AS forum_status,"
        " f.starts_at AS forum_starts_at, f.ends_at AS forum_ends_at,"
        " f.registration_deadline AS forum_registration_deadline"
        " FROM claimed"
        " LEFT JOIN notification.organizations o ON o.id = claimed.organization_id"
        " LEFT JOIN notification.unsubscribes u ON u.recipient_hash = claimed.recipient_hash"
        " LEFT JOIN notification.forums f ON f.id = claimed.forum_id",
        limit,
        now,
        now - sending_timeout,
    )
    return [_claimed(row) for row in rows]


def _claimed(row: asyncpg.Record) -> Claimed:
    values = dict(row)
    forum = (
        ForumNow(
            values["forum_status"],
            values["forum_starts_at"],
            values["forum_ends_at"],
            values["forum_registration_deadline"],
        )
        if values["forum_status"] is not None
        else None
    )
    delivery = {name: values[name] for name in Delivery.__dataclass_fields__}
    return Claimed(
        delivery=_delivery(delivery),
        organization_erased=bool(values["organization_erased"]),
        recipient_unsubscribed=bool(values["recipient_unsubscribed"]),
        forum=forum,
    )


async def give_back(conn: Connection, delivery_id: UUID) -> None:
    """A claimed delivery not attempted after all: due again now, its attempt not counted."""
    await conn.execute(
        "UPDATE notification.deliveries SET attempts = attempts - 1, claimed_at = NULL,"
        " status = CASE WHEN attempts > 1 THEN 'retrying' ELSE 'queued' END"
        " WHERE id = $1 AND status = 'sending'",
        delivery_id,
    )


async def finish(
    conn: Connection,
    delivery_id: UUID,
    *,
    status: str,
    reason: str | None,
    at: datetime,
    fact: Outgoing,
) -> bool:
    """Sent or failed for good, with its notification.* fact in the outbox, in one statement
    (one round trip where a transaction took four, for every mail: bench/README.md); False,
    and no fact, when the row was no longer ours to finish (erased meanwhile).

    A second writer of this schema's outbox beside services.runtime.outbox.append, naming the
    same columns (outbox.ROW_COLUMNS) as registration's admitting statement does."""
    result: str = await conn.execute(
        "WITH finished AS ("
        " UPDATE notification.deliveries SET status = $2, reason = $3, next_attempt_at = NULL,"
        " sent_at = CASE WHEN $2 = 'sent' THEN $4::timestamptz END,"
        " failed_at = CASE WHEN $2 = 'failed' THEN $4::timestamptz END"
        " WHERE id = $1 AND status = 'sending' RETURNING id)"
        f" INSERT INTO notification.outbox ({outbox.ROW_COLUMNS})"
        " SELECT $5, $6, $7, $8, $9::text::jsonb, $10, $11, $12 FROM finished",
        delivery_id,
        status,
        reason,
        at,
        *outbox.outbox_row(fact),
    )
    return result.endswith(" 1")


async def mark_retrying(conn: Connection, delivery_id: UUID, error: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE notification.deliveries SET status = 'retrying', reason = $2,"
        " next_attempt_at = $3 WHERE id = $1 AND status = 'sending'",
        delivery_id,
        error,
        at,
    )


async def mark_suppressed(conn: Connection, delivery_id: UUID, reason: str) -> None:
    await conn.execute(
        "UPDATE notification.deliveries SET status = 'suppressed', reason = $2,"
        " next_attempt_at = NULL WHERE id = $1 AND status = 'sending'",
        delivery_id,
        reason,
    )


async def requeue_failed(conn: Connection, delivery_id: UUID, now: datetime) -> Delivery | None:
    """A failed delivery queued again (staff mended its cause); None unless it was failed."""
    row = await conn.fetchrow(
        "UPDATE notification.deliveries SET status = 'queued', next_attempt_at = $2,"
        " attempts = 0, failed_at = NULL, reason = NULL, created_at = $2"
        " WHERE id = $1 AND status = 'failed' AND mail IS NOT NULL"
        f" RETURNING {COLUMNS}",
        delivery_id,
        now,
    )
    return _delivery(row) if row else None


async def erase_organization(
    conn: Connection, organization_id: UUID, registration_ids: Sequence[UUID]
) -> None:
    """Deliveries keep only the recipient hash; pending mail to these contacts is not sent."""
    await conn.execute(
        "UPDATE notification.deliveries SET mail = NULL,"
        " status = CASE WHEN status IN ('queued', 'retrying', 'sending') THEN 'suppressed'"
        "          ELSE status END,"
        " reason = CASE WHEN status IN ('queued', 'retrying', 'sending')"
        "          THEN 'the organisation''s personal data was erased' ELSE reason END,"
        " next_attempt_at = NULL"
        " WHERE organization_id = $1 OR registration_id = ANY($2::uuid[])",
        organization_id,
        list(registration_ids),
    )


async def get(conn: Connection, delivery_id: UUID) -> Delivery | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM notification.deliveries WHERE id = $1", delivery_id
    )
    return _delivery(row) if row else None


async def list_page(
    conn: Connection,
    *,
    status: str | None,
    kind: str | None,
    forum_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Delivery]:
    """Oldest first, by creation then id (the cursor's position)."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM notification.deliveries"
        " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2)"
        " AND ($3::uuid IS NULL OR forum_id = $3)"
        " AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))"
        " ORDER BY created_at, id LIMIT $6",
        status,
        kind,
        forum_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_delivery(row) for row in rows]


@dataclass(frozen=True)
class QueueState:
    retrying: int
    oldest_queued_seconds: float


async def queue_state(conn: Connection, now: datetime) -> QueueState:
    """Of the deliveries still to be sent (only those rows: the partial index of pending
    ones; the whole table was counted before, for every round of the sender)."""
    row = await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'retrying') AS retrying,"
        " min(created_at) AS oldest FROM notification.deliveries"
        " WHERE status IN ('queued', 'retrying', 'sending')"
    )
    assert row is not None
    oldest = row["oldest"]
    age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return QueueState(retrying=row["retrying"], oldest_queued_seconds=age)
