"""Many events of the same rows in one batch (a service starting on a backlog, a rebuild): the
set-based upserts give the rows that applying the events one at a time gives, on real
PostgreSQL, even when a batch writes one row several times and holds every event twice."""

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from schemas.envelope import Envelope
from schemas.forums import (
    ForumHeld,
    ForumHeldData,
    ForumScheduled,
    ForumSnapshot,
    ForumUpdated,
    ForumUpdatedData,
)
from schemas.notifications import (
    NotificationFailed,
    NotificationFailedData,
    NotificationSent,
    NotificationSentData,
)
from schemas.organizations import (
    OrganizationErased,
    OrganizationErasedData,
    OrganizationInterested,
    OrganizationInterestedData,
    OrganizationRegistered,
    OrganizationRegisteredData,
    PartnerJoined,
    PartnerJoinedData,
)
from schemas.registrations import (
    RegistrationCancelled,
    RegistrationCancelledData,
    RegistrationMade,
    RegistrationMadeData,
    RegistrationPromoted,
    RegistrationPromotedData,
)
from schemas.vocabulary import ForumSummary
from services.reporting.app import MIGRATIONS
from services.reporting.projector import Event, Projector
from services.reporting.store import SCHEMA
from services.reporting.store.generations import GENERATION_TABLES
from services.runtime import db
from services.runtime.consumer import Outcome
from tests.conftest import Infra, fresh_database

START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
FORUM, ORGANIZATION, ERASED = uuid4(), uuid4(), uuid4()
FIRST, SECOND, THIRD, NEEDS = uuid4(), uuid4(), uuid4(), uuid4()
DELIVERY = uuid4()


def _at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def _envelope(cls: type[Envelope], minutes: int, key: UUID, data: Any) -> Event:
    fact = cls(occurred_at=_at(minutes), producer="registration", key=str(key), data=data)
    return Event(str(fact.event_id), fact)


def _forum(title: str, topics: list[str]) -> dict[str, Any]:
    return {
        "forum_id": FORUM, "format": "workshop", "title": title, "topics": topics,
        "venue": "Rathaus", "starts_at": _at(60 * 24 * 30), "ends_at": _at(60 * 24 * 30 + 120),
        "registration_deadline": _at(60 * 24 * 20), "capacity": 3, "audience": "open",
        "status": "scheduled",
    }  # fmt: skip


def _registration(registration_id: UUID, organization: UUID, name: str, **more: Any) -> Any:
    summary = ForumSummary(
        title="Werkstatt (as the registration tells it)", format="workshop",
        venue="Rathaus", starts_at=_at(60 * 24 * 30), ends_at=_at(60 * 24 * 30 + 120),
    )  # fmt: skip
    return {
        "registration_id": registration_id, "forum_id": FORUM, "organization_id": organization,
        "organization_name": name, "attendees": 1, "forum": summary, **more,
    }  # fmt: skip


def _history() -> list[Event]:
    """One forum, two organisations, four registrations and one e-mail, every row written more
    than once: the forum by its own facts and by each registration, an organisation by its
    steps and by its registrations' names, registrations made, promoted and cancelled."""
    registered = {"kind": "culture", "status": "prospect"}
    return [
        _envelope(OrganizationRegistered, 0, ORGANIZATION, OrganizationRegisteredData(
            organization_id=ORGANIZATION, name="Verein A", district="Mitte", **registered)),
        _envelope(OrganizationRegistered, 1, ERASED, OrganizationRegisteredData(
            organization_id=ERASED, name="Verein B", **registered)),
        _envelope(ForumScheduled, 2, FORUM, ForumSnapshot(**_forum("Werkstatt", ["a", "b"]))),
        _envelope(ForumUpdated, 3, FORUM, ForumUpdatedData(**_forum("Werkstatt 2", ["a"]))),
        _envelope(RegistrationMade, 4, FORUM, RegistrationMadeData(**_registration(
            FIRST, ORGANIZATION, "Verein A", status="confirmed", registered_at=_at(4)))),
        _envelope(RegistrationMade, 5, FORUM, RegistrationMadeData(**_registration(
            SECOND, ORGANIZATION, "Verein A e.V.", status="waitlisted", registered_at=_at(5)))),
        _envelope(RegistrationMade, 6, FORUM, RegistrationMadeData(**_registration(
            THIRD, ORGANIZATION, "Verein A e.V.", status="confirmed", registered_at=_at(6),
            wants_to_present=True))),
        _envelope(RegistrationMade, 7, FORUM, RegistrationMadeData(**_registration(
            NEEDS, ERASED, "Verein B", status="confirmed", registered_at=_at(7),
            accessibility_needs="Rollstuhl"))),
        _envelope(RegistrationCancelled, 8, FORUM, RegistrationCancelledData(**_registration(
            FIRST, ORGANIZATION, "Verein A e.V.", status="cancelled", cancelled_at=_at(8),
            cancelled_by="registrant", previous_status="confirmed"))),
        _envelope(RegistrationPromoted, 9, FORUM, RegistrationPromotedData(**_registration(
            SECOND, ORGANIZATION, "Verein A e.V.", status="confirmed", promoted_at=_at(9)))),
        _envelope(OrganizationInterested, 10, ORGANIZATION, OrganizationInterestedData(
            organization_id=ORGANIZATION, name="Verein A e.V.", status="interested",
            interested_at=_at(10))),
        _envelope(PartnerJoined, 11, ORGANIZATION, PartnerJoinedData(
            organization_id=ORGANIZATION, name="Verein A e.V.", status="partner",
            agreement_signed_on=date(2026, 10, 1), joined_at=_at(11))),
        _envelope(OrganizationErased, 12, ERASED, OrganizationErasedData(
            organization_id=ERASED, erased_at=_at(12), registration_ids=[NEEDS])),
        _envelope(NotificationSent, 13, DELIVERY, NotificationSentData(
            delivery_id=DELIVERY, template="registration_confirmed", language="de",
            recipient_hash="ab" * 32, source_event_id=uuid4(),
            source_event_type="registration.made", sent_at=_at(13))),
        _envelope(NotificationFailed, 14, DELIVERY, NotificationFailedData(
            delivery_id=DELIVERY, template="registration_confirmed", language="de",
            recipient_hash="ab" * 32, source_event_id=uuid4(),
            source_event_type="registration.made", failed_at=_at(14), attempts=3,
            error="550")),
        _envelope(ForumHeld, 15, FORUM, ForumHeldData(
            forum_id=FORUM, title="Werkstatt 2", format="workshop", status="held",
            attendance=4, attended_registration_ids=[THIRD, SECOND, THIRD], held_at=_at(15))),
        # The latest name comes with a registration, after the organisation's own facts.
        _envelope(RegistrationCancelled, 16, FORUM, RegistrationCancelledData(**_registration(
            THIRD, ORGANIZATION, "Verein A gGmbH", status="cancelled", cancelled_at=_at(16),
            cancelled_by="staff", previous_status="confirmed"))),
    ]  # fmt: skip


@pytest.fixture
async def pools(infra: Infra) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two fresh databases with the reporting schema."""
    async with fresh_database(infra) as first, fresh_database(infra) as second:
        opened = []
        for url in (first, second):
            pool = await db.create_pool(url, min_size=1, max_size=2)
            async with pool.acquire() as conn:
                await db.migrate(conn, schema=SCHEMA, package=MIGRATIONS)
            opened.append(pool)
        try:
            yield opened[0], opened[1]
        finally:
            for pool in opened:
                await pool.close()


async def _read_models(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    async with pool.acquire() as conn:
        return {
            table: sorted(
                (dict(row) for row in await conn.fetch(f"SELECT * FROM reporting.{table}")),
                key=repr,
            )
            for table in GENERATION_TABLES
        }


async def test_one_batch_holding_every_event_twice_gives_the_rows_of_one_at_a_time(
    pools: tuple[asyncpg.Pool, asyncpg.Pool],
) -> None:
    in_one_batch, one_at_a_time = pools
    history = _history()
    twice = history + history
    random.Random(5).shuffle(twice)

    outcomes = await Projector(in_one_batch).apply_live(twice)
    for event in history:
        await Projector(one_at_a_time).apply_live([event])

    assert outcomes.count(Outcome.PROCESSED) == len(history)
    rows = await _read_models(in_one_batch)
    assert rows == await _read_models(one_at_a_time)
    registrations = {row["registration_id"]: row for row in rows["registrations"]}
    assert [registrations[r]["status"] for r in (FIRST, SECOND, THIRD)] == [
        "cancelled", "confirmed", "cancelled",
    ]  # fmt: skip
    assert registrations[NEEDS]["accessibility_needs"] is False  # erased in the same batch
    [forum] = rows["forums"]
    assert (forum["title"], forum["topics"], forum["status"]) == ("Werkstatt 2", ["a"], "held")
    organizations = {row["organization_id"]: row for row in rows["organizations"]}
    assert (organizations[ORGANIZATION]["name"], organizations[ORGANIZATION]["status"]) == (
        "Verein A gGmbH",
        "partner",
    )
    assert organizations[ERASED]["name"] is None
    [delivery] = rows["deliveries"]
    assert delivery["result"] == "failed"
    assert len(rows["attendances"]) == 2
