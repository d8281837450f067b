"""Which producer errors refuse an event for good: only those about the event itself."""

import pytest
from aiokafka import errors

from services.runtime.refusals import Refusal, refusal_of


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (errors.MessageSizeTooLargeError("The message is 1800356 bytes"), "too_large"),
        (errors.RecordListTooLargeError(), "too_large"),
        (errors.InvalidTopicError(), "invalid_topic"),
        (errors.CorruptRecordException(), "invalid_record"),
    ],
)
def test_errors_about_the_event_refuse_it_for_good(error: Exception, reason: str) -> None:
    refusal = refusal_of(error)

    assert refusal is not None
    assert refusal.reason == reason


@pytest.mark.parametrize(
    "error",
    [
        errors.RequestTimedOutError(),  # retriable, by aiokafka's classification
        errors.NotEnoughReplicasError(),
        errors.LeaderNotAvailableError(),
        errors.KafkaConnectionError(),
        errors.KafkaTimeoutError(),  # not retriable to aiokafka, but about the broker
        errors.TopicAuthorizationFailedError(),
        errors.UnknownError(),
        errors.ProducerClosed(),
        ValueError("not a Kafka error"),
    ],
)
def test_errors_about_the_client_or_the_cluster_are_transient(error: Exception) -> None:
    assert refusal_of(error) is None


def test_a_brokers_invalid_record_answer_is_a_refusal() -> None:
    # Kafka's INVALID_RECORD (87), which aiokafka 0.14 alone would report as UnknownError.
    answer = errors.for_code(87)()

    assert refusal_of(answer) == Refusal(
        "invalid_record",
        "InvalidRecordError: The record failed the broker's validation (e.g. no key on a"
        " compacted topic).",
    )


def test_the_detail_is_the_errors_message_or_its_description() -> None:
    too_large = refusal_of(errors.MessageSizeTooLargeError("The message is 1800356 bytes"))
    from_broker = refusal_of(errors.RecordListTooLargeError())

    assert str(too_large) == "too_large: MessageSizeTooLargeError: The message is 1800356 bytes"
    assert str(from_broker).startswith("too_large: RecordListTooLargeError: If a message batch")
