"""Envelope basics every message model and topic name must keep."""

from typing import Literal, get_args, get_origin

import pytest

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
