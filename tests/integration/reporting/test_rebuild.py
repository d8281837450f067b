"""`dialognet reporting rebuild`: the same numbers as before; the service answers with the old
numbers while it runs and takes in what arrives meanwhile; it refuses to swap in fewer events
than the live models hold (a broker that lost them)."""

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from schemas.topics import Topic, topic_name
from services.reporting.rebuild import RebuildRefused, rebuild
from services.runtime.settings import Settings
from tests.conftest import Infra
from tests.integration.reporting import history
from tests.integration.reporting.conftest import (
    RunningReporting,
    every_report,
    read_model_metrics,
)
from tests.integration.reporting.test_pipeline import _forum
from tests.kafka_helpers import produce
from tests.service_process import settings_env

GENERATION = "dialognet_reporting_read_model_generation"


@dataclass(frozen=True)
class Live:
    settings: Settings
    reporting: RunningReporting
    events: int


@pytest.fixture(scope="module")
async def live(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    async with history.made_live(infra, tmp_path_factory.mktemp("rebuild")) as made:
        yield Live(made.reporting.settings, made.reporting, len(made.facts))


def _without_generation(metrics: dict[Any, float]) -> dict[Any, float]:
    return {key: value for key, value in metrics.items() if key[0] != GENERATION}


async def test_a_rebuild_answers_old_numbers_until_it_swaps_and_misses_nothing(live: Live) -> None:
    reporting = live.reporting
    before = await every_report(reporting)
    metrics_before = await read_model_metrics(reporting)
    during: list[Any] = []
    arrived = _forum("Angesetzt während des Neuaufbaus")
    answered_meanwhile: list[Any] = []

    def watch(read: int, total: int) -> None:
        during.append((read, total))

    async def caught_up() -> None:
        # The new generation is complete, not yet swapped: the service answers from the old
        # one; an event published now is beyond the end offsets the rebuild read up to.
        answered_meanwhile.append(await every_report(reporting))
        await produce(
            live.settings.kafka_bootstrap or "",
            topic_name(Topic.FORUMS, live.settings.topic_prefix),
            arrived.to_json(),
            key=arrived.key,
        )

    result = await rebuild(live.settings, watch, on_caught_up=caught_up)
    assert answered_meanwhile == [before]
    assert result.generation == 2
    # The bar ends full; Tansu may tell an end offset short of the last batch, and what is read
    # past it is counted in the result.
    assert during[-1][0] == during[-1][1]
    assert result.messages >= live.events
    await reporting.wait_for_events(live.events + 1)
    after = await every_report(reporting)
    new_forum = after.pop(f"forums/{arrived.data.forum_id}")
    assert new_forum["title"] == "Angesetzt während des Neuaufbaus"
    after["forums"]["forums"] = [
        forum
        for forum in after["forums"]["forums"]
        if forum["forum_id"] != str(arrived.data.forum_id)
    ]
    assert after == before
    metrics_after = {
        key: value
        for key, value in (await read_model_metrics(reporting)).items()
        if ("forum_id", str(arrived.data.forum_id)) not in key[1]
    }
    assert metrics_after[(GENERATION, ())] == 2
    changed = {
        key for key in set(metrics_before) | set(metrics_after)
        if metrics_before.get(key) != metrics_after.get(key)
    }  # fmt: skip
    assert {key[0] for key in changed} <= {
        GENERATION,
        "dialognet_reporting_events_total",
        "dialognet_reporting_last_event_timestamp_seconds",
        "dialognet_reporting_forums",
    }


async def test_the_command_shows_progress_and_swaps(live: Live) -> None:
    metrics_before = _without_generation(await read_model_metrics(live.reporting))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DIALOGNET_")},
        **settings_env(live.settings),
        "COLUMNS": "100",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "services.cli", "reporting", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert "reading the topics" in finished.stdout
    assert "generation 3 is live, 2 removed" in finished.stdout
    metrics_after = await read_model_metrics(live.reporting)
    assert metrics_after[(GENERATION, ())] == 3
    assert _without_generation(metrics_after) == metrics_before


async def test_no_swap_when_the_topics_lost_events(live: Live, infra: Infra) -> None:
    empty = live.settings.model_copy(update={"topic_prefix": f"t{secrets.token_hex(4)}."})
    from services.runtime.kafka_topics import ensure_topics

    await ensure_topics(empty)
    with pytest.raises(RebuildRefused, match="dialognet replay"):
        await rebuild(empty)
    samples = await live.reporting.samples(GENERATION)
    assert samples == {(GENERATION, ()): 3.0}
    assert (await live.reporting.report("network"))["organizations_total"] == 15
