"""The registration fast path over real HTTP: limits FastAPI would not apply the same way."""

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, problem


async def test_an_oversized_body_is_refused_before_parsing(registration: RunningService) -> None:
    forum = await new_forum(registration)
    body = bodies.registration(accessibility_needs="x" * 70_000)

    response = await registration.public.post(f"/v1/forums/{forum['id']}/registrations", json=body)

    problem(response, 413)
    connection = await registration.database()
    try:
        assert await connection.fetchval("SELECT count(*) FROM registration.registrations") == 0
    finally:
        await connection.close()


async def test_a_malformed_body_names_the_body(registration: RunningService) -> None:
    forum = await new_forum(registration)

    response = await registration.public.post(
        f"/v1/forums/{forum['id']}/registrations",
        content=b'{"contact": ',
        headers={"Content-Type": "application/json"},
    )

    assert problem(response, 422)["errors"][0]["field"] == "body"
