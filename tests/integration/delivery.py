"""What an outbox relay delivered: dedupe by event_id, order per key against the outbox."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

import asyncpg

from tests.kafka_helpers import ConsumedMessage


def first_deliveries(messages: Iterable[ConsumedMessage]) -> list[ConsumedMessage]:
    """What a consumer that dedupes by `event_id` processes: each event at its first delivery."""
    seen: set[str] = set()
    first = []
    for message in messages:
        event_id = message.value["event_id"]
        if event_id not in seen:
            seen.add(event_id)
            first.append(message)
    return first


def event_ids_by_key(messages: Iterable[ConsumedMessage]) -> dict[str, list[str]]:
    """Event ids per message key, in topic order (one key always lives on one partition)."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for message in messages:
        by_key[message.key or ""].append(message.value["event_id"])
    return dict(by_key)


def outbox_ids_by_key(rows: Sequence[asyncpg.Record]) -> dict[str, list[str]]:
    """Event ids per key in outbox id order; rows need `message_key` and `event_id`, by id."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_key[row["message_key"]].append(str(row["event_id"]))
    return dict(by_key)
