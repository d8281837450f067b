"""The read models' upserts, one SQL statement for each `projection.rows.Statement`.

Each keeps the rule of its row that makes the writes commutative (projection/rows.py): a state
is taken only from a later event (`occurred_at`, then the lifecycle rank), first and last times
merge with LEAST / GREATEST, erasure wins over every name.
"""

from collections import defaultdict
from collections.abc import Iterable

from services.reporting.projection.rows import Statement, Write
from services.runtime.db import Connection


def _latest(row: str, at: str, rank: str, columns: Iterable[str]) -> str:
    """SET clauses taking `columns` from the new row when it is later than the stored one."""
    newer = f"({row}.{at} IS NULL OR (EXCLUDED.{at}, EXCLUDED.{rank}) > ({row}.{at}, {row}.{rank}))"
    return ", ".join(
        f"{column} = CASE WHEN {newer} THEN EXCLUDED.{column} ELSE {row}.{column} END"
        for column in columns
    )


# A name is taken from the latest event that carries one, never after erasure.
_NAME = (
    "name = CASE WHEN o.erased THEN NULL"
    " WHEN o.name_at IS NULL OR EXCLUDED.name_at > o.name_at THEN EXCLUDED.name ELSE o.name END,"
    " name_at = GREATEST(o.name_at, EXCLUDED.name_at)"
)

ORGANIZATION = f"""
INSERT INTO reporting.organizations AS o (generation, organization_id, name, name_at, kind,
    district, status, status_at, status_rank)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (generation, organization_id) DO UPDATE SET {_NAME},
    kind = COALESCE(EXCLUDED.kind, o.kind),
    district = CASE WHEN EXCLUDED.kind IS NULL THEN o.district ELSE EXCLUDED.district END,
    {_latest("o", "status_at", "status_rank", ("status", "status_rank"))},
    status_at = GREATEST(o.status_at, EXCLUDED.status_at)
"""

ORGANIZATION_NAME = f"""
INSERT INTO reporting.organizations AS o (generation, organization_id, name, name_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (generation, organization_id) DO UPDATE SET {_NAME}
"""

# The name goes, and so do the needs flags of its registrations: the registration service
# erased the needs themselves, so a rebuild from its event log would not see them either.
ORGANIZATION_ERASED = """
WITH erased AS (
    INSERT INTO reporting.organizations AS o (generation, organization_id, erased)
    VALUES ($1, $2, true)
    ON CONFLICT (generation, organization_id) DO UPDATE SET erased = true, name = NULL
    RETURNING organization_id
)
UPDATE reporting.registrations SET accessibility_needs = false, interpreter_needs = false
WHERE generation = $1 AND organization_id = $2
"""

ORGANIZATION_STEP = """
INSERT INTO reporting.organization_steps (generation, event_id, organization_id, step, at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
"""

_SNAPSHOT_COLUMNS = (
    "title", "format", "topics", "venue", "starts_at", "ends_at", "registration_deadline",
    "capacity", "audience", "snapshot_at",
)  # fmt: skip
_FORUM_STATUS = (
    f"{_latest('f', 'status_at', 'status_rank', ('status', 'status_rank'))},"
    " status_at = GREATEST(f.status_at, EXCLUDED.status_at)"
)
_NEWER_SNAPSHOT = "(f.snapshot_at IS NULL OR EXCLUDED.snapshot_at > f.snapshot_at)"

FORUM_SNAPSHOT = f"""
INSERT INTO reporting.forums AS f (generation, forum_id, title, format, topics, venue, starts_at,
    ends_at, registration_deadline, capacity, audience, snapshot_at, status, status_at,
    status_rank)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12, $14)
ON CONFLICT (generation, forum_id) DO UPDATE SET {
    ", ".join(
        f"{column} = CASE WHEN {_NEWER_SNAPSHOT} THEN EXCLUDED.{column} ELSE f.{column} END"
        for column in _SNAPSHOT_COLUMNS
    )
}, {_FORUM_STATUS}
"""

# What a registration says of its forum fills only what its own facts have not.
FORUM_SEEN = """
INSERT INTO reporting.forums AS f (generation, forum_id, title, format, venue, starts_at, ends_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (generation, forum_id) DO UPDATE SET title = COALESCE(f.title, EXCLUDED.title),
    format = COALESCE(f.format, EXCLUDED.format), venue = COALESCE(f.venue, EXCLUDED.venue),
    starts_at = COALESCE(f.starts_at, EXCLUDED.starts_at),
    ends_at = COALESCE(f.ends_at, EXCLUDED.ends_at)
"""

FORUM_ENDED = f"""
INSERT INTO reporting.forums AS f (generation, forum_id, title, format, status, status_at,
    status_rank, attendance, held_at, cancelled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (generation, forum_id) DO UPDATE SET title = COALESCE(f.title, EXCLUDED.title),
    format = COALESCE(f.format, EXCLUDED.format), {_FORUM_STATUS},
    attendance = COALESCE(EXCLUDED.attendance, f.attendance),
    held_at = COALESCE(EXCLUDED.held_at, f.held_at),
    cancelled_at = COALESCE(EXCLUDED.cancelled_at, f.cancelled_at)
"""

_ERASED_ORGANIZATION = (
    "EXISTS (SELECT 1 FROM reporting.organizations e"
    " WHERE e.generation = $1 AND e.organization_id = $4 AND e.erased)"
)

REGISTRATION = f"""
INSERT INTO reporting.registrations AS r (generation, registration_id, forum_id,
    organization_id, status, status_at, status_rank, attendees, wants_to_present,
    interested_in_partnership, accessibility_needs, interpreter_needs, registered_at,
    first_seen_at, cancelled_by, cancelled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
    $11 AND NOT {_ERASED_ORGANIZATION}, $12 AND NOT {_ERASED_ORGANIZATION}, $13, $14, $15, $16)
ON CONFLICT (generation, registration_id) DO UPDATE SET {
    _latest(
        "r",
        "status_at",
        "status_rank",
        (
            "status", "status_rank", "attendees", "wants_to_present",
            "interested_in_partnership", "accessibility_needs", "interpreter_needs",
        ),
    )
},  status_at = GREATEST(r.status_at, EXCLUDED.status_at),
    registered_at = COALESCE(r.registered_at, EXCLUDED.registered_at),
    first_seen_at = LEAST(r.first_seen_at, EXCLUDED.first_seen_at),
    cancelled_by = COALESCE(EXCLUDED.cancelled_by, r.cancelled_by),
    cancelled_at = COALESCE(EXCLUDED.cancelled_at, r.cancelled_at)
"""  # fmt: skip

ATTENDANCE = """
INSERT INTO reporting.attendances (generation, registration_id, forum_id) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING
"""

DELIVERY = f"""
INSERT INTO reporting.deliveries AS d (generation, delivery_id, kind, result, result_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (generation, delivery_id) DO UPDATE SET {
    _latest("d", "result_at", "result", ("kind", "result"))
}, result_at = GREATEST(d.result_at, EXCLUDED.result_at)
"""

SQL: dict[Statement, str] = {
    Statement.ORGANIZATION: ORGANIZATION,
    Statement.ORGANIZATION_NAME: ORGANIZATION_NAME,
    Statement.ORGANIZATION_ERASED: ORGANIZATION_ERASED,
    Statement.ORGANIZATION_STEP: ORGANIZATION_STEP,
    Statement.FORUM_SNAPSHOT: FORUM_SNAPSHOT,
    Statement.FORUM_SEEN: FORUM_SEEN,
    Statement.FORUM_ENDED: FORUM_ENDED,
    Statement.REGISTRATION: REGISTRATION,
    Statement.ATTENDANCE: ATTENDANCE,
    Statement.DELIVERY: DELIVERY,
}


async def apply_writes(conn: Connection, generation: int, writes: Iterable[Write]) -> None:
    """Every write into `generation`, one pipelined executemany a statement (the order does not
    matter: the writes commute)."""
    grouped: dict[Statement, list[tuple[object, ...]]] = defaultdict(list)
    names: dict[object, tuple[object, ...]] = {}
    for write in writes:
        if write.statement is Statement.ORGANIZATION_NAME:
            # Most registrations of a batch repeat their organisation's name: only the latest
            # per organisation can win, so only it is written (measured: a third of the rows).
            organization_id, _, at = write.values
            kept = names.get(organization_id)
            if kept is None or at > kept[2]:  # type: ignore[operator]
                names[organization_id] = write.values
            continue
        grouped[write.statement].append((generation, *write.values))
    grouped[Statement.ORGANIZATION_NAME] = [(generation, *values) for values in names.values()]
    for statement, rows in grouped.items():
        if rows:
            await conn.executemany(SQL[statement], rows)
