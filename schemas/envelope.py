"""The envelope every message carries, and the base of all typed events."""

import json
import re
import sys
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# The fields without which a message is not an envelope at all (it goes to the DLQ).
REQUIRED_ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "producer", "data")

# Limits of the envelope's free strings: far above any real value (types are short names, ids
# are UUIDs or hashes), low enough that nothing echoing them can grow without bound.
MAX_TYPE_LENGTH = 100
MAX_PRODUCER_LENGTH = 100
MAX_ID_LENGTH = 200
# A sane range for occurred_at: a year-1 time with an offset overflows when converted to UTC.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


class InvalidEnvelope(ValueError):
    """Not an envelope at all: not JSON, not an object, or a required field missing."""


def decode_envelope(body: bytes) -> dict[str, Any]:
    """The JSON object of a message, or InvalidEnvelope saying what is wrong with it."""
    raw = _json_value(body)
    if not isinstance(raw, dict):
        raise InvalidEnvelope("not a JSON object")
    missing = [name for name in REQUIRED_ENVELOPE_FIELDS if name not in raw]
    if missing:
        raise InvalidEnvelope(f"missing envelope fields: {', '.join(missing)}")
    return raw


def _json_value(body: bytes) -> Any:
    """json.loads, refusing with InvalidEnvelope what it cannot decode safely."""
    try:
        # UTF-8 only (RFC 8259 between systems): json.loads of bytes would also guess UTF-16/32.
        # A leading byte order mark is ignored, as RFC 8259 allows (editors write one).
        text = body.decode("utf-8-sig")
        value = json.loads(text)
    except UnicodeDecodeError as error:
        raise InvalidEnvelope(f"not JSON: not UTF-8 ({error})") from error
    except json.JSONDecodeError as error:
        raise InvalidEnvelope(f"not JSON: {error}") from error
    except RecursionError as error:
        raise InvalidEnvelope("not JSON: nested too deeply") from error
    except ValueError as error:  # Python's int-string limit, 4300 digits
        raise InvalidEnvelope(
            f"not JSON: a number with more than {sys.get_int_max_str_digits()} digits"
        ) from error
    if _SURROGATE_ESCAPE.search(text):
        _refuse_unpaired_surrogates(value)
    return value


# `\ud800`-`\udfff` in the text: only then can a decoded string hold an unpaired surrogate,
# which is no character: it cannot be encoded as UTF-8 (for the database or a reply event).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _refuse_unpaired_surrogates(value: Any) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidEnvelope("not JSON: a string holds an unpaired surrogate") from error
    except RecursionError as error:
        raise InvalidEnvelope("not JSON: nested too deeply") from error


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
    type: str = Field(
        max_length=MAX_TYPE_LENGTH,
        description="Event or command type, also sent as Kafka header `type`",
    )
    version: int = Field(default=1, ge=1, description="Schema version of `data`")
    occurred_at: AwareDatetime = Field(
        default_factory=utc_now,
        description=f"UTC time of the state change, in the years {EARLIEST_YEAR}-{LATEST_YEAR}",
    )
    producer: str = Field(
        min_length=1,
        max_length=MAX_PRODUCER_LENGTH,
        description="`registration`, `notification` or the intake system",
    )
    key: str = Field(
        default="",
        max_length=MAX_ID_LENGTH,
        description="Aggregate id; also the Kafka message key",
    )
    correlation_id: str | None = Field(
        default=None, max_length=MAX_ID_LENGTH, description="Id of the first message in the chain"
    )
    causation_id: str | None = Field(
        default=None,
        max_length=MAX_ID_LENGTH,
        description="Id of the message that caused this one",
    )
    data: Any

    @field_validator("version")
    @classmethod
    def _version_known(cls, version: int) -> int:
        # A newer version of `data` may mean something else in the same fields (a breaking
        # change is a new version): read as this one, it would be applied wrongly. Refused, it
        # is dead-lettered and kept for a consumer that knows it (found by tests/fuzz).
        if version != cls.VERSION:
            raise ValueError(f"version {version} is not known here (this type has {cls.VERSION})")
        return version

    @field_validator("occurred_at")
    @classmethod
    def _occurred_in_sane_range(cls, occurred_at: datetime) -> datetime:
        if not EARLIEST_YEAR <= occurred_at.year <= LATEST_YEAR:
            raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
        return occurred_at

    def kafka_key(self) -> bytes | None:
        return self.key.encode() if self.key else None

    def kafka_headers(self) -> dict[str, str]:
        return {"type": self.type, "version": str(self.version)}

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
