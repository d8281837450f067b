"""Registrations table, the admitting statement, and Idempotency-Key records."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from schemas.commands import Register
from schemas.registrations import RegistrationMade
from schemas.vocabulary import RegistrationStatus
from services.registration.domain.forums import Forum
from services.registration.domain.organizations import Organization
from services.registration.domain.registrations import Registration
from services.registration.store.forums import from_row as forum_from_row
from services.registration.store.forums import qualified_columns as forum_columns
from services.registration.store.organizations import aliased_columns as organization_columns
from services.registration.store.organizations import contact_from
from services.registration.store.organizations import from_row as organization_from_row
from services.runtime.db import Connection
from services.runtime.outbox import ROW_COLUMNS as OUTBOX_COLUMNS

COLUMNS = (
    "r.id, r.forum_id, r.organization_id, o.name AS organization_name, r.status, r.attendees,"
    " r.contact_name, r.contact_email, r.contact_phone, r.contact_language, r.wants_to_present,"
    " r.interested_in_partnership, r.accessibility_needs, r.interpreter_needs, r.created_at,"
    " r.arrival"
)
# 1-based place in the forum's waitlist, in arrival order.
WAITLIST_POSITION = (
    "CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM registration.registrations w"
    " WHERE w.forum_id = r.forum_id AND w.status = 'waitlisted' AND w.arrival <= r.arrival) END"
)
FROM = "registration.registrations r JOIN registration.organizations o ON o.id = r.organization_id"

# The cancel token travels in registration.made to the registrant's confirmation; the event log
# drops it once the event is published, so the outbox holds no way to cancel a registration.
SCRUBBED_FROM_REGISTRATION_MADE = ("cancel_token",)

# Admission in one statement, so the forum row lock lasts one statement and no round trip.
# Order of locks, as everywhere: organisation seats row, then forum row, then registrations.
# - open_forum: the forum takes registrations (a snapshot read; the UPDATE below re-checks it).
# - organization_seats: the organisation's attendees for this forum, waitlisted included; an
#   existing row is updated only within the per-organisation cap (no row back = over the cap).
# - seat: under the forum row lock, confirm when nobody waits and the seats fit, else waitlist
#   (first in, first out); the counters are re-read after the lock, so no seat is sold twice.
# - then the registration, its `registration.made` outbox row (status and position filled in
#   here; a second writer of the outbox beside services.runtime.outbox.append, with the same
#   columns) and the Idempotency-Key record, all or nothing with the rest.
# - a forum cancelled, held or closed between the statement's snapshot and the row lock leaves
#   `seat` empty after `organization_seats` was written: the guard raises, so the statement
#   writes nothing (one statement, one implicit transaction) and the caller answers 409.
ADMIT = (
    """
WITH open_forum AS (
    SELECT id FROM registration.forums
    WHERE id = $1 AND status = 'scheduled' AND registration_deadline >= $3
),
organization_seats AS (
    INSERT INTO registration.organization_seats AS held (forum_id, organization_id, attendees)
    SELECT id, $2, $4 FROM open_forum
    ON CONFLICT (forum_id, organization_id) DO UPDATE
        SET attendees = held.attendees + EXCLUDED.attendees
        WHERE $5::integer IS NULL OR held.attendees + EXCLUDED.attendees <= $5
    RETURNING attendees
),
seat AS (
    UPDATE registration.forums AS f SET
        seats_taken = f.seats_taken + CASE
            WHEN f.waitlist_length = 0 AND f.seats_taken + $4 <= f.capacity THEN $4 ELSE 0 END,
        waitlist_length = f.waitlist_length + CASE
            WHEN f.waitlist_length = 0 AND f.seats_taken + $4 <= f.capacity THEN 0 ELSE 1 END,
        updated_at = $3
    FROM organization_seats
    WHERE f.id = $1 AND f.status = 'scheduled' AND f.registration_deadline >= $3
    RETURNING CASE WHEN f.waitlist_length = 0 THEN 'confirmed' ELSE 'waitlisted' END AS status,
              NULLIF(f.waitlist_length, 0) AS waitlist_position
),
registration AS (
    INSERT INTO registration.registrations (id, forum_id, organization_id, status, attendees,
        contact_name, contact_email, contact_phone, contact_language, wants_to_present,
        interested_in_partnership, accessibility_needs, interpreter_needs, consent_given_at,
        created_at, confirmed_at)
    SELECT $6, $1, $2, seat.status, $4, $7, $8, $9, $10, $11, $12, $13, $14, $3, $3,
           CASE WHEN seat.status = 'confirmed' THEN $3::timestamptz END
    FROM seat
    RETURNING id
),
outbox AS (
    INSERT INTO registration.outbox ("""
    + OUTBOX_COLUMNS
    + """)
    SELECT $15, 'registrations', $1::text, 'registration.made',
        jsonb_set(jsonb_set($16::text::jsonb, '{data,status}', to_jsonb(seat.status)),
                  '{data,waitlist_position}', coalesce(to_jsonb(seat.waitlist_position), 'null')),
        $3, $2, $19::text[]
    FROM seat, registration
),
idempotency AS (
    INSERT INTO registration.idempotency_keys
        (idempotency_key, request_hash, registration_id, response)
    SELECT $17, $18, $6, jsonb_build_object('status', seat.status,
                                            'waitlist_position', seat.waitlist_position)
    FROM seat, registration WHERE $17::text IS NOT NULL
)
SELECT EXISTS (SELECT 1 FROM open_forum) AS forum_open,
       (SELECT status FROM seat) AS status,
       (SELECT waitlist_position FROM seat) AS waitlist_position,
       -- Open in the snapshot and within the cap, but closed under the row lock: undo it all.
       CASE WHEN EXISTS (SELECT 1 FROM organization_seats) AND NOT EXISTS (SELECT 1 FROM seat)
            THEN registration.closed_while_admitting() END AS closed_while_admitting
"""
)
# SQLSTATE of closed_while_admitting() (migration 002).
CLOSED_WHILE_ADMITTING = "DN001"


async def forum_and_organization(
    conn: Connection, forum_id: UUID, organization_id: UUID | None
) -> tuple[Forum | None, Organization | None]:
    """Both sides of a registration in one round trip (the hot path reads nothing else)."""
    row = await conn.fetchrow(
        f"SELECT {forum_columns('f')}, {organization_columns('o', 'o_')}"
        " FROM registration.forums f LEFT JOIN registration.organizations o ON o.id = $2"
        " WHERE f.id = $1",
        forum_id,
        organization_id,
    )
    if row is None:
        return None, None
    organization = organization_from_row(row, "o_") if row["o_id"] is not None else None
    return forum_from_row(row), organization


@dataclass(frozen=True)
class Admission:
    """`status` None: refused — the forum is not open (`forum_open` false) or the organisation's
    seats would pass the per-organisation cap."""

    forum_open: bool
    status: RegistrationStatus | None
    waitlist_position: int | None


CLOSED = Admission(forum_open=False, status=None, waitlist_position=None)


async def admit(
    conn: Connection,
    *,
    registration_id: UUID,
    forum_id: UUID,
    organization_id: UUID,
    seats_per_organization: int | None,
    request: Register,
    event: RegistrationMade,
    now: datetime,
    idempotency_key: str | None,
    request_hash: str | None,
) -> Admission:
    contact = request.contact
    try:
        row = await conn.fetchrow(
            ADMIT,
            forum_id,
            organization_id,
            now,
            request.attendees,
            seats_per_organization,
            registration_id,
            contact.name,
            str(contact.email),
            contact.phone,
            contact.language,
            request.wants_to_present,
            request.interested_in_partnership,
            request.accessibility_needs,
            request.interpreter_needs,
            event.event_id,
            event.model_dump_json(),
            idempotency_key,
            request_hash,
            list(SCRUBBED_FROM_REGISTRATION_MADE),
        )
    except asyncpg.PostgresError as error:
        if error.sqlstate == CLOSED_WHILE_ADMITTING:
            return CLOSED
        raise
    assert row is not None  # the statement's final SELECT always yields one row
    return Admission(
        forum_open=row["forum_open"],
        status=RegistrationStatus(row["status"]) if row["status"] else None,
        waitlist_position=row["waitlist_position"],
    )


def from_row(row: asyncpg.Record) -> Registration:
    return Registration(
        id=row["id"],
        forum_id=row["forum_id"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        status=RegistrationStatus(row["status"]),
        attendees=row["attendees"],
        contact=contact_from(row),
        wants_to_present=row["wants_to_present"],
        interested_in_partnership=row["interested_in_partnership"],
        accessibility_needs=row["accessibility_needs"],
        interpreter_needs=row["interpreter_needs"],
        created_at=row["created_at"],
        waitlist_position=row["waitlist_position"],
        arrival=row["arrival"],
    )


async def get(
    conn: Connection, registration_id: UUID, *, lock: bool = False
) -> Registration | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS}, {WAITLIST_POSITION} AS waitlist_position FROM {FROM} WHERE r.id = $1"
        + (" FOR UPDATE OF r" if lock else ""),
        registration_id,
    )
    return from_row(row) if row else None


async def list_page(
    conn: Connection, forum_id: UUID, *, after_arrival: int, limit: int
) -> list[Registration]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS}, CASE WHEN r.status = 'waitlisted' THEN row_number() OVER"
        " (PARTITION BY r.status = 'waitlisted' ORDER BY r.arrival) END AS waitlist_position"
        f" FROM {FROM} WHERE r.forum_id = $1 ORDER BY r.arrival",
        forum_id,
    )
    # Positions need the whole waitlist; the page is cut after numbering.
    return [from_row(row) for row in rows if row["arrival"] > after_arrival][:limit]


async def waitlist(conn: Connection, forum_id: UUID) -> list[Registration]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS}, NULL::bigint AS waitlist_position FROM {FROM}"
        " WHERE r.forum_id = $1 AND r.status = 'waitlisted' ORDER BY r.arrival",
        forum_id,
    )
    return [from_row(row) for row in rows]


async def confirmed_ids(conn: Connection, forum_id: UUID) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM registration.registrations WHERE forum_id = $1 AND status = 'confirmed'",
        forum_id,
    )
    return {row["id"] for row in rows}


async def mark_confirmed(conn: Connection, registration_ids: list[UUID]) -> None:
    await conn.execute(
        "UPDATE registration.registrations SET status = 'confirmed', confirmed_at = now()"
        " WHERE id = ANY($1::uuid[])",
        registration_ids,
    )


async def mark_cancelled(conn: Connection, registration_id: UUID, by: str) -> None:
    await conn.execute(
        "UPDATE registration.registrations SET status = 'cancelled', cancelled_at = now(),"
        " cancelled_by = $2 WHERE id = $1",
        registration_id,
        by,
    )


async def release_organization_seats(
    conn: Connection, forum_id: UUID, organization_id: UUID, attendees: int
) -> None:
    await conn.execute(
        "UPDATE registration.organization_seats SET attendees = attendees - $3"
        " WHERE forum_id = $1 AND organization_id = $2",
        forum_id,
        organization_id,
        attendees,
    )


async def lock_organization_seats(conn: Connection, forum_id: UUID, organization_id: UUID) -> None:
    await conn.execute(
        "SELECT 1 FROM registration.organization_seats WHERE forum_id = $1 AND organization_id = $2"
        " FOR UPDATE",
        forum_id,
        organization_id,
    )


async def idempotent_result(
    conn: Connection, key: str
) -> tuple[str, UUID, dict[str, object]] | None:
    row = await conn.fetchrow(
        "SELECT request_hash, registration_id, response FROM registration.idempotency_keys"
        " WHERE idempotency_key = $1",
        key,
    )
    return (row["request_hash"], row["registration_id"], row["response"]) if row else None
