"""Unit tests of `breaking_changes` on small hand-written schemas."""

import copy
from typing import Any

from schemas.compat import breaking_changes, published_breaking_changes

JsonObject = dict[str, Any]

# A miniature envelope: `data` refers to a `$defs` entry that refers to an enum.
PUBLISHED: JsonObject = {
    "$defs": {
        "Status": {"enum": ["confirmed", "waitlisted"], "type": "string"},
        "Facts": {
            "properties": {
                "registration_id": {"format": "uuid", "type": "string"},
                "attendees": {"type": "integer"},
                "status": {"$ref": "#/$defs/Status"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                "topics": {"items": {"type": "string"}, "type": "array"},
            },
            "required": ["registration_id", "attendees", "status"],
            "type": "object",
        },
    },
    "properties": {
        "type": {"const": "registration.made", "type": "string"},
        "version": {"const": 1, "type": "integer"},
        "data": {"$ref": "#/$defs/Facts"},
    },
    "required": ["type", "data"],
    "type": "object",
}


def changed(edit: Any) -> JsonObject:
    """A deep copy of PUBLISHED after `edit` mutated it."""
    current = copy.deepcopy(PUBLISHED)
    edit(current)
    return current


def facts(schema: JsonObject) -> JsonObject:
    return schema["$defs"]["Facts"]  # type: ignore[no-any-return]


def test_identical_schemas_have_no_breaking_change() -> None:
    assert breaking_changes(PUBLISHED, copy.deepcopy(PUBLISHED)) == []


def test_removed_property_is_breaking() -> None:
    current = changed(lambda s: facts(s)["properties"].pop("attendees"))

    assert breaking_changes(PUBLISHED, current) == ["$.data.attendees: property removed"]


def test_changed_type_is_breaking() -> None:
    current = changed(lambda s: facts(s)["properties"]["attendees"].update(type="string"))

    assert breaking_changes(PUBLISHED, current) == [
        "$.data.attendees: type changed from ['integer'] to ['string']"
    ]


def test_field_becoming_nullable_is_a_type_change() -> None:
    # Consumers typed against v1 break on null, so widening to null counts too.
    def make_nullable(schema: JsonObject) -> None:
        facts(schema)["properties"]["attendees"] = {
            "anyOf": [{"type": "integer"}, {"type": "null"}]
        }

    assert breaking_changes(PUBLISHED, changed(make_nullable)) == [
        "$.data.attendees: type changed from ['integer'] to ['integer', 'null']"
    ]


def test_changed_array_item_type_is_breaking() -> None:
    current = changed(lambda s: facts(s)["properties"]["topics"]["items"].update(type="integer"))

    assert breaking_changes(PUBLISHED, current) == [
        "$.data.topics[]: type changed from ['string'] to ['integer']"
    ]


def test_optional_property_becoming_required_is_breaking() -> None:
    current = changed(lambda s: facts(s)["required"].append("note"))

    assert breaking_changes(PUBLISHED, current) == ["$.data.note: property newly required"]


def test_new_optional_property_is_not_breaking_but_new_required_one_is() -> None:
    def add_optional(schema: JsonObject) -> None:
        facts(schema)["properties"]["seats"] = {"type": "integer"}

    def add_required(schema: JsonObject) -> None:
        add_optional(schema)
        facts(schema)["required"].append("seats")

    assert breaking_changes(PUBLISHED, changed(add_optional)) == []
    assert breaking_changes(PUBLISHED, changed(add_required)) == [
        "$.data.seats: property newly required"
    ]


def test_removed_enum_value_in_defs_is_breaking() -> None:
    current = changed(lambda s: s["$defs"]["Status"].update(enum=["confirmed"]))

    assert breaking_changes(PUBLISHED, current) == [
        "$.data.status: allowed values removed ['waitlisted'] (now ['confirmed'])"
    ]


def test_added_enum_value_is_not_breaking_but_a_replaced_one_is() -> None:
    added = changed(lambda s: s["$defs"]["Status"]["enum"].append("cancelled"))
    replaced = changed(lambda s: s["$defs"]["Status"].update(enum=["confirmed", "cancelled"]))

    assert breaking_changes(PUBLISHED, added) == []
    assert breaking_changes(PUBLISHED, replaced) == [
        "$.data.status: allowed values removed ['waitlisted'] (now ['confirmed', 'cancelled'])"
    ]


def test_changed_const_is_breaking() -> None:
    current = changed(lambda s: s["properties"]["version"].update(const=2))

    assert breaking_changes(PUBLISHED, current) == [
        "$.version: allowed values removed [1] (now [2])"
    ]


def test_renamed_definition_with_the_same_shape_is_not_breaking() -> None:
    # Refs are followed rather than compared by name; a real change behind the new name counts.
    def rename(schema: JsonObject) -> None:
        schema["$defs"]["RegistrationFacts"] = schema["$defs"].pop("Facts")
        schema["properties"]["data"] = {"$ref": "#/$defs/RegistrationFacts"}

    def rename_and_remove(schema: JsonObject) -> None:
        rename(schema)
        schema["$defs"]["RegistrationFacts"]["properties"].pop("note")

    assert breaking_changes(PUBLISHED, changed(rename)) == []
    assert breaking_changes(PUBLISHED, changed(rename_and_remove)) == [
        "$.data.note: property removed"
    ]


def test_published_versions_are_compared_by_type_and_version() -> None:
    removed = changed(lambda s: facts(s)["properties"].pop("attendees"))
    published = {"registration.made.v1.json": PUBLISHED, "forum.held.v1.json": PUBLISHED}

    assert published_breaking_changes(published, {"registration.made.v1.json": removed}) == [
        "forum.held.v1.json: published, but no model of this type and version exists",
        "registration.made.v1.json: $.data.attendees: property removed",
    ]


def test_a_version_superseded_by_a_newer_one_is_retired_not_broken() -> None:
    removed = changed(lambda s: facts(s)["properties"].pop("attendees"))
    published = {"registration.made.v1.json": PUBLISHED}

    assert published_breaking_changes(published, {"registration.made.v2.json": removed}) == []
