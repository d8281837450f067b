"""The sink's pages over real HTTP: what a person sees of a message, and that nothing a mail
holds runs or fetches anything — its HTML only in a sandboxed document, every value escaped."""

import base64
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from zoneinfo import ZoneInfo

import pytest

from services.runtime.mailbox.sandbox import MAIL_CONTENT_POLICY
from tests.mail_helpers import confirmation
from tests.mail_sink import RunningMailbox

pytestmark = pytest.mark.integration

SANDBOX_POLICY = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"
HOSTILE_HTML = (
    "<p>Hallo</p><script>document.title='pwned'</script>"
    '<img src="https://tracker.example/pixel.gif" alt="">'
)
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def _page(mailbox: RunningMailbox, path: str) -> str:
    response = await mailbox.http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


async def test_the_list_shows_recipient_subject_and_berlin_time(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org", "bcc@example.org"])
    item = await mailbox.only_message()

    page = await _page(mailbox, "/")

    received = datetime.fromisoformat(item["received_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert received.strftime("%Y-%m-%d %H:%M:%S %Z") in page
    assert "ana@example.org, bcc@example.org" in page
    assert (
        f'<a href="/messages/{item["id"]}">Anmeldung bestätigt: Forum Gleichbehandlung</a>' in page
    )


async def test_the_message_page_shows_subject_text_headers_attachments(
    mailbox: RunningMailbox,
) -> None:
    await mailbox.send(confirmation(), ["ana@example.org", "bcc@example.org"])
    item = await mailbox.only_message()

    page = await _page(mailbox, f"/messages/{item['id']}")

    assert "<h1>Anmeldung bestätigt: Forum Gleichbehandlung</h1>" in page
    assert "Hallo Ana,\r\nIhre Anmeldung ist bestätigt." in page  # the text part
    assert "<dt>Bcc</dt><dd>bcc@example.org</dd>" in page
    assert (
        '<th scope="row">Message-ID</th><td>&lt;confirmation-1@dialognet.example&gt;</td>' in page
    )
    assert '<th scope="row">From</th><td>Dialognetz &lt;noreply@dialognet.example&gt;</td>' in page
    assert f'href="/api/messages/{item["id"]}/attachments/2" download="Einladung.ics"' in page
    assert f'href="/api/messages/{item["id"]}/raw"' in page


async def test_html_is_served_only_sandboxed(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(html=HOSTILE_HTML), ["ana@example.org"])
    message_id = (await mailbox.only_message())["id"]

    page = await _page(mailbox, f"/messages/{message_id}")
    document = await mailbox.http.get(f"/messages/{message_id}/html")

    # The page holds none of the mail's markup, only a sandboxed frame pointing at it ...
    assert "<script" not in page
    assert "tracker.example" not in page
    assert f'<iframe class="html-body" sandbox src="/messages/{message_id}/html"' in page
    # ... and the document the frame loads may run no script and fetch nothing.
    assert document.text.strip() == HOSTILE_HTML
    assert document.headers["content-security-policy"] == SANDBOX_POLICY == MAIL_CONTENT_POLICY
    assert document.headers["x-content-type-options"] == "nosniff"


async def test_every_download_of_mail_content_is_sandboxed(mailbox: RunningMailbox) -> None:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = "HTML attached"
    message.set_content("see attachment")
    message.add_attachment(HOSTILE_HTML, subtype="html", filename="open-me.html")
    await mailbox.send(message.as_bytes(), ["ana@example.org"])
    detail = (await mailbox.http.get((await mailbox.only_message())["url"])).json()

    for url in (detail["raw_url"], detail["attachments"][0]["url"]):
        response = await mailbox.http.get(url)
        assert response.headers["content-security-policy"] == SANDBOX_POLICY, url
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["content-disposition"].startswith("attachment;"), url


async def test_a_hostile_subject_and_sender_are_escaped(mailbox: RunningMailbox) -> None:
    subject = "<script>alert('x')</script> & <b>fett</b>"
    escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;fett&lt;/b&gt;"
    raw = confirmation(subject=subject, to='"<img src=x onerror=alert(1)>" <ana@example.org>')
    await mailbox.send(raw, ["ana@example.org"])
    message_id = (await mailbox.only_message())["id"]

    for path in ("/", f"/messages/{message_id}"):
        page = await _page(mailbox, path)
        assert "<script>" not in page, path
        assert "<b>fett</b>" not in page, path
        assert escaped in page, path
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_embedded_images_are_shown_without_fetching(mailbox: RunningMailbox) -> None:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = "Logo"
    message.set_content("Logo")
    message.add_alternative('<p><img src="cid:logo@dialognet" alt="Logo"></p>', subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(PIXEL, maintype="image", subtype="png", cid="<logo@dialognet>")
    await mailbox.send(message.as_bytes(), ["ana@example.org"])
    message_id = (await mailbox.only_message())["id"]

    document = await mailbox.http.get(f"/messages/{message_id}/html")

    encoded = base64.b64encode(PIXEL).decode()
    assert f'<img src="data:image/png;base64,{encoded}" alt="Logo">' in document.text


async def test_the_delete_button_empties_the_mailbox(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org"])
    origin = str(mailbox.http.base_url).rstrip("/")

    response = await mailbox.http.post("/messages/delete", headers={"Origin": origin})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert (await mailbox.http.get("/api/messages")).json()["total"] == 0


async def test_another_site_cannot_empty_the_mailbox(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org"])
    message_id = (await mailbox.only_message())["id"]
    elsewhere = {"Origin": "https://evil.example"}

    all_at_once = await mailbox.http.post("/messages/delete", headers=elsewhere)
    one = await mailbox.http.post(f"/messages/{message_id}/delete", headers=elsewhere)

    assert all_at_once.status_code == one.status_code == 403
    assert (await mailbox.http.get("/api/messages")).json()["total"] == 1


async def test_an_unknown_message_page_is_a_404_page(mailbox: RunningMailbox) -> None:
    response = await mailbox.http.get("/messages/20260101T000000000000Z-00000000")

    assert response.status_code == 404
    assert "<h1>No such message</h1>" in response.text


async def test_the_stylesheet_comes_from_the_mailbox(mailbox: RunningMailbox) -> None:
    page = await _page(mailbox, "/")
    stylesheet = await mailbox.http.get("/static/mailbox.css")

    assert '<link rel="stylesheet" href="/static/mailbox.css">' in page
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "@media (max-width: 40rem)" in stylesheet.text
