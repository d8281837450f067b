"""Parallel registrations on real PostgreSQL: no seat is sold twice and the waitlist keeps order."""

import asyncio
from typing import Any

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    forum_state,
    new_forum,
    of_type,
    ok,
    register,
)

PARALLEL = 50


async def register_all_at_once(
    service: RunningService, forum_id: str, attendees: int
) -> dict[str, dict[str, Any]]:
    """PARALLEL registrations in flight together (staff token: no rate limit), by id."""
    responses = await asyncio.gather(
        *(
            register(service, forum_id, bodies.registration(attendees=attendees))
            for _ in range(PARALLEL)
        )
    )
    made = [ok(response, 201) for response in responses]
    return {body["id"]: body for body in made}


async def statuses_by_arrival(
    service: RunningService, forum_id: str
) -> tuple[list[str], list[str]]:
    """The forum's registration ids and statuses, in arrival order (the row's `arrival`)."""
    conn = await service.database()
    try:
        rows = await conn.fetch(
            "SELECT id::text, status FROM registration.registrations"
            " WHERE forum_id = $1::uuid ORDER BY arrival",
            forum_id,
        )
    finally:
        await conn.close()
    return [row["id"] for row in rows], [row["status"] for row in rows]


async def test_fifty_at_once_for_ten_seats(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=10))

    answered = await register_all_at_once(service, forum["id"], attendees=1)

    ids, statuses = await statuses_by_arrival(service, forum["id"])
    assert statuses == ["confirmed"] * 10 + ["waitlisted"] * 40
    # Each waitlisted response told its place in arrival order, 1 to 40.
    assert [answered[rid]["waitlist_position"] for rid in ids[10:]] == list(range(1, 41))
    assert all(answered[rid]["status"] == "confirmed" for rid in ids[:10])
    assert all(answered[rid]["waitlist_position"] is None for rid in ids[:10])
    state = await forum_state(service, forum["id"])
    assert (state["seats_taken"], state["seats_remaining"], state["waitlist_length"]) == (10, 0, 40)
    # The facts follow on the forum's key in arrival order, each with the answer's status.
    made = await facts_on_key(
        service, "registrations", forum["id"], of_type("registration.made", registration_id=ids[-1])
    )
    assert [message.value["data"]["registration_id"] for message in made] == ids
    assert [message.value["data"]["waitlist_position"] for message in made] == [None] * 10 + list(
        range(1, 41)
    )


async def test_groups_of_two_never_oversell_nine_seats(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=9))

    answered = await register_all_at_once(service, forum["id"], attendees=2)

    ids, statuses = await statuses_by_arrival(service, forum["id"])
    assert statuses == ["confirmed"] * 4 + ["waitlisted"] * 46
    assert [answered[rid]["waitlist_position"] for rid in ids[4:]] == list(range(1, 47))
    state = await forum_state(service, forum["id"])
    assert (state["seats_taken"], state["seats_remaining"], state["waitlist_length"]) == (8, 1, 46)
