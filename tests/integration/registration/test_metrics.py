"""`/metrics`: registrations by status and HTTP requests by route template, never by id."""

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, ok, registered

UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REGISTRATIONS = "dialognet_registration_registrations_total"
HTTP_REQUESTS = "dialognet_http_requests_total"


async def scrape(service: RunningService) -> str:
    response = await service.public.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


def value(exposition: str, name: str, **labels: str) -> float:
    """The sample `name` with these labels (0 when absent: counters start unexported)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_registrations_and_requests_are_counted(service: RunningService) -> None:
    # The registry lives as long as the process, so the test counts what it adds.
    before = await scrape(service)
    forum = await new_forum(service, bodies.forum(capacity=3))

    for _ in range(5):
        await registered(service, forum["id"])
    ok(await service.staff.get(f"/v1/forums/{forum['id']}"))

    after = await scrape(service)
    for status, added in (("confirmed", 3), ("waitlisted", 2)):
        counted = value(after, REGISTRATIONS, status=status) - value(
            before, REGISTRATIONS, status=status
        )
        assert counted == added, status
    post = {
        "service": "registration",
        "method": "POST",
        "route": "/v1/forums/{forum_id}/registrations",
        "status": "201",
    }
    assert value(after, HTTP_REQUESTS, **post) - value(before, HTTP_REQUESTS, **post) == 5
    read = value(after, HTTP_REQUESTS, route="/v1/forums/{forum_id}", method="GET", status="200")
    assert read >= 1
    assert forum["id"] not in after
    assert not UUID_PATTERN.search(after), UUID_PATTERN.search(after)
