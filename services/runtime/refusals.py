"""Which producer errors refuse one event for good, and the bounded reason class they get."""

from dataclasses import dataclass

from aiokafka import errors
from aiokafka.errors import BrokerResponseError

TOO_LARGE = "too_large"
INVALID_TOPIC = "invalid_topic"
INVALID_RECORD = "invalid_record"


class InvalidRecordError(BrokerResponseError):  # type: ignore[misc]  # aiokafka is untyped
    """Kafka's INVALID_RECORD: the broker validated the record and refused it."""

    errno = 87
    message = "INVALID_RECORD"
    description = "The record failed the broker's validation (e.g. no key on a compacted topic)."


# aiokafka 0.14 does not know code 87 and reports it as UnknownError, which also stands for
# passing faults of the server; registered so that a broker's refusal of the record is seen.
errors.kafka_errors.setdefault(InvalidRecordError.errno, InvalidRecordError)

# By error code, so a class a later aiokafka defines for the same code counts too.
REFUSED_FOR_GOOD = {
    errors.MessageSizeTooLargeError.errno: TOO_LARGE,  # by send() itself, or by the broker
    errors.RecordListTooLargeError.errno: TOO_LARGE,
    errors.InvalidTopicError.errno: INVALID_TOPIC,
    errors.CorruptRecordException.errno: INVALID_RECORD,
    InvalidRecordError.errno: INVALID_RECORD,
}


@dataclass(frozen=True)
class Refusal:
    """Why one event cannot be published: a bounded reason class and what the error said."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def refusal_of(error: BaseException) -> Refusal | None:
    """The refusal when the broker or the client refuses this event for good, else None.

    aiokafka's own classification first: a `retriable` error is never final. Of the errors it
    does not retry, only those of REFUSED_FOR_GOOD name the event itself; the others are about
    the client, the cluster or its configuration (a timeout, a closed producer, a failed
    authentication, a missing ACL, an unknown server error) and would refuse every event
    alike, so they are transient to the relay: its round is retried, nothing is marked failed.
    """
    if not isinstance(error, BrokerResponseError) or error.retriable:
        return None
    reason = REFUSED_FOR_GOOD.get(error.errno)
    return Refusal(reason, _described(error)) if reason else None


def _described(error: BrokerResponseError) -> str:
    # Broker answers come without a message (str() would be "[Error 10] "): their description.
    detail = " ".join(str(arg) for arg in error.args) or error.description
    return f"{type(error).__name__}: {detail}"


def not_allowed_to_write(error: BaseException) -> str | None:
    """What the broker's refusal to let this service's user write says, for people; None for
    any other error. aiokafka names the topic (when it knows it) as the error's argument."""
    if not isinstance(error, errors.TopicAuthorizationFailedError):
        return None
    topics = ", ".join(str(arg) for arg in error.args) or "a topic it publishes to"
    return (
        f"the broker does not allow this service's Kafka user to write {topics} "
        "(TopicAuthorizationFailed): it needs the WRITE ACL there, or the service runs as "
        "another service's user"
    )
