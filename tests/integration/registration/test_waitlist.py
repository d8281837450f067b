"""The waitlist: strictly first in, first out; cancellation frees seats and promotes in order."""

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    forum_state,
    new_forum,
    of_type,
    ok,
    problem,
    registered,
    registrations_of,
    types,
)


async def test_nobody_overtakes_a_waiting_group(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=5))
    group = await registered(service, forum["id"], attendees=3)
    single = await registered(service, forum["id"], attendees=1)
    waiting_group = await registered(service, forum["id"], attendees=3)
    # One seat is free and this one would fit, but someone waits: it queues behind.
    latecomer = await registered(service, forum["id"], attendees=1)
    assert (group["status"], single["status"]) == ("confirmed", "confirmed")
    assert (waiting_group["status"], waiting_group["waitlist_position"]) == ("waitlisted", 1)
    assert (latecomer["status"], latecomer["waitlist_position"]) == ("waitlisted", 2)

    # Two seats free now: still not enough for the group of 3, and the single may not pass it.
    ok(await service.staff.post(f"/v1/registrations/{single['id']}/cancel"))

    after_one = await registrations_of(service, forum["id"])
    assert after_one[waiting_group["id"]]["status"] == "waitlisted"
    assert after_one[latecomer["id"]]["status"] == "waitlisted"
    assert after_one[latecomer["id"]]["waitlist_position"] == 2
    state = await forum_state(service, forum["id"])
    assert (state["seats_remaining"], state["waitlist_length"]) == (2, 2)

    # The group's own cancel link frees three more: both move up, in arrival order.
    ok(
        await service.public.post(
            f"/v1/registrations/{group['id']}/cancel",
            json={"cancel_token": group["cancel_token"]},
        )
    )

    after_two = await registrations_of(service, forum["id"])
    assert after_two[waiting_group["id"]]["status"] == "confirmed"
    assert after_two[latecomer["id"]]["status"] == "confirmed"
    state = await forum_state(service, forum["id"])
    assert (state["seats_taken"], state["waitlist_length"]) == (4, 0)
    chain = await facts_on_key(
        service,
        "registrations",
        forum["id"],
        of_type("registration.promoted", registration_id=latecomer["id"]),
    )
    assert types(chain)[4:] == [
        "registration.cancelled",
        "registration.cancelled",
        "registration.promoted",
        "registration.promoted",
    ]
    cancelled_ids = [message.value["data"]["registration_id"] for message in chain[4:6]]
    promoted_ids = [message.value["data"]["registration_id"] for message in chain[6:]]
    assert cancelled_ids == [single["id"], group["id"]]
    assert promoted_ids == [waiting_group["id"], latecomer["id"]]
    assert chain[5].value["data"]["cancelled_by"] == "registrant"
    assert chain[4].value["data"]["cancelled_by"] == "staff"


async def test_positions_are_one_based_and_move_up(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1))
    await registered(service, forum["id"])
    waiting = [await registered(service, forum["id"]) for _ in range(3)]
    assert [made["waitlist_position"] for made in waiting] == [1, 2, 3]

    ok(await service.staff.post(f"/v1/registrations/{waiting[0]['id']}/cancel"))

    listed = await registrations_of(service, forum["id"])
    assert listed[waiting[0]["id"]]["status"] == "cancelled"
    assert listed[waiting[0]["id"]]["waitlist_position"] is None
    assert [listed[made["id"]]["waitlist_position"] for made in waiting[1:]] == [1, 2]
    assert (await forum_state(service, forum["id"]))["waitlist_length"] == 2
    newcomer = await registered(service, forum["id"])
    assert newcomer["waitlist_position"] == 3


async def test_wrong_cancel_token_is_forbidden(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1))
    mine = await registered(service, forum["id"])
    other = await registered(service, forum["id"])

    with_other_token = await service.public.post(
        f"/v1/registrations/{mine['id']}/cancel", json={"cancel_token": other["cancel_token"]}
    )
    without_anything = await service.public.post(f"/v1/registrations/{mine['id']}/cancel")

    problem(with_other_token, 403, field="cancel_token")
    problem(without_anything, 401)
    listed = await registrations_of(service, forum["id"])
    assert listed[mine["id"]]["status"] == "confirmed"
    assert listed[other["id"]]["status"] == "waitlisted"


async def test_cancelling_twice_is_a_conflict(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=2))
    made = await registered(service, forum["id"], attendees=2)
    path = f"/v1/registrations/{made['id']}/cancel"

    cancelled = ok(await service.staff.post(path))
    again = await service.staff.post(path)

    assert cancelled["status"] == "cancelled"
    problem(again, 409)
    assert (await forum_state(service, forum["id"]))["seats_remaining"] == 2


async def test_the_cancel_url_cancels_when_posted_as_given(service: RunningService) -> None:
    forum = await new_forum(service)
    made = await registered(service, forum["id"])

    assert made["cancel_url"].startswith(f"{service.base_url}/")

    cancelled = await service.public.post(made["cancel_url"])

    assert ok(cancelled)["status"] == "cancelled"
    assert (await forum_state(service, forum["id"]))["seats_taken"] == 0
