"""What becomes of registrations when a forum ends: the waitlist ends with a cancelled forum,
nothing is promoted after a forum is held or cancelled, a registration racing a cancellation
is refused cleanly."""

import asyncio
from uuid import UUID

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    forum_state,
    new_forum,
    new_organization,
    of_type,
    ok,
    problem,
    register,
    registered,
    registrations_of,
    types,
)
from tests.polling import until


async def test_cancelling_a_forum_ends_its_waitlist(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=2))
    seated = await registered(service, forum["id"], attendees=2)
    first_waiting = await registered(service, forum["id"])
    second_waiting = await registered(service, forum["id"])

    ok(await service.staff.post(f"/v1/forums/{forum['id']}/cancel", json={"reason": "Sturm"}))

    state = await forum_state(service, forum["id"])
    assert (state["status"], state["waitlist_length"], state["seats_taken"]) == ("cancelled", 0, 2)
    after = await registrations_of(service, forum["id"])
    assert after[seated["id"]]["status"] == "confirmed"  # they had a seat; the forum says the rest
    assert after[first_waiting["id"]]["status"] == "cancelled"
    assert after[second_waiting["id"]]["status"] == "cancelled"
    chain = await facts_on_key(
        service,
        "registrations",
        forum["id"],
        of_type("registration.cancelled", registration_id=second_waiting["id"]),
    )
    ended = chain[-2:]
    assert types(ended) == ["registration.cancelled", "registration.cancelled"]
    assert [fact.value["data"]["registration_id"] for fact in ended] == [
        first_waiting["id"],
        second_waiting["id"],
    ]
    for fact in ended:
        data = fact.value["data"]
        assert (data["cancelled_by"], data["previous_status"]) == ("forum", "waitlisted")
        assert data["reason"] == "Sturm"
    forum_facts = await facts_on_key(
        service, "forums", forum["id"], of_type("forum.cancelled", forum_id=forum["id"])
    )
    assert types(forum_facts)[-1] == "forum.cancelled"


async def test_a_held_forum_never_promotes(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1))
    seated = await registered(service, forum["id"])
    waiting = await registered(service, forum["id"])
    ok(
        await service.staff.post(
            f"/v1/forums/{forum['id']}/held",
            json={"attendance": 1, "attended_registration_ids": [seated["id"]]},
        )
    )

    refused = await service.staff.post(f"/v1/registrations/{seated['id']}/cancel")
    by_registrant = await service.public.post(
        f"/v1/registrations/{seated['id']}/cancel", json={"cancel_token": seated["cancel_token"]}
    )

    problem(refused, 409, "registration_id")
    problem(by_registrant, 409, "registration_id")
    after = await registrations_of(service, forum["id"])
    assert after[seated["id"]]["status"] == "confirmed"
    assert after[waiting["id"]]["status"] == "waitlisted"
    assert (await forum_state(service, forum["id"]))["seats_taken"] == 1


async def test_a_cancelled_forum_never_promotes(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1))
    seated = await registered(service, forum["id"])
    await registered(service, forum["id"])
    ok(await service.staff.post(f"/v1/forums/{forum['id']}/cancel"))

    problem(await service.staff.post(f"/v1/registrations/{seated['id']}/cancel"), 409)

    after = await registrations_of(service, forum["id"])
    assert [item["status"] for item in after.values()] == ["confirmed", "cancelled"]


async def test_a_registration_racing_the_cancellation_is_refused_and_writes_nothing(
    service: RunningService,
) -> None:
    forum = await new_forum(service)
    organization = await new_organization(service)
    forum_id = UUID(forum["id"])
    canceller = await service.database()
    try:
        # The cancellation holds the forum row while the registration's statement runs: the
        # statement saw an open forum in its snapshot and waits for the row lock.
        transaction = canceller.transaction()
        await transaction.start()
        await canceller.execute(
            "SELECT 1 FROM registration.forums WHERE id = $1 FOR UPDATE", forum_id
        )
        racing = asyncio.create_task(
            register(
                service,
                forum["id"],
                bodies.registration(organization_id=organization["id"]),
            )
        )
        await until(lambda: _waits_for_a_lock(service), 10.0, "the registration waits")
        await canceller.execute(
            "UPDATE registration.forums SET status = 'cancelled' WHERE id = $1", forum_id
        )
        await transaction.commit()
        answer = await racing
        seats = await canceller.fetchval(
            "SELECT count(*) FROM registration.organization_seats WHERE forum_id = $1", forum_id
        )
        rows = await canceller.fetchval(
            "SELECT count(*) FROM registration.registrations WHERE forum_id = $1", forum_id
        )
    finally:
        await canceller.close()

    problem(answer, 409, "forum_id")
    assert (seats, rows) == (0, 0)


async def _waits_for_a_lock(service: RunningService) -> bool:
    # A connection of its own: inside a transaction pg_stat_activity is a snapshot that never
    # changes.
    observer = await service.database()
    try:
        waiting: int = await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE '%organization_seats%'"
        )
    finally:
        await observer.close()
    return waiting > 0
