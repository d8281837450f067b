"""`/metrics`: registrations by status, refusals by reason, HTTP requests by route template,
never by id."""

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.intake_commands import register_command
from tests.integration.registration.steps import (
    HTTP_REQUESTS,
    metric_value,
    new_forum,
    ok,
    registered,
    scrape_metrics,
)
from tests.kafka_helpers import produce
from tests.polling import until

UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REGISTRATIONS = "dialognet_registration_registrations_total"


async def test_registrations_and_requests_are_counted(service: RunningService) -> None:
    # The registry lives as long as the process, so the test counts what it adds.
    before = await scrape_metrics(service)
    forum = await new_forum(service, bodies.forum(capacity=3))

    for _ in range(5):
        await registered(service, forum["id"])
    ok(await service.staff.get(f"/v1/forums/{forum['id']}"))

    after = await scrape_metrics(service)
    for status, added in (("confirmed", 3), ("waitlisted", 2)):
        counted = metric_value(after, REGISTRATIONS, status=status) - metric_value(
            before, REGISTRATIONS, status=status
        )
        assert counted == added, status
    post = {
        "service": "registration",
        "method": "POST",
        "route": "/v1/forums/{forum_id}/registrations",
        "status": "201",
    }
    assert (
        metric_value(after, HTTP_REQUESTS, **post) - metric_value(before, HTTP_REQUESTS, **post)
        == 5
    )
    read = metric_value(
        after, HTTP_REQUESTS, route="/v1/forums/{forum_id}", method="GET", status="200"
    )
    assert read >= 1
    assert forum["id"] not in after
    assert not UUID_PATTERN.search(after), UUID_PATTERN.search(after)


REJECTIONS = "dialognet_registration_rejections_total"


async def test_refusals_over_http_and_intake_share_one_vocabulary(service: RunningService) -> None:
    before = await scrape_metrics(service)
    missing = "7f1c7a52-1d1b-4a47-9a8e-6a3c1e0c9a11"
    assert (await service.staff.get(f"/v1/forums/{missing}")).status_code == 404
    await produce(
        service.settings.bootstrap(),
        f"{service.settings.topic_prefix}intake",
        register_command(missing, "nobody@example.org"),
        key="vocabulary",
    )

    async def both_counted() -> bool:
        after = await scrape_metrics(service)
        return (
            metric_value(after, REJECTIONS, reason="not_found")
            - metric_value(before, REJECTIONS, reason="not_found")
            == 2
        )

    await until(both_counted, 15.0, "an HTTP and an intake not_found counted alike")
    labels = {
        sample.labels["reason"]
        for family in text_string_to_metric_families(await scrape_metrics(service))
        for sample in family.samples
        if sample.name == REJECTIONS
    }
    assert labels <= {"not_found", "unauthenticated", "forbidden", "conflict", "invalid"}, labels
