"""A consumer group's lag as the broker sees it: per partition, the end offset minus the
group's committed offset. The same answer from every replica and after a restart, unlike a
gauge each consumer sets for the partitions it happens to own."""

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition

from services.runtime import kafka
from services.runtime.settings import Settings


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group has committed nothing there yet
    end: int
    lag: int


class GroupLag:
    """Asks the broker; open once (`start`), ask as often as needed, `stop` at the end."""

    def __init__(self, settings: Settings) -> None:
        self._admin = kafka.new_admin(settings)
        # No group: it only reads offsets, it never joins or commits.
        self._offsets = kafka.new_consumer(settings, group_id=None)

    async def start(self) -> None:
        await self._admin.start()
        await self._offsets.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self._offsets.stop()
        with contextlib.suppress(Exception):
            await self._admin.close()

    async def of(self, group_id: str, topics: Sequence[str]) -> list[PartitionLag]:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in sorted(await self._partitions(topic))
        ]
        committed = await self._admin.list_consumer_group_offsets(group_id, partitions=partitions)
        beginnings = await self._offsets.beginning_offsets(partitions)
        ends = await self._offsets.end_offsets(partitions)
        lags = []
        for partition in partitions:
            offset = committed.get(partition)
            position = offset.offset if offset is not None and offset.offset >= 0 else None
            start = position if position is not None else beginnings[partition]
            end = ends[partition]
            lags.append(
                PartitionLag(
                    partition.topic, partition.partition, position, end, max(end - start, 0)
                )
            )
        return lags

    async def _partitions(self, topic: str) -> set[int]:
        known = self._offsets.partitions_for_topic(topic)
        if not known:
            await self._offsets.topics()  # refreshes the metadata
            known = self._offsets.partitions_for_topic(topic)
        return set(known or ())
