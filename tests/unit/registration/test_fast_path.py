"""Which requests the registration fast path answers: every POST to the registration path,
whatever is written as the forum id; everything else goes on to FastAPI."""

from typing import Any

import pytest

from services.registration.http.fast_path import registration_target

FORUM = "0b6f3c9e-6a41-4f67-8a53-2f3f5d9a0c11"


def _scope(method: str, path: str, kind: str = "http") -> dict[str, Any]:
    return {"type": kind, "method": method, "path": path}


@pytest.mark.parametrize(
    "segment",
    [FORUM, FORUM.replace("-", ""), f"{{{FORUM}}}", f"urn:uuid:{FORUM}", FORUM.upper(), "nonsense"],
)
def test_every_registration_post_is_answered_by_the_fast_path(segment: str) -> None:
    assert registration_target(_scope("POST", f"/v1/forums/{segment}/registrations")) == segment


@pytest.mark.parametrize(
    "scope",
    [
        _scope("GET", f"/v1/forums/{FORUM}/registrations"),
        _scope("POST", f"/v1/forums/{FORUM}"),
        _scope("POST", f"/v1/forums/{FORUM}/registrations/extra"),
        _scope("POST", f"/v1/forums/{FORUM}/registrations/"),
        _scope("POST", f"/v1/forums/{FORUM}/registrations", kind="websocket"),
    ],
)
def test_everything_else_is_handed_on(scope: dict[str, Any]) -> None:
    assert registration_target(scope) is None
