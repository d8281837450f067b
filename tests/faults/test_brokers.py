"""Kafka brokers failing under the stream: one SIGKILLed and started again, the broker leading
the registrations' partitions killed, one paused (SIGSTOP) longer than the session timeouts."""

import pytest

from schemas.topics import Topic, topic_name
from tests.faults.scenario import FaultPlatform

DOWN_SECONDS = 5.0
# Longer than the brokers' session with the controller (broker.session.timeout.ms, 9 s) and the
# consumers' with their group (6 s here): the cluster fences the paused broker.
PAUSED_SECONDS = 12.0


@pytest.mark.timeout(600)
async def test_a_broker_killed_and_started_again(faults: FaultPlatform) -> None:
    (moment,) = faults.moments(1)

    async def inject() -> None:
        await faults.stream.reached(moment)
        await _killed_and_started(faults, faults.chance.choice(faults.cluster.nodes).node_id)

    await faults.segment(inject)


@pytest.mark.timeout(600)
async def test_the_partition_leaders_broker_killed(faults: FaultPlatform) -> None:
    (moment,) = faults.moments(1)
    topic = topic_name(Topic.REGISTRATIONS, faults.observed.topic_prefix)

    async def inject() -> None:
        await faults.stream.reached(moment)
        leaders = list((await faults.cluster.leaders(topic)).values())
        # The one leading most partitions: every producer and consumer of them must move.
        await _killed_and_started(faults, max(set(leaders), key=leaders.count), "leaders' ")

    await faults.segment(inject)


@pytest.mark.timeout(600)
async def test_a_broker_paused_longer_than_the_session_timeout(faults: FaultPlatform) -> None:
    (moment,) = faults.moments(1)

    async def inject() -> None:
        await faults.stream.reached(moment)
        node = faults.chance.choice(faults.cluster.nodes).node_id
        faults.cluster.pause(node)
        await faults.hold(PAUSED_SECONDS)
        faults.cluster.resume(node)
        faults.restored("broker SIGSTOP 12 s", f"broker {node}")

    await faults.segment(inject)


async def _killed_and_started(faults: FaultPlatform, node: int, which: str = "") -> None:
    faults.cluster.kill(node)
    await faults.hold(DOWN_SECONDS)
    faults.cluster.start(node)
    await faults.cluster.wait_ready()
    faults.restored(f"{which}broker SIGKILL", f"broker {node}")
