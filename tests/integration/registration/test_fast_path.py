"""The registration POST has one implementation: every spelling of the forum id gets the same
answers (the fast path serves them all; the FastAPI route only documents the operation)."""

from collections.abc import Callable
from uuid import UUID

import pytest

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, ok, problem

SPELLINGS: dict[str, Callable[[str], str]] = {
    "hyphenated": lambda forum_id: forum_id,
    "32 hex digits": lambda forum_id: forum_id.replace("-", ""),
    "braces": lambda forum_id: f"{{{forum_id}}}",
    "urn": lambda forum_id: f"urn:uuid:{forum_id}",
    "upper case": lambda forum_id: forum_id.upper(),
}


@pytest.fixture(scope="module")
async def forum_id(service: RunningService) -> str:
    forum: str = (await new_forum(service))["id"]
    return forum


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_every_spelling_registers(
    service: RunningService, forum_id: str, spelling: str
) -> None:
    path = f"/v1/forums/{SPELLINGS[spelling](forum_id)}/registrations"

    made = ok(await service.public.post(path, json=bodies.registration()), 201)

    assert made["forum_id"] == forum_id
    assert made["status"] == "confirmed"
    assert made["cancel_url"].endswith(
        f"/v1/registrations/{made['id']}/cancel?token={made['cancel_token']}"
    )


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_every_spelling_refuses_alike(
    service: RunningService, forum_id: str, spelling: str
) -> None:
    path = f"/v1/forums/{SPELLINGS[spelling](forum_id)}/registrations"
    oversized = bodies.registration(accessibility_needs="x" * 70_000)
    invalid = {**bodies.registration(), "attendees": 0, "consent": False}

    too_large = problem(await service.public.post(path, json=oversized), 413)
    refused = problem(await service.public.post(path, json=invalid), 422)
    malformed = problem(
        await service.public.post(
            path, content=b'{"contact": ', headers={"Content-Type": "application/json"}
        ),
        422,
    )

    assert (
        too_large["errors"] == [{"field": "body", "message": too_large["detail"]}]
        or (too_large["detail"])
    )
    assert {error["field"] for error in refused["errors"]} == {"attendees", "consent"}
    assert [error["field"] for error in malformed["errors"]] == ["body"]


async def test_an_invalid_forum_id_is_named_with_the_body_problems(
    service: RunningService,
) -> None:
    response = await service.public.post(
        "/v1/forums/not-a-forum/registrations", json={**bodies.registration(), "attendees": 0}
    )

    assert {error["field"] for error in problem(response, 422)["errors"]} == {
        "forum_id",
        "attendees",
    }


async def test_nothing_is_written_for_an_oversized_body(registration: RunningService) -> None:
    forum = await new_forum(registration)
    body = bodies.registration(accessibility_needs="x" * 70_000)

    response = await registration.public.post(f"/v1/forums/{forum['id']}/registrations", json=body)

    problem(response, 413)
    connection = await registration.database()
    try:
        assert await connection.fetchval("SELECT count(*) FROM registration.registrations") == 0
    finally:
        await connection.close()


async def test_other_methods_are_told_what_the_path_allows(
    service: RunningService, forum_id: str
) -> None:
    response = await service.staff.put(f"/v1/forums/{UUID(forum_id)}/registrations", json={})

    problem(response, 405)
    assert {method.strip() for method in response.headers["allow"].split(",")} == {"GET", "POST"}
