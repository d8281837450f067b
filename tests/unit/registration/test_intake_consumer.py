"""The intake consumer's envelope decoding, dead-lettering on FastStream's in-memory broker, and
the bounds of what a rejection echoes."""

import json
from typing import Any, cast

import pytest
from faststream.kafka import TestKafkaBroker
from pydantic import ValidationError

from schemas.catalog import UnknownType
from schemas.envelope import REQUIRED_ENVELOPE_FIELDS, InvalidEnvelope, decode_envelope
from schemas.intake import IntakeRejected
from services.registration.app import subscribe_intake
from services.registration.intake import (
    MAX_ECHOED_CHARS,
    MAX_ECHOED_ERRORS,
    IntakeConsumer,
    parse_command,
    rejection_for,
)
from services.registration.services import Services
from services.runtime.host import ServiceHost, build_broker
from services.runtime.settings import Settings
from tests.unit.runtime.recording_producer import RecordingProducer

ENVELOPE = {
    "event_id": "5d0a3c1e-4a56-4f0c-9c2c-0d8b2a8f4e11",
    "type": "register",
    "version": 1,
    "occurred_at": "2026-05-04T10:00:00+00:00",
    "producer": "portal",
    "key": "",
    "correlation_id": None,
    "causation_id": None,
    "data": {},
}


def test_a_complete_envelope_decodes_to_its_object() -> None:
    assert decode_envelope(b'{"extra": 1, ' + _json(ENVELOPE)[1:]) == {"extra": 1, **ENVELOPE}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\x00\xff", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"register"', "not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON: nested too deeply"),
        (b'{"a": -' + b"9" * 5000 + b"}", "not JSON: a number with more than 4300 digits"),
        (b'{"producer": "caf\xe9"}', "not JSON: not UTF-8"),  # Latin-1, not UTF-8
        ('{"a": 1}'.encode("utf-16"), "not JSON: not UTF-8"),  # json.loads would take it
        (b'{"producer": "\\ud800"}', "not JSON: a string holds an unpaired surrogate"),
    ],
)
def test_what_is_not_a_json_object_is_invalid(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidEnvelope, match=reason):
        decode_envelope(body)


@pytest.mark.parametrize("field", REQUIRED_ENVELOPE_FIELDS)
def test_each_required_field_is_named_when_missing(field: str) -> None:
    incomplete = {name: value for name, value in ENVELOPE.items() if name != field}
    with pytest.raises(InvalidEnvelope) as refused:
        decode_envelope(_json(incomplete))
    assert str(refused.value) == f"missing envelope fields: {field}"


def test_a_leading_byte_order_mark_is_ignored() -> None:
    assert decode_envelope(b"\xef\xbb\xbf" + _json(ENVELOPE)) == ENVELOPE


def test_key_and_correlation_may_be_absent() -> None:
    minimal = {name: ENVELOPE[name] for name in REQUIRED_ENVELOPE_FIELDS}
    assert decode_envelope(_json(minimal)) == minimal


def test_an_escaped_surrogate_pair_is_a_character_and_decodes() -> None:
    escaped = _json({**ENVELOPE, "producer": "portal \U0001f600"})  # ensure_ascii: \ud83d\ude00
    assert b"\\ud83d\\ude00" in escaped
    assert decode_envelope(escaped)["producer"] == "portal \U0001f600"


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


class UntouchableService:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"an invalid envelope must not reach the service ({name})")


async def _consume(service: object, body: bytes, key: bytes) -> RecordingProducer:
    """Run the intake consumer as the service subscribes it, on FastStream's test broker."""
    settings = Settings(kafka_bootstrap="localhost:9092", topic_prefix="unit.")
    producer = RecordingProducer()
    broker = build_broker(settings, "registration")
    consumer = IntakeConsumer(cast(Services, service))
    # Only what subscribing uses: the broker, the settings and the dead-letter producer.
    host = ServiceHost(
        service="registration",
        settings=settings,
        pool=cast(Any, None),
        access=cast(Any, None),
        producer=cast(Any, producer),
        broker=broker,
        relay=cast(Any, None),
    )
    subscribe_intake(host, consumer)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(body, "unit.intake", key=key)
    return producer


async def test_a_non_json_message_is_dead_lettered_with_its_reason() -> None:
    producer = await _consume(UntouchableService(), b"\x00 not json", b"forum-1")

    [dead] = producer.sent
    assert dead["topic"] == "unit.intake.dlq"
    assert dead["value"] == b"\x00 not json"
    assert dead["key"] == b"forum-1"
    assert dead["headers"]["error"].startswith(b"not JSON")
    assert dead["headers"]["source-topic"] == b"unit.intake"
    assert dead["headers"]["consumer"] == b"registration-intake"


class CrashingService:
    """A service whose every call fails in a way that is neither transient nor a rule."""

    def __getattr__(self, name: str) -> Any:
        async def crash(*_: Any, **__: Any) -> None:
            raise RuntimeError("bug in the handler")

        return crash


class CrashingServices:
    """Every command service crashes; the pool is never reached before the command runs."""

    pool = None

    def __getattr__(self, name: str) -> Any:
        return CrashingService()


async def test_a_message_that_crashes_the_handler_is_dead_lettered_not_skipped() -> None:
    command = {
        **ENVELOPE,
        "type": "declare_interest",
        "data": {"organization_id": "0b6f3c9e-6a41-4f67-8a53-2f3f5d9a0c11"},
    }

    producer = await _consume(CrashingServices(), _json(command), b"org-1")

    [dead] = producer.sent
    assert dead["topic"] == "unit.intake.dlq"
    assert dead["value"] == _json(command)
    assert b"bug in the handler" in dead["headers"]["error"]


def _rejected(raw: dict[str, Any]) -> IntakeRejected:
    """The rejection the consumer records for a command it refuses."""
    try:
        parse_command(raw)
    except (UnknownType, ValidationError) as error:
        return rejection_for(raw, error)
    raise AssertionError("the command was not refused")


def test_a_rejection_echoes_a_huge_type_bounded() -> None:
    huge = "€" * 200_000  # ~600 kB in UTF-8, the probe

    rejection = _rejected({**ENVELOPE, "type": huge, "key": huge})

    data = rejection.data
    assert data.command_type == "€" * (MAX_ECHOED_CHARS - 1) + "…"
    assert len(rejection.key) == MAX_ECHOED_CHARS
    assert len(data.reason) <= MAX_ECHOED_CHARS
    assert data.reason.startswith("unknown message type '€€€")
    assert len(rejection.to_json()) < 3_000


def test_a_rejection_bounds_the_producer_and_each_error() -> None:
    contact = {"name": "Kim", "email": "@" * 50_000}
    data = {"forum_id": "f" * 50_000, "contact": contact, "consent": True}
    raw = {**ENVELOPE, "producer": "p" * 200_000, "data": data}

    rejection = _rejected(raw)

    assert rejection.data.producer == "p" * (MAX_ECHOED_CHARS - 1) + "…"
    errors = rejection.data.errors
    assert {"producer", "data.contact.email", "data.forum_id"} <= {e.field for e in errors}
    assert all(len(e.field) <= MAX_ECHOED_CHARS for e in errors)
    assert all(len(e.message) <= MAX_ECHOED_CHARS for e in errors)
    assert len(rejection.to_json()) < 10_000


def test_a_rejection_lists_at_most_twenty_errors_and_says_how_many_more() -> None:
    schedule = {**ENVELOPE, "type": "schedule_forum", "data": {"topics": list(range(25))}}

    rejection = _rejected(schedule)

    errors = rejection.data.errors
    assert len(errors) == MAX_ECHOED_ERRORS
    assert "data.topics.0" in {e.field for e in errors}
    unlisted = int(rejection.data.reason.removeprefix("invalid command (").split()[0])
    assert rejection.data.reason == f"invalid command ({unlisted} more errors not listed)"
    assert unlisted >= 5  # 25 topics that are no text, and the required fields missing
