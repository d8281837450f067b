"""Problem bodies name fields: `field_path` and `validation_errors` over pydantic's errors."""

import pytest
from pydantic import ValidationError

from schemas.commands import Register, ScheduleForum
from services.runtime.http import field_path, validation_errors


@pytest.mark.parametrize(
    ("location", "path"),
    [
        (("body", "contact", "email"), "contact.email"),
        (("query", "limit"), "limit"),
        (("path", "forum_id"), "forum_id"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("body",), "body"),
        ((), "body"),
        (("topics", 2), "topics.2"),
        (("data", "attendees"), "data.attendees"),
    ],
)
def test_field_path(location: tuple[int | str, ...], path: str) -> None:
    assert field_path(location) == path


def _errors(
    model: type[Register] | type[ScheduleForum], body: dict[str, object]
) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as invalid:
        model.model_validate(body)
    return validation_errors(invalid.value.errors())


def test_each_bad_field_is_named() -> None:
    errors = _errors(
        Register,
        {"organization_id": "not-a-uuid", "contact": {"name": "A", "email": "no"}, "consent": True},
    )
    assert {error["field"] for error in errors} == {"organization_id", "contact.email"}
    assert all(error["message"] for error in errors)


def test_a_whole_model_check_names_the_field_it_is_about() -> None:
    errors = _errors(
        ScheduleForum,
        {
            "format": "forum",
            "title": "T",
            "venue": "V",
            "starts_at": "2030-03-10T10:00:00+01:00",
            "ends_at": "2030-03-10T09:00:00+01:00",
            "registration_deadline": "2030-03-01T00:00:00+01:00",
            "capacity": 5,
        },
    )
    assert errors == [{"field": "ends_at", "message": "ends_at must be after starts_at"}]


def test_missing_consent_is_named() -> None:
    errors = _errors(
        Register,
        {
            "organization_id": "5d0a3c1e-4a56-4f0c-9c2c-0d8b2a8f4e11",
            "contact": {"name": "A", "email": "a@example.org"},
            "consent": False,
        },
    )
    assert [error["field"] for error in errors] == ["consent"]
    assert "consent" in errors[0]["message"]
