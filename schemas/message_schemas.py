"""JSON Schema (draft 2020-12) of every message type, generated from the pydantic models."""

from typing import Any

from pydantic.json_schema import models_json_schema

from schemas.catalog import EVENT_TYPES, TOPIC_OF_TYPE
from schemas.envelope import Envelope
from schemas.topics import topic_name

JsonObject = dict[str, Any]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# A URN names each schema without pretending it is served from some host.
SCHEMA_ID_PREFIX = "urn:dialognet:schema:"


def type_name_of(cls: type[Envelope]) -> str:
    return str(cls.model_fields["type"].default)


def schema_file_name(type_name: str, version: int) -> str:
    """`registration.made.v1.json`: one file per message type and version."""
    return f"{type_name}.v{version}.json"


def pin_version(schema: JsonObject, version: int) -> None:
    """Make the envelope's `version` a constant: a schema describes exactly one version.

    The model itself accepts any version (a newer producer's message still parses), but
    the published schema of v1 must not describe v2 messages.
    """
    schema["properties"]["version"].update(const=version, default=version)


def envelope_schema(cls: type[Envelope]) -> JsonObject:
    """The full, self-contained schema of one message type at its current version."""
    type_name, version = type_name_of(cls), cls.VERSION
    schema: JsonObject = cls.model_json_schema()
    pin_version(schema, version)
    schema["$schema"] = SCHEMA_DIALECT
    schema["$id"] = f"{SCHEMA_ID_PREFIX}{type_name}.v{version}"
    schema["title"] = f"{type_name} v{version}"
    schema["description"] = (
        f"Envelope of `{type_name}` version {version} "
        f"on topic `{topic_name(TOPIC_OF_TYPE[type_name])}`"
    )
    return schema


def current_schemas() -> dict[str, JsonObject]:
    """File name → schema, for every type of the catalog at its current version."""
    return {
        schema_file_name(type_name, cls.VERSION): envelope_schema(cls)
        for type_name, cls in sorted(EVENT_TYPES.items())
    }


def component_schemas(ref_prefix: str) -> tuple[dict[str, str], JsonObject]:
    """All models as one shared set of named schemas, for a document such as AsyncAPI.

    Returns type name → schema name of its envelope, and schema name → schema, with
    every `$ref` written as `<ref_prefix><schema name>`.
    """
    classes = [EVENT_TYPES[type_name] for type_name in sorted(EVENT_TYPES)]
    refs, definitions = models_json_schema(
        [(cls, "validation") for cls in classes], ref_template=ref_prefix + "{model}"
    )
    schemas: JsonObject = definitions["$defs"]
    envelope_names = {
        type_name_of(cls): refs[(cls, "validation")]["$ref"].removeprefix(ref_prefix)
        for cls in classes
    }
    for type_name, schema_name in envelope_names.items():
        pin_version(schemas[schema_name], EVENT_TYPES[type_name].VERSION)
    return envelope_names, schemas
