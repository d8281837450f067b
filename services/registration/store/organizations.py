"""Organisations table."""

from uuid import UUID

import asyncpg

from schemas.vocabulary import Contact, OrganizationKind, OrganizationStatus
from services.registration.domain.organizations import Organization
from services.runtime.db import Connection

COLUMN_NAMES = (
    "id",
    "name",
    "kind",
    "district",
    "website",
    "status",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_language",
    "interested_at",
    "interest_note",
    "agreement_signed_on",
    "joined_at",
    "left_at",
    "erased_at",
)
COLUMNS = ", ".join(COLUMN_NAMES)
# Fields of an event's `data` that hold personal data of an organisation's contacts, or a
# secret of theirs: removed from the outbox (the event log) on erasure.
PERSONAL_EVENT_FIELDS = (
    "contact",
    "accessibility_needs",
    "interpreter_needs",
    "reason",
    "note",
    "cancel_token",
)


def contact_from(row: asyncpg.Record, prefix: str = "contact_") -> Contact | None:
    if row[f"{prefix}email"] is None:
        return None
    return Contact.model_construct(
        name=row[f"{prefix}name"],
        email=row[f"{prefix}email"],
        phone=row[f"{prefix}phone"],
        language=row[f"{prefix}language"] or "de",
    )


def aliased_columns(table: str, prefix: str) -> str:
    """The columns of `table` as `<prefix><name>`, to select beside another table's."""
    return ", ".join(f"{table}.{name} AS {prefix}{name}" for name in COLUMN_NAMES)


def from_row(row: asyncpg.Record, prefix: str = "") -> Organization:
    return Organization(
        id=row[f"{prefix}id"],
        name=row[f"{prefix}name"],
        kind=OrganizationKind(row[f"{prefix}kind"]),
        district=row[f"{prefix}district"],
        website=row[f"{prefix}website"],
        status=OrganizationStatus(row[f"{prefix}status"]),
        contact=contact_from(row, f"{prefix}contact_"),
        interested_at=row[f"{prefix}interested_at"],
        interest_note=row[f"{prefix}interest_note"],
        agreement_signed_on=row[f"{prefix}agreement_signed_on"],
        joined_at=row[f"{prefix}joined_at"],
        left_at=row[f"{prefix}left_at"],
        erased_at=row[f"{prefix}erased_at"],
    )


async def insert(conn: Connection, organization: Organization) -> None:
    contact = organization.contact
    await conn.execute(
        "INSERT INTO registration.organizations (id, name, kind, district, website, status,"
        " contact_name, contact_email, contact_phone, contact_language)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        organization.id,
        organization.name,
        organization.kind.value,
        organization.district,
        organization.website,
        organization.status.value,
        contact.name if contact else None,
        str(contact.email) if contact else None,
        contact.phone if contact else None,
        contact.language if contact else None,
    )


async def get(
    conn: Connection, organization_id: UUID, *, lock: bool = False
) -> Organization | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM registration.organizations WHERE id = $1"
        # NO KEY UPDATE: lifecycle steps serialise, while inserting a registration (its foreign
        # key takes KEY SHARE on this row) never waits for one.
        + (" FOR NO KEY UPDATE" if lock else ""),
        organization_id,
    )
    return from_row(row) if row else None


async def save_lifecycle(conn: Connection, organization: Organization) -> None:
    await conn.execute(
        "UPDATE registration.organizations SET status = $2, interested_at = $3,"
        " agreement_signed_on = $4, joined_at = $5, left_at = $6, interest_note = $7,"
        " updated_at = now() WHERE id = $1",
        organization.id,
        organization.status.value,
        organization.interested_at,
        organization.agreement_signed_on,
        organization.joined_at,
        organization.left_at,
        organization.interest_note,
    )


async def list_page(
    conn: Connection, *, status: str | None, after: tuple[str, UUID] | None, limit: int
) -> list[Organization]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM registration.organizations"
        # Erased organisations are gone for the API; their anonymous rows stay for counts.
        " WHERE erased_at IS NULL AND ($1::text IS NULL OR status = $1)"
        " AND ($2::text IS NULL OR (name, id) > ($2, $3::uuid))"
        " ORDER BY name, id LIMIT $4",
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [from_row(row) for row in rows]


async def erase_personal_data(conn: Connection, organization_id: UUID) -> list[UUID]:
    """Remove the contacts' personal data everywhere in this schema; returns the registrations."""
    await conn.execute(
        "UPDATE registration.organizations SET contact_name = NULL, contact_email = NULL,"
        " contact_phone = NULL, interest_note = NULL, erased_at = now(), updated_at = now()"
        " WHERE id = $1",
        organization_id,
    )
    rows = await conn.fetch(
        "UPDATE registration.registrations SET contact_name = NULL, contact_email = NULL,"
        " contact_phone = NULL, accessibility_needs = NULL, interpreter_needs = NULL,"
        " erased_at = now() WHERE organization_id = $1 RETURNING id",
        organization_id,
    )
    # The outbox is the event log: past events of this organisation lose their personal data
    # too, free texts (cancel and leave reasons, the interest note) and cancel tokens included.
    await conn.execute(
        "UPDATE registration.outbox SET envelope = jsonb_set(envelope, '{data}',"
        " (envelope->'data') - $2::text[]) WHERE subject_id = $1",
        organization_id,
        list(PERSONAL_EVENT_FIELDS),
    )
    await conn.execute(
        "DELETE FROM registration.idempotency_keys WHERE registration_id = ANY($1::uuid[])",
        [row["id"] for row in rows],
    )
    return [row["id"] for row in rows]
