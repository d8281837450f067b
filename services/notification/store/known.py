"""The read model's SQL: organisations, forums and registrations as the facts tell them.

Facts arrive in any order across topics; every upsert keeps the row of the latest fact
(`updated_at` is the fact's occurred_at), and an erased organisation's contacts never come back.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.notification.domain.known import (
    FactRef,
    ForumEnding,
    KnownForum,
    KnownOrganization,
    KnownRegistration,
)
from services.notification.domain.mails import Recipient
from services.runtime.db import Connection


def _recipient(row: asyncpg.Record) -> Recipient | None:
    if row["contact_email"] is None:
        return None
    return Recipient(
        address=row["contact_email"],
        name=row["contact_name"],
        language=row["contact_language"] or "de",
    )


# --- organisations --------------------------------------------------------------------------

ORGANIZATION_COLUMNS = "id, name, status, contact_name, contact_email, contact_language"


def _organization(row: asyncpg.Record) -> KnownOrganization:
    return KnownOrganization(row["id"], row["name"], row["status"], _recipient(row))


async def save_organization(
    conn: Connection,
    *,
    organization_id: UUID,
    name: str | None,
    status: str | None,
    contact: Recipient | None,
    occurred_at: datetime,
) -> KnownOrganization:
    """A later fact's status wins; a contact once given stays until a later fact gives another
    (partner.left carries none) — and never after erasure. Returns the organisation as known
    now."""
    row = await conn.fetchrow(
        "INSERT INTO notification.organizations AS o (id, name, status, contact_name,"
        " contact_email, contact_language, updated_at)"
        " VALUES ($1, $2, coalesce($3, 'prospect'), $4, $5, $6, $7)"
        " ON CONFLICT (id) DO UPDATE SET"
        "  name = CASE WHEN o.erased_at IS NULL THEN coalesce(EXCLUDED.name, o.name) END,"
        "  status = CASE WHEN $3::text IS NOT NULL AND EXCLUDED.updated_at >= o.updated_at"
        "           THEN EXCLUDED.status ELSE o.status END,"
        "  contact_name = CASE WHEN o.erased_at IS NOT NULL THEN NULL"
        "           WHEN EXCLUDED.contact_email IS NOT NULL AND EXCLUDED.updated_at >= o.updated_at"
        "           THEN EXCLUDED.contact_name ELSE o.contact_name END,"
        "  contact_email = CASE WHEN o.erased_at IS NOT NULL THEN NULL"
        "           WHEN EXCLUDED.contact_email IS NOT NULL AND EXCLUDED.updated_at >= o.updated_at"
        "           THEN EXCLUDED.contact_email ELSE o.contact_email END,"
        "  contact_language = CASE WHEN o.erased_at IS NOT NULL THEN NULL"
        "           WHEN EXCLUDED.contact_email IS NOT NULL AND EXCLUDED.updated_at >= o.updated_at"
        "           THEN EXCLUDED.contact_language ELSE o.contact_language END,"
        "  updated_at = greatest(o.updated_at, EXCLUDED.updated_at)"
        f" RETURNING {ORGANIZATION_COLUMNS}",
        organization_id,
        name,
        status,
        contact.name if contact else None,
        contact.address if contact else None,
        contact.language if contact else None,
        occurred_at,
    )
    assert row is not None
    return _organization(row)


async def invited_to(conn: Connection, *, open_forum: bool) -> list[KnownOrganization]:
    """Every partner; for an open forum every interested organisation too."""
    statuses = ["partner", "interested"] if open_forum else ["partner"]
    rows = await conn.fetch(
        f"SELECT {ORGANIZATION_COLUMNS} FROM notification.organizations"
        " WHERE status = ANY($1::text[]) AND erased_at IS NULL AND contact_email IS NOT NULL"
        " ORDER BY id",
        statuses,
    )
    return [_organization(row) for row in rows]


async def erase_organization(conn: Connection, organization_id: UUID, erased_at: datetime) -> None:
    """The organisation's contacts' personal data, everywhere in this schema; its name too."""
    await conn.execute(
        "INSERT INTO notification.organizations AS o (id, status, updated_at, erased_at)"
        " VALUES ($1, 'prospect', $2, $2)"
        " ON CONFLICT (id) DO UPDATE SET name = NULL, contact_name = NULL,"
        " contact_email = NULL, contact_language = NULL, erased_at = EXCLUDED.erased_at",
        organization_id,
        erased_at,
    )
    await conn.execute(
        "UPDATE notification.registrations SET contact_name = NULL, contact_email = NULL,"
        " contact_language = NULL, cancel_token = NULL, organization_name = NULL"
        " WHERE organization_id = $1",
        organization_id,
    )


async def is_erased(conn: Connection, organization_id: UUID) -> bool:
    erased: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM notification.organizations"
        " WHERE id = $1 AND erased_at IS NOT NULL)",
        organization_id,
    )
    return erased


# --- forums ---------------------------------------------------------------------------------


SCHEDULED = "forum.scheduled"
FORUM_COLUMNS = (
    "id, title, format, venue, starts_at, ends_at, registration_deadline, audience, status,"
    " sequence, updated_at"
)


def _forum(row: asyncpg.Record, prefix: str = "") -> KnownForum:
    """The forum of a row whose columns are named as its fields, after `prefix` if one is given
    (a forum read beside another table's columns)."""
    return KnownForum(**{name: row[f"{prefix}{name}"] for name in KnownForum.__dataclass_fields__})


async def save_forum(
    conn: Connection,
    *,
    forum_id: UUID,
    title: str,
    format: str,
    venue: str,
    starts_at: datetime,
    ends_at: datetime,
    registration_deadline: datetime,
    audience: str,
    status: str,
    reschedules: bool,
    occurred_at: datetime,
    scheduling: FactRef | None = None,
) -> KnownForum:
    """The forum as scheduled or updated; `reschedules`: its time or venue changed, so every
    .ics from now on carries a higher SEQUENCE; `scheduling`: the fact that scheduled it (kept
    for invitations). Facts of one forum arrive in order (one key)."""
    row = await conn.fetchrow(
        "INSERT INTO notification.forums AS f (id, title, format, venue, starts_at, ends_at,"
        " registration_deadline, audience, status, sequence, updated_at, scheduled_event_id,"
        " scheduled_at, scheduled_correlation_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN 1 ELSE 0 END, $11,"
        "         $12, $13, $14)"
        " ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, format = EXCLUDED.format,"
        " venue = EXCLUDED.venue, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,"
        " registration_deadline = EXCLUDED.registration_deadline,"
        " audience = EXCLUDED.audience, status = EXCLUDED.status,"
        " sequence = f.sequence + CASE WHEN $10 THEN 1 ELSE 0 END,"
        " updated_at = EXCLUDED.updated_at,"
        " scheduled_event_id = coalesce(f.scheduled_event_id, EXCLUDED.scheduled_event_id),"
        " scheduled_at = coalesce(f.scheduled_at, EXCLUDED.scheduled_at),"
        " scheduled_correlation_id = coalesce(f.scheduled_correlation_id,"
        "                                     EXCLUDED.scheduled_correlation_id)"
        " WHERE EXCLUDED.updated_at >= f.updated_at"
        f" RETURNING {FORUM_COLUMNS}",
        forum_id,
        title,
        format,
        venue,
        starts_at,
        ends_at,
        registration_deadline,
        audience,
        status,
        reschedules,
        occurred_at,
        scheduling.event_id if scheduling else None,
        scheduling.occurred_at if scheduling else None,
        scheduling.correlation_id if scheduling else None,
    )
    if row is None:  # an older fact than the one the row holds: the row stays
        found = await forum(conn, forum_id)
        assert found is not None
        return found
    return _forum(row)


async def save_forum_ending(
    conn: Connection, forum_id: UUID, status: str, ending: ForumEnding
) -> KnownForum | None:
    """Held or cancelled, with the fact that said so; None when the forum's scheduling fact
    has not arrived (yet)."""
    fact = ending.fact
    row = await conn.fetchrow(
        "UPDATE notification.forums SET status = $2, updated_at = greatest(updated_at, $3),"
        " ended_event_id = $4, ended_event_type = $5, ended_at = $3, ended_correlation_id = $6,"
        " end_reason = $7, outcomes = $8, attended_registration_ids = $9::uuid[]"
        f" WHERE id = $1 RETURNING {FORUM_COLUMNS}",
        forum_id,
        status,
        fact.occurred_at,
        fact.event_id,
        fact.event_type,
        fact.correlation_id,
        ending.reason,
        ending.outcomes,
        sorted(ending.attended_registration_ids),
    )
    return _forum(row) if row else None


async def ending_of(conn: Connection, forum_id: UUID) -> ForumEnding | None:
    row = await conn.fetchrow(
        "SELECT ended_event_id, ended_event_type, ended_at, ended_correlation_id, end_reason,"
        " outcomes, attended_registration_ids FROM notification.forums"
        " WHERE id = $1 AND ended_event_id IS NOT NULL",
        forum_id,
    )
    if row is None:
        return None
    fact = FactRef(
        row["ended_event_id"], row["ended_event_type"], row["ended_at"], row["ended_correlation_id"]
    )
    return ForumEnding(
        fact, row["end_reason"], row["outcomes"], frozenset(row["attended_registration_ids"])
    )


async def scheduled_after(
    conn: Connection, moment: datetime, *, open_only: bool
) -> list[tuple[KnownForum, FactRef]]:
    """Forums still scheduled whose scheduling fact occurred after `moment` (only open forums
    when `open_only`), each with that fact."""
    rows = await conn.fetch(
        f"SELECT {FORUM_COLUMNS}, scheduled_event_id, scheduled_at, scheduled_correlation_id"
        " FROM notification.forums"
        " WHERE status = 'scheduled' AND scheduled_at > $1 AND (NOT $2 OR audience = 'open')"
        " ORDER BY scheduled_at",
        moment,
        open_only,
    )
    return [
        (
            _forum(row),
            FactRef(
                row["scheduled_event_id"],
                SCHEDULED,
                row["scheduled_at"],
                row["scheduled_correlation_id"],
            ),
        )
        for row in rows
    ]


async def forum(conn: Connection, forum_id: UUID) -> KnownForum | None:
    row = await conn.fetchrow(
        f"SELECT {FORUM_COLUMNS} FROM notification.forums WHERE id = $1", forum_id
    )
    return _forum(row) if row else None


# --- registrations --------------------------------------------------------------------------

REGISTRATION_COLUMNS = (
    "id, forum_id, organization_id, organization_name, status, attendees, waitlist_position,"
    " contact_name, contact_email, contact_language, cancel_token, registered_at, cancelled_by"
)


def _registration(row: asyncpg.Record) -> KnownRegistration:
    return KnownRegistration(
        id=row["id"],
        forum_id=row["forum_id"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        status=row["status"],
        attendees=row["attendees"],
        waitlist_position=row["waitlist_position"],
        contact=_recipient(row),
        cancel_token=row["cancel_token"],
        registered_at=row["registered_at"],
        cancelled_by=row["cancelled_by"],
    )


@dataclass(frozen=True)
class SavedRegistration:
    """A registration as saved from its fact, with what its mails depend on."""

    registration: KnownRegistration
    organization_erased: bool
    forum: KnownForum | None


async def save_registration(
    conn: Connection,
    *,
    registration: KnownRegistration,
    confirmed: bool,
    occurred_at: datetime,
) -> SavedRegistration:
    """The registration as its latest fact tells it; a cancel token, once known, is kept (a
    promotion or cancellation does not carry it); an erased organisation's stays erased — its
    contact, name and token are not written at all. With it, whether the organisation was
    erased and the forum as known: one round trip a registration fact, where reading those
    first and saving then took two."""
    contact = registration.contact
    forum_columns = ", ".join(f"f.{name} AS f_{name}" for name in KnownForum.__dataclass_fields__)
    row = await conn.fetchrow(
        "WITH context AS (SELECT EXISTS (SELECT 1 FROM notification.organizations"
        "   WHERE id = $3 AND erased_at IS NOT NULL) AS erased),"
        " saved AS ("
        " INSERT INTO notification.registrations AS r (id, forum_id, organization_id,"
        " organization_name, status, attendees, waitlist_position, contact_name, contact_email,"
        " contact_language, cancel_token, registered_at, confirmed_at, cancelled_by, updated_at)"
        " SELECT $1, $2, $3, CASE WHEN erased THEN NULL ELSE $4 END, $5, $6, $7,"
        "        CASE WHEN erased THEN NULL ELSE $8 END, CASE WHEN erased THEN NULL ELSE $9 END,"
        "        CASE WHEN erased THEN NULL ELSE $10 END, CASE WHEN erased THEN NULL ELSE $11 END,"
        "        $12, CASE WHEN $13 THEN $14::timestamptz END, $15, $14 FROM context"
        " ON CONFLICT (id) DO UPDATE SET"
        "  status = CASE WHEN EXCLUDED.updated_at >= r.updated_at THEN EXCLUDED.status"
        "           ELSE r.status END,"
        "  waitlist_position = CASE WHEN EXCLUDED.updated_at >= r.updated_at"
        "           THEN EXCLUDED.waitlist_position ELSE r.waitlist_position END,"
        "  cancelled_by = CASE WHEN EXCLUDED.updated_at >= r.updated_at"
        "           THEN EXCLUDED.cancelled_by ELSE r.cancelled_by END,"
        "  cancel_token = coalesce(r.cancel_token, EXCLUDED.cancel_token),"
        "  registered_at = least(r.registered_at, EXCLUDED.registered_at),"
        "  confirmed_at = coalesce(r.confirmed_at, EXCLUDED.confirmed_at),"
        "  updated_at = greatest(r.updated_at, EXCLUDED.updated_at)"
        f" RETURNING {REGISTRATION_COLUMNS})"
        f" SELECT saved.*, context.erased, {forum_columns}"
        " FROM saved CROSS JOIN context LEFT JOIN notification.forums f ON f.id = $2",
        registration.id,
        registration.forum_id,
        registration.organization_id,
        registration.organization_name,
        registration.status,
        registration.attendees,
        registration.waitlist_position,
        contact.name if contact else None,
        contact.address if contact else None,
        contact.language if contact else None,
        registration.cancel_token,
        registration.registered_at,
        confirmed,
        occurred_at,
        registration.cancelled_by,
    )
    assert row is not None
    forum = _forum(row, prefix="f_") if row["f_id"] is not None else None
    return SavedRegistration(_registration(row), bool(row["erased"]), forum)


async def registrations_of(conn: Connection, forum_id: UUID) -> list[KnownRegistration]:
    rows = await conn.fetch(
        f"SELECT {REGISTRATION_COLUMNS} FROM notification.registrations"
        " WHERE forum_id = $1 ORDER BY registered_at, id",
        forum_id,
    )
    return [_registration(row) for row in rows]
