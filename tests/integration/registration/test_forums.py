"""Forums over HTTP: scheduling in Berlin time, seat counts, updates, cancelling, marking held."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    forum_state,
    new_forum,
    of_type,
    ok,
    problem,
    register,
    registered,
    registrations_of,
    types,
)


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0), f"{text} is not UTC"
    return moment


async def test_schedule_takes_berlin_times_and_answers_in_utc(
    service: RunningService,
) -> None:
    winter = bodies.forum(
        starts_at="2030-12-10T10:00:00+01:00",
        ends_at="2030-12-10T16:00:00+01:00",
        registration_deadline="2030-12-07T23:59:00+01:00",
        capacity=120,
        seats_per_organization=3,
        forum_format="conference",
    )
    summer_naive = bodies.forum(
        starts_at="2030-07-10T10:00:00",
        ends_at="2030-07-10T16:00:00",
        registration_deadline="2030-07-01T12:00:00",
    )

    conference = await new_forum(service, winter)
    forum = await new_forum(service, summer_naive)

    assert conference["status"] == "scheduled"
    assert conference["format"] == "conference"
    assert conference["seats_remaining"] == 120
    assert conference["waitlist_length"] == 0
    assert conference["seats_per_organization"] == 3
    assert utc(conference["starts_at"]) == datetime(2030, 12, 10, 9, tzinfo=UTC)
    assert utc(conference["ends_at"]) == datetime(2030, 12, 10, 15, tzinfo=UTC)
    assert utc(conference["registration_deadline"]) == datetime(2030, 12, 7, 22, 59, tzinfo=UTC)
    # Naive times are Europe/Berlin: summer time is UTC+2.
    assert utc(forum["starts_at"]) == datetime(2030, 7, 10, 8, tzinfo=UTC)
    assert utc(forum["registration_deadline"]) == datetime(2030, 7, 1, 10, tzinfo=UTC)
    [fact] = await facts_on_key(service, "forums", conference["id"], lambda message: True)
    assert fact.headers["type"] == "forum.scheduled"
    assert utc(fact.value["data"]["starts_at"]) == datetime(2030, 12, 10, 9, tzinfo=UTC)
    assert fact.value["data"]["capacity"] == 120


async def test_read_shows_seats_remaining_and_waitlist_length(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(capacity=5))
    await registered(service, forum["id"], attendees=3)
    await registered(service, forum["id"], attendees=2)
    await registered(service, forum["id"], attendees=1)

    state = ok(await service.public.get(f"/v1/forums/{forum['id']}"))

    assert state["seats_taken"] == 5
    assert state["seats_remaining"] == 0
    assert state["waitlist_length"] == 1
    assert state["registration_open"] is True


async def test_patch_changes_fields_and_publishes_changed_fields(
    service: RunningService,
) -> None:
    forum = await new_forum(service)

    changed = ok(
        await service.staff.patch(
            f"/v1/forums/{forum['id']}",
            json={"title": "Forum Gleichbehandlung", "venue": "Polizeipräsidium"},
        )
    )

    assert changed["title"] == "Forum Gleichbehandlung"
    assert changed["venue"] == "Polizeipräsidium"
    assert changed["capacity"] == forum["capacity"]
    assert (await forum_state(service, forum["id"]))["title"] == "Forum Gleichbehandlung"
    chain = await facts_on_key(service, "forums", forum["id"], of_type("forum.updated"))
    assert types(chain) == ["forum.scheduled", "forum.updated"]
    assert chain[-1].value["data"]["changed_fields"] == ["title", "venue"]
    assert chain[-1].value["data"]["title"] == "Forum Gleichbehandlung"


async def test_capacity_increase_promotes_the_waitlist(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=2))
    await registered(service, forum["id"], attendees=2)
    first = await registered(service, forum["id"], attendees=1)
    second = await registered(service, forum["id"], attendees=2)
    assert (first["status"], second["status"]) == ("waitlisted", "waitlisted")

    changed = ok(await service.staff.patch(f"/v1/forums/{forum['id']}", json={"capacity": 4}))

    assert changed["seats_taken"] == 3  # the group of 2 behind does not fit into the last seat
    assert changed["waitlist_length"] == 1
    now = await registrations_of(service, forum["id"])
    assert now[first["id"]]["status"] == "confirmed"
    assert now[second["id"]]["status"] == "waitlisted"
    assert now[second["id"]]["waitlist_position"] == 1
    chain = await facts_on_key(
        service, "registrations", forum["id"], of_type("registration.promoted")
    )
    assert chain[-1].value["data"]["registration_id"] == first["id"]
    assert chain[-1].value["data"]["status"] == "confirmed"


async def test_capacity_below_confirmed_seats_is_refused(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=4))
    await registered(service, forum["id"], attendees=3)

    refused = await service.staff.patch(f"/v1/forums/{forum['id']}", json={"capacity": 2})

    problem(refused, 422, field="capacity")
    assert (await forum_state(service, forum["id"]))["capacity"] == 4


async def test_cancelled_forum_refuses_registrations(service: RunningService) -> None:
    forum = await new_forum(service)

    cancelled = ok(
        await service.staff.post(
            f"/v1/forums/{forum['id']}/cancel", json={"reason": "Raum nicht verfügbar"}
        )
    )
    refused = await register(service, forum["id"])

    assert cancelled["status"] == "cancelled"
    problem(refused, 409)
    problem(await service.staff.post(f"/v1/forums/{forum['id']}/cancel"), 409)
    assert (await forum_state(service, forum["id"]))["seats_taken"] == 0
    chain = await facts_on_key(service, "forums", forum["id"], of_type("forum.cancelled"))
    assert chain[-1].value["data"]["reason"] == "Raum nicht verfügbar"


async def test_mark_held_records_attendance_and_publishes_held(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.started_forum(capacity=3))
    came = await registered(service, forum["id"], attendees=2)
    stayed_away = await registered(service, forum["id"], attendees=1)
    waiting = await registered(service, forum["id"], attendees=1)
    assert waiting["status"] == "waitlisted"
    path = f"/v1/forums/{forum['id']}/held"

    not_confirmed = await service.staff.post(
        path, json={"attendance": 3, "attended_registration_ids": [came["id"], waiting["id"]]}
    )
    unknown = await service.staff.post(
        path, json={"attendance": 3, "attended_registration_ids": [str(uuid4())]}
    )
    held = ok(
        await service.staff.post(
            path,
            json={
                "attendance": 2,
                "attended_registration_ids": [came["id"]],
                "outcomes": "Vereinbart: Folgetreffen im Frühjahr",
            },
        )
    )

    problem(not_confirmed, 422, field="attended_registration_ids")
    problem(unknown, 422, field="attended_registration_ids")
    assert held["status"] == "held"
    problem(await register(service, forum["id"]), 409)  # closed once held
    chain = await facts_on_key(service, "forums", forum["id"], of_type("forum.held"))
    assert types(chain) == ["forum.scheduled", "forum.held"]
    data = chain[-1].value["data"]
    assert data["attendance"] == 2
    assert data["attended_registration_ids"] == [came["id"]]
    assert data["outcomes"] == "Vereinbart: Folgetreffen im Frühjahr"
    assert stayed_away["id"] not in data["attended_registration_ids"]


async def test_a_held_forum_cannot_be_held_or_cancelled_again(service: RunningService) -> None:
    forum = await new_forum(service)
    ok(await service.staff.post(f"/v1/forums/{forum['id']}/held", json={"attendance": 0}))

    again = await service.staff.post(f"/v1/forums/{forum['id']}/held", json={"attendance": 1})
    cancel = await service.staff.post(f"/v1/forums/{forum['id']}/cancel", json={})

    problem(again, 409)
    problem(cancel, 409)
    assert (await forum_state(service, forum["id"]))["status"] == "held"


async def test_end_before_start_is_refused_naming_ends_at(service: RunningService) -> None:
    backwards = bodies.forum(
        title="Rückwärts",
        starts_at="2030-12-10T16:00:00+01:00",
        ends_at="2030-12-10T10:00:00+01:00",
    )
    forum = await new_forum(service)

    refused = await service.staff.post("/v1/forums", json=backwards)
    patched = await service.staff.patch(
        f"/v1/forums/{forum['id']}", json={"ends_at": "2020-01-01T00:00:00+01:00"}
    )

    problem(refused, 422, field="ends_at")
    problem(patched, 422, field="ends_at")
    listed = ok(await service.staff.get("/v1/forums?limit=1000"))
    assert "Rückwärts" not in {item["title"] for item in listed["items"]}
    assert (await forum_state(service, forum["id"]))["ends_at"] == forum["ends_at"]
