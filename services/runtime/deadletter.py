"""Dead-letter publishing: a message that can never succeed is parked with the reason why."""

from aiokafka import AIOKafkaProducer

MAX_ERROR_HEADER_BYTES = 1000


async def send_to_dlq(
    producer: AIOKafkaProducer,
    *,
    dlq_topic: str,
    source_topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    error: str,
) -> None:
    headers = [
        ("error", error.encode()[:MAX_ERROR_HEADER_BYTES]),
        ("source-topic", source_topic.encode()),
        ("source-partition", str(partition).encode()),
        ("source-offset", str(offset).encode()),
    ]
    await producer.send_and_wait(dlq_topic, value=value, key=key, headers=headers)
