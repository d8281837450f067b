"""Hostile input, as the issue probed it from outside: every probe answers a 4xx problem body
naming the field, and writes nothing (no forum, organisation, registration or outbox row); a
correlation id is taken only when it is printable ASCII."""

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID, uuid4

import httpx

from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    HTTP_REQUESTS,
    JsonBody,
    metric_value,
    new_forum,
    new_organization,
    ok,
    problem,
    register,
    registered,
    scrape_metrics,
)

TABLES = ("forums", "organizations", "registrations", "outbox")
NO_CONTROL_CHARACTERS = "must not contain control characters or line breaks"
BODY_LIMIT = 64 * 1024


async def _row_counts(service: RunningService) -> dict[str, int]:
    conn = await service.database()
    try:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM registration.{table}")
            for table in TABLES
        }
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _writes_nothing(service: RunningService) -> AsyncIterator[None]:
    """The block's requests add no row to any of the service's tables."""
    before = await _row_counts(service)
    yield
    assert await _row_counts(service) == before


def _message(response: httpx.Response, status: int, field: str) -> str:
    """The message the problem body gives for `field` (which it must name)."""
    body = problem(response, status, field=field)
    return next(str(error["message"]) for error in body["errors"] if error["field"] == field)


async def test_integers_beyond_their_range_are_refused(service: RunningService) -> None:
    forum = await new_forum(service)
    async with _writes_nothing(service):
        seats = await service.staff.post(
            "/v1/forums", json=bodies.forum(seats_per_organization=2066772235050)
        )
        capacity = await service.staff.post("/v1/forums", json=bodies.forum(capacity=100_001))
        patched_seats = await service.staff.patch(
            f"/v1/forums/{forum['id']}", json={"seats_per_organization": 2066772235050}
        )
        attendance = await service.staff.post(
            f"/v1/forums/{forum['id']}/held", json={"attendance": 1_000_001}
        )
        attendees = await register(service, forum["id"], bodies.registration(attendees=1001))
        limit = await service.staff.get("/v1/forums?limit=1001")

    assert "100000" in _message(seats, 422, "seats_per_organization")
    problem(capacity, 422, field="capacity")
    assert "100000" in _message(patched_seats, 422, "seats_per_organization")
    assert "1000000" in _message(attendance, 422, "attendance")
    problem(attendees, 422, field="attendees")
    problem(limit, 422, field="limit")


async def test_dates_out_of_range_are_refused(service: RunningService) -> None:
    forum = await new_forum(service)
    organization = await new_organization(service)
    year_one = "0001-01-01T00:00:00"
    async with _writes_nothing(service):
        # Without offset it is Berlin time: converting it to UTC overflowed and dropped the
        # connection.
        scheduled = await service.staff.post("/v1/forums", json=bodies.forum(starts_at=year_one))
        with_offset = await service.staff.post(
            "/v1/forums", json=bodies.forum(ends_at="9999-12-31T23:59:59-14:00")
        )
        patched = await service.staff.patch(
            f"/v1/forums/{forum['id']}", json={"registration_deadline": year_one}
        )
        joined = await service.staff.post(
            f"/v1/organizations/{organization['id']}/join",
            json={"agreement_signed_on": "0001-01-01"},
        )

    range_message = "must lie between 2000-01-01 and 2100-12-31"
    assert _message(scheduled, 422, "starts_at") == range_message
    assert _message(with_offset, 422, "ends_at") == range_message
    assert _message(patched, 422, "registration_deadline") == range_message
    assert "1990-01-01" in _message(joined, 422, "agreement_signed_on")


async def test_control_characters_are_refused_and_line_breaks_kept_in_free_text(
    service: RunningService,
) -> None:
    forum = await new_forum(service)
    async with _writes_nothing(service):
        nul_title = await service.staff.post("/v1/forums", json=bodies.forum(title="Forum\x00"))
        crlf_venue = await service.staff.post(
            "/v1/forums", json=bodies.forum(venue="Rathaus\r\nBcc: alle@example.org")
        )
        tab_topic = await service.staff.patch(
            f"/v1/forums/{forum['id']}", json={"topics": ["equal treatment", "racial\tprofiling"]}
        )
        separator_name = await register(
            service, forum["id"], bodies.registration(name="Ana\u2028Beispiel")
        )
        nel_district = await service.staff.post(
            "/v1/organizations",
            json=bodies.organization(district="Nord\u0085stadt"),
        )
        nul_needs = await register(
            service, forum["id"], bodies.registration(accessibility_needs="Rampe\x00")
        )
    multi_line = await registered(
        service, forum["id"], accessibility_needs="Rampe am Eingang\r\n\tPlatz vorn"
    )

    assert _message(nul_title, 422, "title").startswith(NO_CONTROL_CHARACTERS)
    assert "U+000D" in _message(crlf_venue, 422, "venue")
    assert _message(tab_topic, 422, "topics.1").startswith(NO_CONTROL_CHARACTERS)
    assert "U+2028" in _message(separator_name, 422, "contact.name")
    assert "U+0085" in _message(nel_district, 422, "district")
    assert "U+0000" in _message(nul_needs, 422, "accessibility_needs")
    assert multi_line["accessibility_needs"] == "Rampe am Eingang\r\n\tPlatz vorn"


async def test_repeated_list_items_are_refused_naming_the_value(service: RunningService) -> None:
    forum = await new_forum(service, bodies.started_forum())
    repeated = str(uuid4())
    async with _writes_nothing(service):
        scheduled = await service.staff.post(
            "/v1/forums", json=bodies.forum(topics=["youth", "police", "youth"])
        )
        held = await service.staff.post(
            f"/v1/forums/{forum['id']}/held",
            json={"attendance": 3, "attended_registration_ids": [repeated, repeated]},
        )

    assert _message(scheduled, 422, "topics") == "'youth' is given more than once"
    assert repeated in _message(held, 422, "attended_registration_ids")


async def test_lists_and_strings_are_bounded(service: RunningService) -> None:
    forum = await new_forum(service)
    registration = await registered(service, forum["id"])
    long_website = "https://example.org/" + "a" * 490
    long_email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org"
    async with _writes_nothing(service):
        website = await service.staff.post(
            "/v1/organizations", json=bodies.organization(website=long_website)
        )
        email = await register(service, forum["id"], bodies.registration(email=long_email))
        topics = await service.staff.post(
            "/v1/forums", json=bodies.forum(topics=[f"topic {n}" for n in range(31)])
        )
        title = await service.staff.post("/v1/forums", json=bodies.forum(title="T" * 201))
        token = await service.public.post(
            f"/v1/registrations/{registration['id']}/cancel", json={"cancel_token": "x" * 201}
        )

    assert "500" in _message(website, 422, "website")
    problem(email, 422, field="contact.email")
    assert "30" in _message(topics, 422, "topics")
    assert "200" in _message(title, 422, "title")
    problem(token, 422, field="cancel_token")


def _padded(body: JsonBody, size: int) -> bytes:
    """`body` as JSON, padded with trailing whitespace (still valid JSON) to `size` bytes."""
    encoded = json.dumps(body).encode()
    return encoded + b" " * (size - len(encoded))


async def _chunks(content: bytes) -> AsyncIterator[bytes]:
    """Streams `content`: httpx then sends it chunked, without Content-Length."""
    for start in range(0, len(content), 8192):
        yield content[start : start + 8192]


async def _send(
    client: httpx.AsyncClient, method: str, path: str, content: bytes, *, chunked: bool
) -> httpx.Response:
    response = await client.request(
        method,
        path,
        content=_chunks(content) if chunked else content,
        headers={"Content-Type": "application/json"},
    )
    assert ("content-length" not in response.request.headers) == chunked
    return response


async def test_the_body_limit_is_64_kib_on_every_route_with_or_without_content_length(
    service: RunningService,
) -> None:
    forum = await new_forum(service)
    organization = await new_organization(service)
    over_limit = _padded({}, BODY_LIMIT + 1024)
    routes = [
        (service.staff, "POST", "/v1/forums"),
        (service.public, "POST", f"/v1/forums/{forum['id']}/registrations"),  # the fast path
        (service.staff, "PATCH", f"/v1/forums/{forum['id']}"),
        (service.staff, "GET", "/v1/forums"),
        (service.staff, "DELETE", f"/v1/organizations/{organization['id']}"),
    ]
    before = await scrape_metrics(service)
    async with _writes_nothing(service):
        refused = [
            await _send(client, method, path, over_limit, chunked=chunked)
            for client, method, path in routes
            for chunked in (False, True)
        ]
    at_limit = [
        await _send(
            service.staff,
            "POST",
            "/v1/forums",
            _padded(bodies.forum(title=f"Forum at the limit, chunked: {chunked}"), BODY_LIMIT),
            chunked=chunked,
        )
        for chunked in (False, True)
    ]
    after = await scrape_metrics(service)

    for response in refused:
        assert "64 KiB" in _message(response, 413, "body"), response.request
    deleted = {"method": "DELETE", "status": "413"}
    assert (
        metric_value(after, HTTP_REQUESTS, **deleted)
        - metric_value(before, HTTP_REQUESTS, **deleted)
        == 2
    )
    assert not ok(await service.staff.get(f"/v1/organizations/{organization['id']}"))["erased"]
    assert [ok(response, 201)["title"] for response in at_limit] == [
        "Forum at the limit, chunked: False",
        "Forum at the limit, chunked: True",
    ]


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _json_cursor(*parts: object) -> str:
    return _cursor(json.dumps(parts).encode())


async def _all_pages(service: RunningService, path: str) -> list[JsonBody]:
    """Every item of a list, two at a time, following `next` until it is null."""
    items: list[JsonBody] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = ok(await service.staff.get(path, params=params))
        items += page["items"]
        if page["next"] is None:
            return items
        cursor = page["next"]


async def test_cursors_given_out_are_taken_back_and_any_other_is_refused(
    service: RunningService,
) -> None:
    for starts_in in (timedelta(days=3), timedelta(days=1), timedelta(days=2)):
        await new_forum(service, bodies.forum(starts_in=starts_in))
    forum = await new_forum(service)
    for _ in range(3):
        await registered(service, forum["id"])
    forum_id = str(uuid4())
    garbage = {
        "/v1/forums": [
            "%%%",  # not base64
            _cursor(b"\xff\xfe\xfd"),  # not UTF-8
            _cursor(b"not json"),
            _cursor(b"[" * 1500 + b"]" * 1500),  # RecursionError in the JSON decoder
            _json_cursor({"starts_at": "2030-01-01T00:00:00+00:00"}),
            _json_cursor("2030-01-01T00:00:00+00:00"),  # one part of two
            _json_cursor(2030, 1),
            _json_cursor("9999-12-31T23:59:59-14:00", forum_id),  # past the year 9999 in UTC
            _json_cursor("2030-01-01T00:00:00", forum_id),  # no offset
            _json_cursor("2030-01-01T00:00:00+00:00", "not-a-uuid"),
            "A" * 4097,
        ],
        "/v1/organizations": [
            _json_cursor("Verein\x00", forum_id),  # NUL: PostgreSQL text cannot hold it
            _json_cursor("\ud800", forum_id),  # a lone surrogate: not encodable as UTF-8
            _json_cursor("V" * 201, forum_id),
        ],
        f"/v1/forums/{forum['id']}/registrations": [
            _json_cursor("9" * 30),
            _json_cursor(str(2**63)),  # one past bigint
            _json_cursor("-1"),
            _json_cursor("1", "2"),
        ],
    }

    refused = [
        (path, cursor, await service.staff.get(path, params={"cursor": cursor}))
        for path, cursors in garbage.items()
        for cursor in cursors
    ]
    forums = await _all_pages(service, "/v1/forums")
    organizations = await _all_pages(service, "/v1/organizations")
    registrations = await _all_pages(service, f"/v1/forums/{forum['id']}/registrations")

    for path, cursor, response in refused:
        assert response.status_code == 422, (path, cursor[:40], response.text)
        problem(response, 422, field="cursor")
    for path, paged in (
        ("/v1/forums", forums),
        ("/v1/organizations", organizations),
        (f"/v1/forums/{forum['id']}/registrations", registrations),
    ):
        assert paged == ok(await service.staff.get(path, params={"limit": 1000}))["items"], path
    assert [forum["starts_at"] for forum in forums] == sorted(f["starts_at"] for f in forums)
    assert len(registrations) == 3


async def test_a_non_ascii_cancel_token_is_forbidden(service: RunningService) -> None:
    forum = await new_forum(service)
    made = await registered(service, forum["id"])
    path = f"/v1/registrations/{made['id']}/cancel"
    async with _writes_nothing(service):
        in_body = await service.public.post(path, json={"cancel_token": "ä" * 64})
        as_query = await service.public.post(path, params={"token": "Ω" + made["cancel_token"][1:]})
        emoji = await service.public.post(path, json={"cancel_token": "🙂"})

    for response in (in_body, as_query, emoji):
        problem(response, 403, field="cancel_token")
    listed = ok(await service.staff.get(f"/v1/forums/{forum['id']}/registrations"))
    assert [item["status"] for item in listed["items"]] == ["confirmed"]


async def test_only_a_printable_ascii_correlation_id_is_copied_into_facts(
    service: RunningService,
) -> None:
    offered: list[bytes] = [b"portal-4711", b"caf\xe9", b"a\tb", b"x" * 101]
    scheduled = [
        ok(
            await service.staff.post(
                "/v1/forums", json=bodies.forum(), headers={"X-Correlation-Id": header}
            ),
            201,
        )
        for header in offered
    ]

    conn = await service.database()
    try:
        copied = [
            await conn.fetchval(
                "SELECT envelope->>'correlation_id' FROM registration.outbox"
                " WHERE message_key = $1 AND type = 'forum.scheduled'",
                forum["id"],
            )
            for forum in scheduled
        ]
    finally:
        await conn.close()
    assert copied[0] == "portal-4711"
    # A fresh one instead of latin-1 é, a tab, or 101 characters.
    assert all(_is_uuid(fresh) for fresh in copied[1:]), copied


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


async def test_a_body_that_is_not_readable_json_is_named(service: RunningService) -> None:
    forum = await new_forum(service)
    unreadable = {
        "nested too deeply": b'{"title": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        "not UTF-8": b'{"title": "Forum \xff\xfe"}',
        "a number too long": b'{"capacity": ' + b"9" * 5000 + b"}",
    }
    async with _writes_nothing(service):
        parsed_by_fastapi = {
            reason: await _send(service.staff, "POST", "/v1/forums", content, chunked=False)
            for reason, content in unreadable.items()
        }
        parsed_by_fast_path = [
            await _send(
                service.staff,
                "POST",
                f"/v1/forums/{forum['id']}/registrations",
                content,
                chunked=False,
            )
            for content in unreadable.values()
        ]
        truncated = await _send(
            service.staff, "POST", "/v1/forums", b'{"title": "Forum", ', chunked=False
        )

    for reason, response in parsed_by_fastapi.items():
        assert _message(response, 422, "body").startswith("not JSON this API can read"), reason
    for response in parsed_by_fast_path:
        assert _message(response, 422, "body").startswith("not JSON: ")
    assert _message(truncated, 422, "body").startswith("not JSON: ")
