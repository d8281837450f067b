"""Generates the contract files (JSON Schema per type and version, AsyncAPI) and checks them."""

import json
from pathlib import Path

from schemas.asyncapi import asyncapi_document
from schemas.message_schemas import JsonObject, current_schemas

JSONSCHEMA_DIR = "jsonschema"
PUBLISHED_DIR = "published"
ASYNCAPI_FILE = "asyncapi.json"
EXPORT_COMMAND = "dialognet schemas export"


def package_root() -> Path:
    """The directory of the `schemas` package, where the generated files live."""
    return Path(__file__).resolve().parent


def render(document: JsonObject) -> str:
    """Deterministic JSON text, so that a staleness check can compare files exactly."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """Relative path → content of every file the generator owns (rewritten on each export)."""
    files = {
        f"{JSONSCHEMA_DIR}/{name}": render(schema) for name, schema in current_schemas().items()
    }
    files[ASYNCAPI_FILE] = render(asyncapi_document())
    return files


def snapshot_files() -> dict[str, str]:
    """Relative path → content of the snapshot each current version gets when first published."""
    return {f"{PUBLISHED_DIR}/{name}": render(schema) for name, schema in current_schemas().items()}


def orphaned_files(root: Path, generated: dict[str, str]) -> list[str]:
    """Files in `jsonschema/` no model produces any more (e.g. after a version bump)."""
    present = sorted(
        path.relative_to(root).as_posix() for path in (root / JSONSCHEMA_DIR).glob("*.json")
    )
    return [relative for relative in present if relative not in generated]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write_all(root: Path) -> list[Path]:
    """Write every generated file that differs, add missing snapshots; return what changed."""
    changed: list[Path] = []
    generated = generated_files()
    for relative, content in generated.items():
        if _write_if_different(root / relative, content):
            changed.append(root / relative)
    for relative, content in snapshot_files().items():
        # A snapshot records a version as first published: it is never rewritten.
        if not (root / relative).exists() and _write_if_different(root / relative, content):
            changed.append(root / relative)
    for relative in orphaned_files(root, generated):
        (root / relative).unlink()
        changed.append(root / relative)
    return changed


def _write_if_different(path: Path, content: str) -> bool:
    if _read(path) == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return True


def check_all(root: Path) -> list[str]:
    """Describe each generated file that is stale, missing or orphaned; empty when all fresh."""
    generated = generated_files()
    problems = [
        f"{'missing' if _read(root / relative) is None else 'stale'}: {relative}"
        for relative, content in generated.items()
        if _read(root / relative) != content
    ]
    problems += [
        f"missing: {relative}" for relative in snapshot_files() if not (root / relative).exists()
    ]
    problems += [f"orphaned: {relative}" for relative in orphaned_files(root, generated)]
    return problems


def load_published(root: Path) -> dict[str, JsonObject]:
    """File name → snapshot schema, for every version ever published."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((root / PUBLISHED_DIR).glob("*.json"))
    }
