"""The service starts on real infrastructure and answers health and a first registration."""

from tests.integration.conftest import RunningService
from tests.kafka_helpers import consume_until

FORUM = {
    "format": "forum",
    "title": "Forum Racial Profiling",
    "topics": ["racial profiling"],
    "venue": "Rathaus",
    "starts_at": "2030-03-10T10:00:00+01:00",
    "ends_at": "2030-03-10T16:00:00+01:00",
    "registration_deadline": "2030-03-07T23:59:00+01:00",
    "capacity": 10,
    "audience": "open",
}


async def test_ready_and_registration_fact_published(registration: RunningService) -> None:
    ready = await registration.public.get("/health/ready")
    assert ready.status_code == 200, ready.text
    forum = (await registration.staff.post("/v1/forums", json=FORUM)).json()
    made = await registration.public.post(
        f"/v1/forums/{forum['id']}/registrations",
        json={
            "organization": {"name": "Jugendtreff", "kind": "youth_organization"},
            "contact": {"name": "Ana", "email": "ana@example.org"},
            "attendees": 2,
            "consent": True,
        },
    )
    assert made.status_code == 201, made.text
    prefix = registration.settings.topic_prefix
    facts = await consume_until(
        registration.settings.bootstrap(),
        f"{prefix}registrations",
        lambda message: message.value["data"]["registration_id"] == made.json()["id"],
    )
    assert facts[-1].headers["type"] == "registration.made"
    assert facts[-1].key == forum["id"]
