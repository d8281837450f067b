"""Generations of the read models: the live one the reports read, and one being rebuilt."""

from dataclasses import dataclass
from enum import StrEnum

from services.runtime.db import Connection

# The tables whose rows belong to a generation (dropped with it).
GENERATION_TABLES = (
    "organizations",
    "organization_steps",
    "forums",
    "registrations",
    "attendances",
    "deliveries",
    "topic_progress",
)


class GenerationState(StrEnum):
    LIVE = "live"
    BUILDING = "building"
    RETIRED = "retired"


@dataclass(frozen=True)
class Generation:
    number: int
    state: GenerationState

    @property
    def inbox_consumer(self) -> str:
        """Its own inbox key: a rebuild applies every event again, the live one dedupes."""
        return f"reporting/g{self.number}"


async def active(conn: Connection) -> list[Generation]:
    """The live generation and one being built, locked FOR SHARE: a swap waits for the
    transactions writing into them, so none writes into a generation after it retired."""
    rows = await conn.fetch(
        "SELECT generation, state FROM reporting.generations"
        " WHERE state IN ('live', 'building') ORDER BY generation FOR SHARE"
    )
    return [Generation(row["generation"], GenerationState(row["state"])) for row in rows]


async def live(conn: Connection) -> int:
    number: int = await conn.fetchval(
        "SELECT generation FROM reporting.generations WHERE state = 'live'"
    )
    return number


async def begin_building(conn: Connection) -> Generation:
    """A new generation beside the live one; from its commit on, the live consumer writes into
    both. Any unfinished one (a rebuild that died) is dropped first."""
    for stale in await conn.fetch(
        "SELECT generation FROM reporting.generations WHERE state = 'building'"
    ):
        await drop(conn, stale["generation"])
    number: int = await conn.fetchval(
        "INSERT INTO reporting.generations (generation, state)"
        " SELECT max(generation) + 1, 'building' FROM reporting.generations RETURNING generation"
    )
    return Generation(number, GenerationState.BUILDING)


async def swap(conn: Connection, building: int) -> int:
    """Make `building` live and retire the live one; returns the retired generation."""
    retired: int = await conn.fetchval(
        "UPDATE reporting.generations SET state = 'retired' WHERE state = 'live'"
        " RETURNING generation"
    )
    await conn.execute(
        "UPDATE reporting.generations SET state = 'live', live_since = now()"
        " WHERE generation = $1 AND state = 'building'",
        building,
    )
    return retired


async def applied_events(conn: Connection, generation: int) -> int:
    """How many events a generation holds (its inbox)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM reporting.inbox WHERE consumer = $1",
        Generation(generation, GenerationState.LIVE).inbox_consumer,
    )
    return count


async def missing_events(conn: Connection, *, building: int, live: int) -> int:
    """Events the live generation holds and `building` does not (one snapshot: the live
    consumer writes into both meanwhile)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM (SELECT event_id FROM reporting.inbox WHERE consumer = $1"
        " EXCEPT SELECT event_id FROM reporting.inbox WHERE consumer = $2) AS missing",
        Generation(live, GenerationState.LIVE).inbox_consumer,
        Generation(building, GenerationState.BUILDING).inbox_consumer,
    )
    return count


async def drop(conn: Connection, generation: int) -> None:
    """Every row of a generation, its inbox and itself."""
    for table in GENERATION_TABLES:
        await conn.execute(f"DELETE FROM reporting.{table} WHERE generation = $1", generation)
    await conn.execute(
        "DELETE FROM reporting.inbox WHERE consumer = $1",
        Generation(generation, GenerationState.RETIRED).inbox_consumer,
    )
    await conn.execute("DELETE FROM reporting.generations WHERE generation = $1", generation)
