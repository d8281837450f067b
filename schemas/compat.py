"""Breaking-change detection between a published JSON Schema and the current one."""

from collections.abc import Iterator
from typing import Any

from schemas.message_schemas import JsonObject

# Reported as breaking: a removed property, a property newly required, a changed set of
# JSON types (including a field becoming nullable: typed consumers break on null), and a
# value no longer allowed (enum value removed, const changed). Not breaking: a new
# optional property and a new enum value (consumers must tolerate both, see DESIGN.md).
# Not compared: length, range and pattern constraints, formats, descriptions.


class _Walk:
    """One comparison: the two documents (to resolve `$ref`) and the findings so far."""

    def __init__(self, published: JsonObject, current: JsonObject) -> None:
        self.published_root = published
        self.current_root = current
        self.changes: list[str] = []
        # Pairs of subschemas already compared: recursive models would otherwise loop.
        self.seen: set[tuple[int, int]] = set()


def breaking_changes(published: JsonObject, current: JsonObject) -> list[str]:
    """Every way `current` breaks a reader or writer of `published`; empty when compatible."""
    walk = _Walk(published, current)
    _compare(walk, published, current, "$")
    return walk.changes


def _compare(walk: _Walk, published: JsonObject, current: JsonObject, path: str) -> None:
    pair = (id(published), id(current))
    if pair in walk.seen:
        return
    walk.seen.add(pair)
    # `$ref`s are followed, not compared by name: renaming a `$defs` entry changes nothing.
    old = _branches(published, walk.published_root)
    new = _branches(current, walk.current_root)
    _compare_types(walk, old, new, path)
    _compare_values(walk, old, new, path)
    _compare_properties(walk, old, new, path)
    _compare_items(walk, old, new, path)


def _resolve(schema: JsonObject, root: JsonObject) -> JsonObject:
    """Follow local `$ref`s (`#/$defs/Contact`) to the schema they name."""
    while "$ref" in schema:
        target: Any = root
        for token in schema["$ref"].removeprefix("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        schema = target
    return schema


def _branches(schema: JsonObject, root: JsonObject) -> list[JsonObject]:
    """The alternatives a value may match: `anyOf`/`oneOf` flattened, refs resolved."""
    schema = _resolve(schema, root)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if not alternatives:
        return [schema]
    return [branch for sub in alternatives for branch in _branches(sub, root)]


def _json_types(branches: list[JsonObject]) -> set[str]:
    """The JSON types a value may have; `any` when a branch does not restrict it."""
    types: set[str] = set()
    for branch in branches:
        declared = branch.get("type")
        if isinstance(declared, str):
            types.add(declared)
        elif isinstance(declared, list):
            types.update(declared)
        elif "properties" in branch:
            types.add("object")
        elif "enum" in branch or "const" in branch:
            types.update(_type_of_value(value) for value in _allowed_values([branch]) or [])
        else:
            types.add("any")
    return types


def _type_of_value(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    return names.get(type(value), "object" if isinstance(value, dict) else "array")


def _allowed_values(branches: list[JsonObject]) -> list[Any] | None:
    """The values an `enum`/`const` allows; None when some branch allows any value."""
    values: list[Any] = []
    for branch in branches:
        if "const" in branch:
            values.append(branch["const"])
        elif "enum" in branch:
            values.extend(branch["enum"])
        elif branch.get("type") != "null":
            return None
    return values


def _compare_types(walk: _Walk, old: list[JsonObject], new: list[JsonObject], path: str) -> None:
    old_types, new_types = _json_types(old), _json_types(new)
    if old_types != new_types:
        walk.changes.append(f"{path}: type changed from {sorted(old_types)} to {sorted(new_types)}")


def _compare_values(walk: _Walk, old: list[JsonObject], new: list[JsonObject], path: str) -> None:
    old_values, new_values = _allowed_values(old), _allowed_values(new)
    if old_values is None:
        if new_values is not None:
            walk.changes.append(f"{path}: now restricted to {new_values!r}")
        return
    if new_values is None:
        return  # any value is allowed now: a widening
    removed = [value for value in old_values if value not in new_values]
    if removed:
        walk.changes.append(f"{path}: allowed values removed {removed!r} (now {new_values!r})")


def _object_branch(branches: list[JsonObject]) -> JsonObject | None:
    return next((branch for branch in branches if "properties" in branch), None)


def _compare_properties(
    walk: _Walk, old: list[JsonObject], new: list[JsonObject], path: str
) -> None:
    old_object, new_object = _object_branch(old), _object_branch(new)
    if old_object is None or new_object is None:
        return  # a type change is already reported
    new_properties = new_object["properties"]
    for name, old_property in old_object["properties"].items():
        if name not in new_properties:
            walk.changes.append(f"{path}.{name}: property removed")
        else:
            _compare(walk, old_property, new_properties[name], f"{path}.{name}")
    for name in _newly_required(old_object, new_object):
        walk.changes.append(f"{path}.{name}: property newly required")


def _newly_required(old_object: JsonObject, new_object: JsonObject) -> Iterator[str]:
    was_required = set(old_object.get("required", []))
    return (name for name in new_object.get("required", []) if name not in was_required)


def _compare_items(walk: _Walk, old: list[JsonObject], new: list[JsonObject], path: str) -> None:
    old_items = next((branch["items"] for branch in old if "items" in branch), None)
    new_items = next((branch["items"] for branch in new if "items" in branch), None)
    if old_items is not None and new_items is not None:
        _compare(walk, old_items, new_items, f"{path}[]")


def version_of(file_name: str) -> tuple[str, int]:
    """`registration.made.v1.json` → (`registration.made`, 1)."""
    type_name, _, version = file_name.removesuffix(".json").rpartition(".v")
    return type_name, int(version)


def published_breaking_changes(
    published: dict[str, JsonObject], current: dict[str, JsonObject]
) -> list[str]:
    """Compare each published snapshot with the current schema of the same type and version.

    A snapshot of an older version whose type has moved on to a newer one is retired,
    not broken: a breaking change is exactly what a new version is for.
    """
    current_versions = dict(version_of(name) for name in current)
    problems: list[str] = []
    for name, snapshot in sorted(published.items()):
        type_name, version = version_of(name)
        if name in current:
            problems += [
                f"{name}: {change}" for change in breaking_changes(snapshot, current[name])
            ]
        elif current_versions.get(type_name, 0) <= version:
            problems.append(f"{name}: published, but no model of this type and version exists")
    return problems
