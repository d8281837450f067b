"""The staff API over deliveries: listing by status, kind and forum (paged like every list of the
network), one delivery, a retry — and for nobody else: 401 without a token, 403 with an intake
token made with the CLI. Schemathesis checks the whole document against the running service
(tests/conformance.py)."""

from pathlib import Path
from uuid import uuid4

import httpx

from tests.cli import run_dialognet
from tests.conformance import assert_conforms
from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, ok, problem, registered


async def _forum_with_deliveries(platform: Platform, count: int) -> tuple[str, list[str]]:
    forum = await new_forum(platform.registration, bodies.forum(capacity=2, title="Liste"))
    addresses = [bodies.unique_email("liste") for _ in range(count)]
    for address in addresses:
        await registered(platform.registration, forum["id"], email=address)
    await platform.settled(count, forum_id=forum["id"])
    return forum["id"], addresses


async def test_deliveries_are_listed_by_status_kind_and_forum_page_by_page(
    platform: Platform,
) -> None:
    forum_id, addresses = await _forum_with_deliveries(platform, 5)
    client = platform.notification

    pages, params = [], {"forum_id": forum_id, "limit": "2"}
    while True:
        page = ok(await client.get("/v1/deliveries", params=params))
        pages.append(page["items"])
        if page["next"] is None:
            break
        params["cursor"] = page["next"]

    assert [len(items) for items in pages] == [2, 2, 1]
    listed = [item for items in pages for item in items]
    assert [item["recipient"] for item in listed] == addresses  # oldest first
    assert len({item["id"] for item in listed}) == 5
    waitlisted = ok(
        await client.get(
            "/v1/deliveries",
            params={"forum_id": forum_id, "kind": "registration_waitlisted", "status": "sent"},
        )
    )
    assert [item["recipient"] for item in waitlisted["items"]] == addresses[2:]
    assert (
        ok(await client.get("/v1/deliveries", params={"forum_id": forum_id, "status": "failed"}))[
            "items"
        ]
        == []
    )
    one = ok(await client.get(f"/v1/deliveries/{listed[0]['id']}"))
    assert one == listed[0]
    assert one["kind"] == "registration_confirmed"
    assert one["source_event_type"] == "registration.made"
    assert one["message_id"].startswith("<")
    assert one["message_id"].endswith("@polizei.example>")
    problem(await client.get("/v1/deliveries", params={"status": "lost"}), 422, "status")
    problem(await client.get("/v1/deliveries", params={"kind": "spam"}), 422, "kind")
    problem(await client.get("/v1/deliveries", params={"cursor": "nonsense"}), 422, "cursor")
    problem(await client.get("/v1/deliveries", params={"limit": "1001"}), 422, "limit")
    problem(await client.get(f"/v1/deliveries/{uuid4()}"), 404, "delivery_id")
    problem(await client.get("/v1/deliveries/not-an-id"), 422, "delivery_id")


async def test_only_staff_see_or_retry_deliveries(platform: Platform, tmp_path: Path) -> None:
    created = await run_dialognet(
        platform.settings, tmp_path, "token", "create", "--role", "intake", "--name", "CRM"
    )
    assert created.returncode == 0, created.stderr
    intake = created.stdout.strip()
    delivery = uuid4()
    requests = [
        ("GET", "/v1/deliveries"),
        ("GET", f"/v1/deliveries/{delivery}"),
        ("POST", f"/v1/deliveries/{delivery}/retry"),
    ]
    base = platform.settings.notification_public_base_url
    async with httpx.AsyncClient(base_url=base, timeout=30) as anybody:
        for method, path in requests:
            anonymous = await anybody.request(method, path)
            problem(anonymous, 401)
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            problem(await anybody.request(method, path, headers=_bearer("made-up")), 401)
            problem(await anybody.request(method, path, headers=_bearer(intake)), 403)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_api_answers_as_its_document_says(platform: Platform, tmp_path: Path) -> None:
    await _forum_with_deliveries(platform, 2)  # something to list and read
    await assert_conforms(platform.settings.notification_public_base_url, tmp_path, 30)
