"""The generated AsyncAPI 3.0.0 document describes every topic and message of the contract."""

import json
from typing import Any

import pytest

from schemas.catalog import EVENT_TYPES, TOPIC_OF_TYPE
from schemas.export import ASYNCAPI_FILE, package_root
from schemas.topics import Topic, all_topics, topic_name
from tests.unit.schemas.refs import refs_in, resolves


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads((package_root() / ASYNCAPI_FILE).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def message_names(channel: dict[str, Any]) -> set[str]:
    return set(channel["messages"])


def test_is_asyncapi_3_with_the_embedded_kafka_server(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "dialognet"
    assert document["servers"]["embedded"] == {
        "host": "localhost:9092",
        "protocol": "kafka",
        "description": document["servers"]["embedded"]["description"],
    }


def test_every_type_is_a_message_on_its_topic(document: dict[str, Any]) -> None:
    channels = {channel["address"]: channel for channel in document["channels"].values()}

    assert set(EVENT_TYPES) <= set(document["components"]["messages"])
    for type_name, topic in TOPIC_OF_TYPE.items():
        assert type_name in message_names(channels[topic_name(topic)]), type_name


def test_channels_are_exactly_the_topics_created(document: dict[str, Any]) -> None:
    addresses = {channel["address"] for channel in document["channels"].values()}

    assert addresses == set(all_topics())
    assert all(address.startswith("dialognet.") for address in addresses)


def test_dead_letter_topics_carry_error_and_source_topic_headers(
    document: dict[str, Any],
) -> None:
    dead_letter = document["components"]["messages"]["dead_letter"]

    assert message_names(document["channels"]["intake.dlq"]) == {"dead_letter"}
    assert {"error", "source-topic"} <= set(dead_letter["headers"]["required"])


def test_messages_have_type_header_key_binding_and_envelope_payload(
    document: dict[str, Any],
) -> None:
    message = document["components"]["messages"]["registration.made"]

    assert message["headers"]["properties"]["type"]["const"] == "registration.made"
    assert message["headers"]["required"] == ["type"]
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    assert message["payload"] == {"$ref": "#/components/schemas/RegistrationMade"}
    payload = document["components"]["schemas"]["RegistrationMade"]
    assert payload["properties"]["data"] == {"$ref": "#/components/schemas/RegistrationMadeData"}


def test_registration_sends_facts_and_receives_intake(document: dict[str, Any]) -> None:
    actions = {
        operation["channel"]["$ref"].removeprefix("#/channels/"): operation["action"]
        for operation in document["operations"].values()
    }

    assert actions[Topic.INTAKE.value] == "receive"
    for topic in (Topic.ORGANIZATIONS, Topic.FORUMS, Topic.REGISTRATIONS, Topic.NOTIFICATIONS):
        assert actions[topic.value] == "send"
    assert actions[Topic.INTAKE_REJECTED.value] == "send"


def test_every_ref_resolves_inside_the_document(document: dict[str, Any]) -> None:
    refs = set(refs_in(document))

    assert "#/components/schemas/Contact" in refs
    assert sorted(ref for ref in refs if not resolves(document, ref)) == []
