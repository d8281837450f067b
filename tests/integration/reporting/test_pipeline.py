"""What the pipeline does with bad input and who may read: a malformed message and a fact with
an invalid payload go to the dead-letter topic with the reason and are counted, the service goes
on with the next event; the reports refuse requests without a staff token; a stopped service
leaves none of its numbers behind in the process."""

import json
from uuid import uuid4

from prometheus_client import REGISTRY, generate_latest

from schemas.envelope import utc_now
from schemas.forums import ForumScheduled, ForumSnapshot
from schemas.topics import Topic, dlq_name, topic_name
from services.runtime.settings import Settings
from tests.integration.reporting.conftest import (
    RunningReporting,
    reporting_settings,
    running_reporting,
)
from tests.kafka_helpers import consume_until, produce


def _forum(title: str) -> ForumScheduled:
    now = utc_now()
    forum_id = uuid4()
    return ForumScheduled(
        producer="registration",
        key=str(forum_id),
        data=ForumSnapshot(
            forum_id=forum_id, format="forum", title=title, topics=["Dialog"], venue="Rathaus",
            starts_at=now, ends_at=now, registration_deadline=now, capacity=30,
            audience="open", status="scheduled",
        ),
    )  # fmt: skip


async def test_malformed_events_are_dead_lettered_and_the_next_is_applied(
    reporting: RunningReporting,
) -> None:
    settings = reporting.settings
    bootstrap, prefix = settings.kafka_bootstrap or "", settings.topic_prefix
    forums = topic_name(Topic.FORUMS, prefix)
    await produce(bootstrap, forums, b"{not json", key="k")
    invalid = json.loads(_forum("x").to_json())
    invalid["data"]["capacity"] = "viele"
    await produce(bootstrap, forums, invalid, key="k")
    good = _forum("Forum nach den Fehlern")
    await produce(bootstrap, forums, good.to_json(), key="k")

    letters = await consume_until(bootstrap, dlq_name(Topic.FORUMS, prefix), 2, timeout=30)
    errors = sorted(letter.headers["error"] for letter in letters)
    assert errors[0].startswith("invalid ForumScheduled: data.capacity")
    assert errors[1].startswith("not JSON")
    assert {letter.headers["consumer"] for letter in letters} == {"reporting"}
    await reporting.wait_for_events(1)
    forum = await reporting.report(f"forums/{good.data.forum_id}")
    assert forum["title"] == "Forum nach den Fehlern"
    samples = await reporting.samples("dialognet_reporting_dead_letters_total")
    assert samples == {("dialognet_reporting_dead_letters_total", (("topic", forums),)): 2.0}


async def test_reports_need_a_staff_token(reporting: RunningReporting) -> None:
    for path in ("network", "forums", "funnel", "emails", f"forums/{uuid4()}"):
        anonymous = await reporting.public.get(f"/v1/reports/{path}")
        assert anonymous.status_code == 401, path
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        wrong = await reporting.public.get(
            f"/v1/reports/{path}", headers={"Authorization": "Bearer not-a-token"}
        )
        assert wrong.status_code == 401, path
    forged = await reporting.public.get(
        "/v1/reports/network",
        headers={"Cookie": f"dialognet_session=9999999999.{'0' * 64}.{'0' * 64}"},
    )
    assert forged.status_code == 401
    assert "organizations_total" not in forged.text


async def test_bad_report_parameters_are_named(reporting: RunningReporting) -> None:
    cases = {
        "/v1/reports/network?from=gestern": "from",
        "/v1/reports/funnel?from=2026-05-02&to=2026-05-01": "to",
        "/v1/reports/forums?format=xml": "format",
        "/v1/reports/forums?format=csv&lang=fr": "lang",
        "/v1/reports/network?format=csv&table=nothing": "table",
        "/v1/reports/forums/not-a-uuid": "forum_id",
    }
    for path, field in cases.items():
        response = await reporting.staff.get(path)
        assert response.status_code == 422, path
        assert field in [error["field"] for error in response.json()["errors"]], path
    unknown = await reporting.staff.get(f"/v1/reports/forums/{uuid4()}")
    assert unknown.status_code == 404


async def test_a_stopped_service_leaves_no_numbers_in_the_process_registry(
    settings: Settings,
) -> None:
    """The metrics registry is the process's: another service served from it after this one
    (registration, in the same test process) must not export a forum's id."""
    async with running_reporting(reporting_settings(settings)) as reporting:
        forum = _forum("Angesetzt vor dem Halt")
        await produce(
            settings.kafka_bootstrap or "",
            topic_name(Topic.FORUMS, settings.topic_prefix),
            forum.to_json(),
            key=forum.key,
        )
        await reporting.wait_for_events(1)
        assert str(forum.data.forum_id) in await reporting.metrics_text()
    assert str(forum.data.forum_id) not in generate_latest(REGISTRY).decode()
