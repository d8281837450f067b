"""Validation of custom resources against the vendored CRDs (crds/README.md says which), as
strictly as kubernetes-validate checks the core kinds: a field a schema does not declare is an
error (the API server would prune it, or refuse it under `kubectl apply --validate=strict`)."""

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

CRDS = Path(__file__).with_name("crds")
PRESERVE_UNKNOWN = "x-kubernetes-preserve-unknown-fields"


@cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the served version's openAPIV3Schema, made strict."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            if version["served"]:
                api_version = f"{crd['spec']['group']}/{version['name']}"
                schema = version["schema"]["openAPIV3Schema"]
                found[(api_version, crd["spec"]["names"]["kind"])] = strict(schema)
    return found


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every object that lists its properties closed to others."""
    copied = {key: _strict_value(key, value) for key, value in schema.items()}
    closes = "properties" in copied and "additionalProperties" not in copied
    if closes and not copied.get(PRESERVE_UNKNOWN):
        copied["additionalProperties"] = False
    return copied


def _strict_value(key: str, value: Any) -> Any:
    if key == "properties":
        return {name: strict(item) for name, item in value.items()}
    if isinstance(value, dict):
        return strict(value)
    if isinstance(value, list):
        return [strict(item) if isinstance(item, dict) else item for item in value]
    return value


def is_custom(document: dict[str, Any]) -> bool:
    return (document["apiVersion"], document["kind"]) in schemas()


def custom_resource_errors(document: dict[str, Any]) -> list[str]:
    """Where and why `document` breaks its CRD's schema; [] when it is valid."""
    schema = schemas()[(document["apiVersion"], document["kind"])]
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]
