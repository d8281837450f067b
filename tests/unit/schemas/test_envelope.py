"""Envelope basics every message model and topic name must keep."""

from typing import Literal, get_args, get_origin

import pytest
from pydantic import ValidationError

from schemas.catalog import EVENT_TYPES
from schemas.envelope import Envelope
from schemas.topics import all_topics

ENVELOPE_FIELDS = {
    "event_id",
    "type",
    "version",
    "occurred_at",
    "producer",
    "key",
    "correlation_id",
    "causation_id",
    "data",
}


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_message_model_is_an_envelope_of_its_catalog_type(type_name: str) -> None:
    cls = EVENT_TYPES[type_name]

    assert issubclass(cls, Envelope)
    assert set(cls.model_fields) == ENVELOPE_FIELDS
    annotation = cls.model_fields["type"].annotation
    assert get_origin(annotation) is Literal
    assert get_args(annotation) == (type_name,)
    assert cls.model_fields["type"].default == type_name
    assert cls.model_fields["data"].annotation is not Envelope.model_fields["data"].annotation


def test_all_topics_include_commands_facts_rejections_and_dead_letters() -> None:
    names = all_topics()

    assert {
        "dialognet.intake",
        "dialognet.intake.dlq",
        "dialognet.registrations",
        "dialognet.intake.rejected",
    } <= set(names)


COMMAND = {
    "event_id": "3f0b8f52-8d0e-4c55-9a4e-0d3c1b1e2a10",
    "type": "declare_interest",
    "version": 1,
    "occurred_at": "2026-11-28T09:15:00Z",
    "producer": "web-portal",
    "key": "",
    "data": {"organization_id": "0b6f3c9e-6a41-4f67-8a53-2f3f5d9a0c11"},
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("producer", "p" * 101),
        ("key", "k" * 201),
        ("correlation_id", "c" * 201),
        ("causation_id", "c" * 201),
    ],
)
def test_the_envelope_free_strings_are_bounded(field: str, value: str) -> None:
    cls = EVENT_TYPES["declare_interest"]
    cls.model_validate({**COMMAND, field: value[:-1]})  # at the limit: valid

    with pytest.raises(ValidationError) as refused:
        cls.model_validate({**COMMAND, field: value})

    [error] = refused.value.errors()
    assert error["loc"] == (field,)
    assert "at most" in error["msg"]


def test_the_base_envelope_type_is_bounded() -> None:
    with pytest.raises(ValidationError, match="at most 100 characters"):
        Envelope.model_validate({**COMMAND, "type": "t" * 101})


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00+01:00",  # overflows when converted to UTC
        "9999-12-31T23:59:59-01:00",
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
    ],
)
def test_occurred_at_outside_2000_to_2100_is_refused_naming_the_field(occurred_at: str) -> None:
    with pytest.raises(ValidationError) as refused:
        EVENT_TYPES["declare_interest"].model_validate({**COMMAND, "occurred_at": occurred_at})

    [error] = refused.value.errors()
    assert error["loc"] == ("occurred_at",)
    assert "2000 to 2100" in error["msg"]


def test_occurred_at_inside_the_range_is_kept() -> None:
    command = EVENT_TYPES["declare_interest"].model_validate(
        {**COMMAND, "occurred_at": "2000-01-01T00:30:00+01:00"}
    )
    assert command.occurred_at.isoformat() == "2000-01-01T00:30:00+01:00"
