"""The envelope every message carries, and the base of all typed events."""

import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# The fields without which a message is not an envelope at all (it goes to the DLQ).
REQUIRED_ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "producer", "data")


class InvalidEnvelope(ValueError):
    """Not an envelope at all: not JSON, not an object, or a required field missing."""


def decode_envelope(body: bytes) -> dict[str, Any]:
    """The JSON object of a message, or InvalidEnvelope saying what is wrong with it."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEnvelope(f"not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise InvalidEnvelope("not a JSON object")
    missing = [name for name in REQUIRED_ENVELOPE_FIELDS if name not in raw]
    if missing:
        raise InvalidEnvelope(f"missing envelope fields: {', '.join(missing)}")
    return raw


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> UUID:
    return uuid4()


class Payload(BaseModel):
    """Base of every `data` model: immutable; unknown fields from newer producers are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Envelope(BaseModel):
    """Common envelope; `data` is typed by each event class."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # Schema version of `data` each concrete event class publishes.
    VERSION: ClassVar[int] = 1

    event_id: UUID = Field(
        default_factory=new_event_id, description="Unique per event; the idempotency key"
    )
    type: str = Field(description="Event or command type, also sent as Kafka header `type`")
    version: int = Field(default=1, ge=1, description="Schema version of `data`")
    occurred_at: AwareDatetime = Field(
        default_factory=utc_now, description="UTC time of the state change"
    )
    producer: str = Field(
        min_length=1, description="`registration`, `notification` or the intake system"
    )
    key: str = Field(default="", description="Aggregate id; also the Kafka message key")
    correlation_id: str | None = Field(
        default=None, description="Id of the first message in the chain"
    )
    causation_id: str | None = Field(
        default=None, description="Id of the message that caused this one"
    )
    data: Any

    def kafka_key(self) -> bytes | None:
        return self.key.encode() if self.key else None

    def kafka_headers(self) -> dict[str, str]:
        return {"type": self.type, "version": str(self.version)}

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
