"""Which requests the registration fast path answers, and which it hands on to FastAPI."""

from typing import Any
from uuid import UUID

import pytest

from services.registration.http.fast_path import _registration_target

FORUM = "0b6f3c9e-6a41-4f67-8a53-2f3f5d9a0c11"


def _scope(method: str, path: str, kind: str = "http") -> dict[str, Any]:
    return {"type": kind, "method": method, "path": path}


def test_a_registration_post_is_answered_with_its_forum_id() -> None:
    target = _registration_target(_scope("POST", f"/v1/forums/{FORUM}/registrations"))
    assert target == UUID(FORUM)


@pytest.mark.parametrize(
    "scope",
    [
        _scope("GET", f"/v1/forums/{FORUM}/registrations"),
        _scope("POST", f"/v1/forums/{FORUM}"),
        _scope("POST", f"/v1/forums/{FORUM}/registrations/extra"),
        _scope("POST", "/v1/forums/not-a-uuid-but-thirty-six-characters/registrations"),
        _scope("POST", "/v1/forums/0b6f3c9e-6a41-4f67-8a53-2f3f5d9a0c1/registrations"),
        _scope("POST", f"/v1/forums/{FORUM}/registrations", kind="websocket"),
    ],
)
def test_everything_else_is_handed_on(scope: dict[str, Any]) -> None:
    assert _registration_target(scope) is None
