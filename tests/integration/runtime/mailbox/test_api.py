"""The sink's JSON API over real HTTP, fed over real SMTP: one message in full, attachments byte
for byte, filters and paging, emptying, and problem answers for ids it does not know."""

from typing import Any

import pytest

from tests.mail_helpers import CALENDAR, confirmation, metric_value
from tests.mail_sink import RunningMailbox

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"


async def _send_three(mailbox: RunningMailbox) -> list[str]:
    """Three messages to different people; their ids, oldest first."""
    for number, (to, subject) in enumerate(
        [
            ("ana@example.org", "Anmeldung bestätigt: Forum Gleichbehandlung"),
            ("bo@example.org", "Warteliste: Offene Konferenz"),
            ("ana@example.org", "Erinnerung: Offene Konferenz"),
        ]
    ):
        raw = confirmation(to=to, subject=subject, message_id=f"<m{number}@dialognet.example>")
        await mailbox.send(raw, [to])
    listed = (await mailbox.http.get("/api/messages")).json()
    return [item["id"] for item in reversed(listed["items"])]


async def test_one_message_with_bodies_headers_and_attachments(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org"])
    listed = await mailbox.only_message()

    response = await mailbox.http.get(listed["url"])

    assert response.status_code == 200, response.text
    message = response.json()
    assert message["text"] == "Hallo Ana,\r\nIhre Anmeldung ist bestätigt.\r\n"
    assert message["html"].strip() == "<p>Hallo Ana, Ihre Anmeldung ist <b>bestätigt</b>.</p>"
    headers = {header["name"]: header["value"] for header in message["headers"]}
    assert headers["Subject"] == "Anmeldung bestätigt: Forum Gleichbehandlung"
    assert headers["From"] == "Dialognetz <noreply@dialognet.example>"
    [attachment] = message["attachments"]
    assert attachment["filename"] == "Einladung.ics"
    assert attachment["content_type"] == "text/calendar"
    assert attachment["size"] == len(CALENDAR)
    assert attachment["inline"] is False


async def test_an_attachment_downloads_byte_identical(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org"])
    message = (await mailbox.http.get((await mailbox.only_message())["url"])).json()

    download = await mailbox.http.get(message["attachments"][0]["url"])

    assert download.status_code == 200
    assert download.content == CALENDAR
    assert download.headers["content-type"] == "text/calendar"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Einladung.ics"')


async def test_the_raw_message_is_what_was_sent(mailbox: RunningMailbox) -> None:
    raw = confirmation()
    await mailbox.send(raw, ["ana@example.org"])
    message_id = (await mailbox.only_message())["id"]

    response = await mailbox.http.get(f"/api/messages/{message_id}/raw")

    assert response.content == raw
    assert response.headers["content-type"] == "message/rfc822"
    assert f'filename="{message_id}.eml"' in response.headers["content-disposition"]


async def test_newest_first_and_filtered(mailbox: RunningMailbox) -> None:
    first, second, third = await _send_three(mailbox)

    async def ids(**params: Any) -> list[str]:
        listed = (await mailbox.http.get("/api/messages", params=params)).json()
        return [item["id"] for item in listed["items"]]

    assert await ids() == [third, second, first]
    assert await ids(to="ANA@example.org") == [third, first]
    assert await ids(subject="offene konferenz") == [third, second]
    assert await ids(to="ana@example.org", subject="Konferenz") == [third]
    assert await ids(**{"from": "noreply@dialognet.example"}) == [third, second, first]
    assert await ids(to="nobody@example.org") == []


async def test_pages_follow_next(mailbox: RunningMailbox) -> None:
    first, second, third = await _send_three(mailbox)

    page_one = (await mailbox.http.get("/api/messages", params={"limit": 2})).json()
    cursor = {"limit": 2, "cursor": page_one["next"]}
    page_two = (await mailbox.http.get("/api/messages", params=cursor)).json()

    assert [item["id"] for item in page_one["items"]] == [third, second]
    assert [item["id"] for item in page_two["items"]] == [first]
    assert page_one["total"] == page_two["total"] == 3
    assert page_two["next"] is None


async def test_a_cursor_not_given_out_is_refused_by_name(mailbox: RunningMailbox) -> None:
    response = await mailbox.http.get("/api/messages", params={"cursor": "../../etc"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [error["field"] for error in response.json()["errors"]] == ["cursor"]


async def test_delete_empties_the_mailbox(mailbox: RunningMailbox) -> None:
    await _send_three(mailbox)

    response = await mailbox.http.delete("/api/messages")

    assert response.status_code == 204
    assert (await mailbox.http.get("/api/messages")).json() == {
        "total": 0,
        "items": [],
        "next": None,
    }
    assert [path.name for path in mailbox.root.iterdir() if not path.name.startswith(".")] == []


async def test_delete_one_message(mailbox: RunningMailbox) -> None:
    first, second, third = await _send_three(mailbox)

    response = await mailbox.http.delete(f"/api/messages/{second}")

    assert response.status_code == 204
    listed = (await mailbox.http.get("/api/messages")).json()
    assert [item["id"] for item in listed["items"]] == [third, first]
    gone = await mailbox.http.get(f"/api/messages/{second}")
    assert gone.status_code == 404
    assert gone.json()["detail"].startswith("no message with this id")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/messages/20260101T000000000000Z-00000000"),
        ("GET", "/api/messages/20260101T000000000000Z-00000000/raw"),
        ("GET", "/api/messages/20260101T000000000000Z-00000000/attachments/0"),
        ("DELETE", "/api/messages/20260101T000000000000Z-00000000"),
        ("GET", "/api/messages/..%2F..%2Fetc%2Fpasswd"),
        ("GET", "/api/messages/.incoming"),
    ],
)
async def test_unknown_ids_are_404_problems(
    mailbox: RunningMailbox, method: str, path: str
) -> None:
    response = await mailbox.http.request(method, path)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 404


async def test_an_unknown_attachment_is_a_404_problem(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org"])
    message_id = (await mailbox.only_message())["id"]

    response = await mailbox.http.get(f"/api/messages/{message_id}/attachments/7")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_health_and_metrics(mailbox: RunningMailbox) -> None:
    received_before = metric_value(
        await mailbox.metrics(), "dialognet_mailbox_messages_received_total"
    )
    raw = confirmation()
    await mailbox.send(raw, ["ana@example.org"])

    ready = await mailbox.http.get("/health/ready")
    live = await mailbox.http.get("/health/live")

    assert ready.status_code == 200
    assert ready.json()["checks"] == {"smtp": "ok", "store": "ok"}
    assert live.status_code == 200
    exposition = await mailbox.metrics()
    received = metric_value(exposition, "dialognet_mailbox_messages_received_total")
    assert received == received_before + 1
    assert 'dialognet_http_requests_total{method="GET",route="/health/ready",service="mailbox"' in (
        exposition
    )
