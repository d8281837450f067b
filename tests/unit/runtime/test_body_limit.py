"""The body size limit at the ASGI level: what the app gets, and how much is ever read."""

import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from services.runtime.http import BodySizeLimit

LIMIT = 1024


class RecordingApp:
    """The app behind the limit: answers 204 after reading, and keeps every message it read."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        self.received.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class Client:
    """The server's side of one request: hands out `messages`, counts what was taken."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.taken = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        message = self.messages[self.taken]
        self.taken += 1
        return message

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def answer(self) -> tuple[int, dict[str, Any]]:
        status = self.sent[0]["status"]
        body = b"".join(message.get("body", b"") for message in self.sent[1:])
        return status, json.loads(body) if body else {}


def _scope(*headers: tuple[bytes, bytes]) -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}


def _chunks(count: int, size: int) -> list[Message]:
    return [
        {"type": "http.request", "body": b"x" * size, "more_body": index < count - 1}
        for index in range(count)
    ]


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    # 5,000 digits: int() of so long a string raises, which would have been a 500.
    for declared in (b"1025", b"9" * 5000):
        app, client = RecordingApp(), Client(_chunks(1, 10))
        await BodySizeLimit(app, max_bytes=LIMIT)(
            _scope((b"content-length", declared)), client.receive, client.send
        )

        status, body = client.answer()
        assert (status, body["errors"][0]["field"]) == (413, "body")
        assert not app.called
        assert client.taken == 0


async def test_a_chunked_body_is_read_no_further_than_past_the_limit() -> None:
    app, client = RecordingApp(), Client(_chunks(100, 300))

    await BodySizeLimit(app, max_bytes=LIMIT)(_scope(), client.receive, client.send)

    assert client.answer()[0] == 413
    assert not app.called
    assert client.taken == 4  # 1,200 bytes: the first chunk past 1,024


async def test_a_chunked_body_within_the_limit_reaches_the_app_whole() -> None:
    app, client = RecordingApp(), Client(_chunks(4, 256))

    await BodySizeLimit(app, max_bytes=LIMIT)(_scope(), client.receive, client.send)

    assert client.answer()[0] == 204
    assert app.received == [{"type": "http.request", "body": b"x" * 1024, "more_body": False}]


async def test_a_client_gone_mid_body_is_a_disconnect_to_the_app() -> None:
    app, client = RecordingApp(), Client([*_chunks(2, 10)[:1], {"type": "http.disconnect"}])

    await BodySizeLimit(app, max_bytes=LIMIT)(_scope(), client.receive, client.send)

    assert app.received == [{"type": "http.disconnect"}]
