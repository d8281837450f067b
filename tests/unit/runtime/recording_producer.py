"""A stand-in for the aiokafka producer consumers dead-letter with (TestKafkaBroker does not patch
it): keeps what was sent, and can fail the first sends."""

from typing import Any

from aiokafka.errors import KafkaConnectionError

from services.runtime.deadletter import Headers


class RecordingProducer:
    """Keeps each sent message (headers as a dict); fails the first `failures` with `error`."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self._failures = failures
        self._error = error or KafkaConnectionError("broker gone")

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, *, headers: Headers
    ) -> None:
        if self._failures:
            self._failures -= 1
            raise self._error
        self.sent.append({"topic": topic, "value": value, "key": key, "headers": dict(headers)})
