"""The generated JSON Schema files: fresh, valid, and compatible with every published version."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from schemas.catalog import EVENT_TYPES
from schemas.compat import published_breaking_changes
from schemas.export import (
    EXPORT_COMMAND,
    JSONSCHEMA_DIR,
    PUBLISHED_DIR,
    check_all,
    load_published,
    package_root,
    write_all,
)
from schemas.intake import IntakeRejected, IntakeRejectedData, RegisterCommand, RegisterData
from schemas.message_schemas import current_schemas, schema_file_name
from schemas.registrations import RegistrationMade, RegistrationMadeData
from schemas.vocabulary import Contact, ForumFormat, ForumSummary, RegistrationStatus
from tests.unit.schemas.refs import refs_in, resolves

ROOT = package_root()
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CONTACT = Contact(name="Ayşe Demir", email="ayse@example.org")


def schema_file(type_name: str) -> dict[str, Any]:
    name = schema_file_name(type_name, EVENT_TYPES[type_name].VERSION)
    return json.loads((ROOT / JSONSCHEMA_DIR / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_generated_files_are_fresh() -> None:
    problems = check_all(ROOT)

    assert problems == [], f"contract files out of date; run `{EXPORT_COMMAND}`:\n" + "\n".join(
        problems
    )


def test_every_current_version_has_a_published_snapshot() -> None:
    missing = sorted(set(current_schemas()) - set(load_published(ROOT)))

    assert missing == [], f"no snapshot in {PUBLISHED_DIR}/; run `{EXPORT_COMMAND}`: {missing}"


def test_no_breaking_change_to_published_versions() -> None:
    problems = published_breaking_changes(load_published(ROOT), current_schemas())

    assert problems == [], "breaking change to a published version; raise VERSION instead:\n" + (
        "\n".join(problems)
    )


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_schema_file_is_valid_draft_2020_12(type_name: str) -> None:
    schema = schema_file(type_name)

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:dialognet:schema:{type_name}.v{EVENT_TYPES[type_name].VERSION}"
    assert schema["properties"]["type"]["const"] == type_name
    assert schema["properties"]["version"]["const"] == EVENT_TYPES[type_name].VERSION
    assert [ref for ref in refs_in(schema) if not resolves(schema, ref)] == []


def registration_made() -> RegistrationMade:
    forum = ForumSummary(
        title="Sicherheit im Kiez",
        format=ForumFormat.FORUM,
        venue="Rathaus",
        starts_at=NOW,
        ends_at=NOW,
    )
    data = RegistrationMadeData(
        registration_id=uuid4(),
        forum_id=uuid4(),
        organization_id=uuid4(),
        status=RegistrationStatus.CONFIRMED,
        attendees=2,
        contact=CONTACT,
        forum=forum,
        registered_at=NOW,
    )
    return RegistrationMade(producer="registration", key=str(data.forum_id), data=data)


def register_command() -> RegisterCommand:
    data = RegisterData(forum_id=uuid4(), organization_id=uuid4(), contact=CONTACT, consent=True)
    return RegisterCommand(producer="crm", key=str(data.forum_id), data=data)


def intake_rejected() -> IntakeRejected:
    data = IntakeRejectedData(
        command_event_id=str(uuid4()),
        command_type="register",
        producer="crm",
        status=409,
        reason="forum is closed",
        rejected_at=NOW,
    )
    return IntakeRejected(producer="registration", data=data)


SAMPLES = [registration_made, register_command, intake_rejected]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda build: build.__name__)
def test_model_output_validates_against_its_schema_file(sample: Any) -> None:
    message = sample().model_dump(mode="json")

    Draft202012Validator(schema_file(message["type"])).validate(message)


def test_schema_file_rejects_another_version_and_a_missing_payload_field() -> None:
    validator = Draft202012Validator(schema_file("registration.made"))
    message = registration_made().model_dump(mode="json")
    del message["data"]["attendees"]

    assert not validator.is_valid({**registration_made().model_dump(mode="json"), "version": 2})
    assert not validator.is_valid(message)


def test_export_adds_snapshots_but_never_rewrites_one(tmp_path: Path) -> None:
    snapshot = tmp_path / PUBLISHED_DIR / schema_file_name("registration.made", 1)
    snapshot.parent.mkdir()
    snapshot.write_text("{}\n", encoding="utf-8")

    written = write_all(tmp_path)

    assert snapshot.read_text(encoding="utf-8") == "{}\n"
    assert snapshot not in written
    assert (tmp_path / PUBLISHED_DIR / schema_file_name("forum.held", 1)) in written
    assert check_all(tmp_path) == []
    assert write_all(tmp_path) == []
