"""Schemathesis over the reporting service's /openapi.json (tests/conformance.py), with a
forum in the read models for the reports to show."""

from pathlib import Path

from schemas.envelope import utc_now
from schemas.topics import Topic, topic_name
from tests.conformance import assert_conforms
from tests.fuzz import samples
from tests.integration.notification import scripted_facts
from tests.integration.reporting.conftest import RunningReporting
from tests.kafka_helpers import produce

EXAMPLES_PER_OPERATION = 20


async def test_the_api_answers_as_its_document_says(
    reporting: RunningReporting, tmp_path: Path
) -> None:
    settings = reporting.settings
    forum = scripted_facts.forum_scheduled(samples.forum(), utc_now())
    topic = topic_name(Topic.FORUMS, settings.topic_prefix)
    await produce(settings.bootstrap(), topic, forum.to_json(), key=forum.key)
    await reporting.wait_for_events(1)
    await assert_conforms(reporting.base_url, tmp_path, EXAMPLES_PER_OPERATION)
