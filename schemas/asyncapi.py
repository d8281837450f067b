"""The AsyncAPI 3.0.0 document of the platform: topics, messages, who sends and receives."""

from importlib.metadata import version as distribution_version

from schemas.catalog import EVENT_TYPES, TOPIC_OF_TYPE
from schemas.message_schemas import JsonObject, component_schemas
from schemas.topics import DEFAULT_PREFIX, PARTITIONS, Topic, all_topics, dlq_name, topic_name

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMAS_REF = "#/components/schemas/"
DEAD_LETTER_MESSAGE = "dead_letter"
SERVER = {
    "host": "localhost:9092",
    "protocol": "kafka",
    "description": "The embedded broker `dialognet up` starts",
}

# What the Kafka message key holds on each topic (ordering is per key).
KEY_OF_TOPIC: dict[Topic, str] = {
    Topic.ORGANIZATIONS: "Organisation id",
    Topic.FORUMS: "Forum id",
    Topic.REGISTRATIONS: "Forum id, so that seat counting for one forum stays in order",
    Topic.NOTIFICATIONS: "SHA-256 hash of the recipient address (never the address)",
    Topic.INTAKE: "Any id the sending system chooses; commands with one key stay in order",
    Topic.INTAKE_REJECTED: "The key of the rejected command",
}

# The service that publishes each topic; the intake topic is where the platform receives.
SENDER_OF_TOPIC: dict[Topic, str] = {
    Topic.ORGANIZATIONS: "registration",
    Topic.FORUMS: "registration",
    Topic.REGISTRATIONS: "registration",
    Topic.INTAKE_REJECTED: "registration",
    Topic.NOTIFICATIONS: "notification",
}
RECEIVED_TOPICS = (Topic.INTAKE,)


def _ref(pointer: str) -> JsonObject:
    return {"$ref": pointer}


def _string(description: str, const: str | None = None) -> JsonObject:
    schema: JsonObject = {"type": "string", "description": description}
    if const is not None:
        schema["const"] = const
    return schema


def _kafka_key(description: str) -> JsonObject:
    return {"kafka": {"key": _string(description), "bindingVersion": KAFKA_BINDING_VERSION}}


def _headers(type_name: str, version: int) -> JsonObject:
    """The Kafka headers of a message: consumers route on `type` before decoding the value."""
    return {
        "type": "object",
        "properties": {
            "type": _string("Message type, the same as the envelope's `type`", type_name),
            "version": _string("Schema version of `data`, when sent", str(version)),
        },
        "required": ["type"],
    }


def _message(type_name: str, schema_name: str) -> JsonObject:
    cls = EVENT_TYPES[type_name]
    return {
        "name": type_name,
        "title": f"{type_name} v{cls.VERSION}",
        "contentType": "application/json",
        "headers": _headers(type_name, cls.VERSION),
        "payload": _ref(SCHEMAS_REF + schema_name),
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "bindings": _kafka_key(KEY_OF_TOPIC[TOPIC_OF_TYPE[type_name]]),
    }


def _dead_letter_message() -> JsonObject:
    """A parked message: the original bytes and key unchanged, the reason in headers."""
    return {
        "name": DEAD_LETTER_MESSAGE,
        "title": "Dead letter",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {
                "error": _string("Why the message can never be processed (at most 1000 bytes)"),
                "source-topic": _string("The topic the message was consumed from"),
                "source-partition": _string("Partition in the source topic, decimal"),
                "source-offset": _string("Offset in the source topic, decimal"),
            },
            "required": ["error", "source-topic"],
        },
        "payload": {"description": "The original message value, unchanged (may not be JSON)"},
        "bindings": _kafka_key("The original message key, unchanged"),
    }


def _types_of(topic: Topic) -> list[str]:
    return sorted(name for name, of_topic in TOPIC_OF_TYPE.items() if of_topic is topic)


def _channel(address: str, partitions: int, messages: list[str]) -> JsonObject:
    return {
        "address": address,
        "messages": {name: _ref(f"#/components/messages/{name}") for name in messages},
        "bindings": {
            "kafka": {
                "topic": address,
                "partitions": partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _channel_id(address: str) -> str:
    return address.removeprefix(DEFAULT_PREFIX)


def _dlq_topics() -> list[Topic]:
    """Topics that have a dead-letter topic: those a service consumes."""
    created = all_topics()
    return [topic for topic in Topic if dlq_name(topic) in created]


def _channels() -> JsonObject:
    channels = {
        _channel_id(topic_name(topic)): _channel(
            topic_name(topic), PARTITIONS[topic], _types_of(topic)
        )
        for topic in Topic
    }
    for topic in _dlq_topics():
        address = dlq_name(topic)
        channels[_channel_id(address)] = _channel(
            address, all_topics()[address], [DEAD_LETTER_MESSAGE]
        )
    return channels


def _operation(action: str, channel_id: str, messages: list[str], summary: str) -> JsonObject:
    return {
        "action": action,
        "summary": summary,
        "channel": _ref(f"#/channels/{channel_id}"),
        "messages": [_ref(f"#/channels/{channel_id}/messages/{name}") for name in messages],
    }


def _operations() -> JsonObject:
    operations: JsonObject = {}
    for topic, sender in SENDER_OF_TOPIC.items():
        channel_id = _channel_id(topic_name(topic))
        operations[f"send.{channel_id}"] = _operation(
            "send", channel_id, _types_of(topic), f"The {sender} service publishes these facts"
        )
    for topic in RECEIVED_TOPICS:
        channel_id = _channel_id(topic_name(topic))
        operations[f"receive.{channel_id}"] = _operation(
            "receive", channel_id, _types_of(topic), "The registration service handles commands"
        )
    for topic in _dlq_topics():
        channel_id = _channel_id(dlq_name(topic))
        summary = f"A consumer of `{topic_name(topic)}` parks a message it can never process"
        operations[f"send.{channel_id}"] = _operation(
            "send", channel_id, [DEAD_LETTER_MESSAGE], summary
        )
    return operations


def _components() -> JsonObject:
    envelope_names, schemas = component_schemas(SCHEMAS_REF)
    messages = {name: _message(name, schema) for name, schema in envelope_names.items()}
    messages[DEAD_LETTER_MESSAGE] = _dead_letter_message()
    return {"schemas": schemas, "messages": messages}


def asyncapi_document() -> JsonObject:
    """The whole document; deterministic for a given set of models."""
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "dialognet",
            "version": distribution_version("dialognet"),
            "description": "Events and commands of the dialogue network's registration services",
        },
        "defaultContentType": "application/json",
        "servers": {"embedded": SERVER},
        "channels": _channels(),
        "operations": _operations(),
        "components": _components(),
    }
