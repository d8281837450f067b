"""Who caused an event: the correlation and causation ids every fact carries."""

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

PRODUCER = "registration"


@dataclass(frozen=True)
class Trace:
    """Correlation id of the chain, the message that caused this one, and when it happened."""

    correlation_id: str
    causation_id: str | None
    now: datetime

    @classmethod
    def fresh(cls, now: datetime, correlation_id: str | None = None) -> "Trace":
        return cls(correlation_id=correlation_id or str(uuid4()), causation_id=None, now=now)

    def envelope_fields(self, key: object) -> dict[str, object]:
        return {
            "key": str(key),
            "producer": PRODUCER,
            "occurred_at": self.now,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }
