"""Facts from a message's bytes: a valid one is the same fact the checked path (decode_envelope,
then validating the dict) makes, and everything the checked path refuses is refused with the
checked path's reason, though most facts never take it."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from schemas.catalog import parse_event
from schemas.envelope import InvalidEnvelope, decode_envelope
from services.reporting.projection.facts import parse_fact
from services.runtime.consumer import Unprocessable


def _registration() -> dict[str, Any]:
    now = datetime(2026, 11, 28, 9, 15, tzinfo=UTC)
    forum_id = str(uuid4())
    return {
        "event_id": str(uuid4()),
        "type": "registration.made",
        "version": 1,
        "occurred_at": now.isoformat(),
        "producer": "registration",
        "key": forum_id,
        "data": {
            "registration_id": str(uuid4()),
            "forum_id": forum_id,
            "organization_id": str(uuid4()),
            "organization_name": "Kulturverein Ünal e.V. 😀",
            "status": "waitlisted",
            "waitlist_position": 3,
            "attendees": 2,
            "forum": {
                "title": "Fachtag",
                "format": "conference",
                "venue": "Rathaus",
                "starts_at": (now + timedelta(days=9)).isoformat(),
                "ends_at": (now + timedelta(days=9, hours=6)).isoformat(),
            },
            "registered_at": now.isoformat(),
            "accessibility_needs": "Rollstuhl",
        },
    }


def _body(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


def test_a_valid_fact_is_the_fact_the_checked_path_makes() -> None:
    body = _body(_registration())

    assert parse_fact(body) == parse_event(decode_envelope(body))


def test_an_escaped_surrogate_pair_is_a_character_not_a_refusal() -> None:
    envelope = _registration()
    body = _body(envelope).replace("😀".encode(), b"\\ud83d\\ude00")

    assert parse_fact(body).data.organization_name == "Kulturverein Ünal e.V. 😀"


def _with(envelope: dict[str, Any], extra: bytes) -> bytes:
    """The envelope with `extra` as the raw JSON text of a field nobody reads."""
    return _body(envelope)[:-1] + b', "ignored": ' + extra + b"}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xef\xbb\xbf" + _with(_registration(), b'"\\ud800"'), "not JSON: a string holds"),
        (_with(_registration(), b'"\\udc00"'), "not JSON: a string holds an unpaired surrogate"),
        (_with(_registration(), b"7" * 4301), "not JSON: a number with more than 4300 digits"),
        (_with(_registration(), b"[" * 2000 + b"]" * 2000), "not JSON: nested too deeply"),
        (_with(_registration(), b'"\xff"'), "not JSON: not UTF-8"),
    ],
)
def test_what_only_the_checked_path_looks_for_is_refused_as_it_refuses_it(
    body: bytes, reason: str
) -> None:
    with pytest.raises(InvalidEnvelope, match=reason):
        parse_fact(body)


def test_a_byte_order_mark_is_read_past_as_the_checked_path_does() -> None:
    body = _body(_registration())

    assert parse_fact(b"\xef\xbb\xbf" + body) == parse_fact(body)


@pytest.mark.parametrize("field", ["event_id", "version", "occurred_at"])
def test_an_envelope_field_the_model_has_a_default_for_is_still_required(field: str) -> None:
    envelope = _registration()
    del envelope[field]

    with pytest.raises(InvalidEnvelope, match=f"missing envelope fields: {field}"):
        parse_fact(_body(envelope))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "intake.rejected"}, "invalid IntakeRejected: data.command_event_id"),
        ({"type": "thing.happened"}, "unknown message type 'thing.happened'"),
        ({"data": {"forum_id": "no uuid"}}, "invalid RegistrationMade: data.registration_id"),
    ],
)
def test_a_fact_reporting_cannot_read_is_unprocessable_with_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unprocessable, match=reason):
        parse_fact(_body({**_registration(), **change}))
