"""The sink's SMTP side over real TCP: every message is kept with its envelope, in the data dir,
across restarts; oversized ones are refused; one that cannot be stored is refused for now."""

import shutil

import aiosmtplib
import pytest

from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.mail_helpers import confirmation, metric_value
from tests.mail_sink import RunningMailbox, running_mailbox

pytestmark = pytest.mark.integration

STORE_FAILURES = "dialognet_mailbox_store_failures_total"


async def test_a_message_is_listed_with_its_fields(mailbox: RunningMailbox) -> None:
    await mailbox.send(confirmation(), ["ana@example.org"])

    item = await mailbox.only_message()
    assert item["from"] == "noreply@dialognet.example"
    assert item["to"] == ["ana@example.org"]
    assert item["subject"] == "Anmeldung bestätigt: Forum Gleichbehandlung"
    assert item["date"] == "2026-11-10T09:15:00Z"  # 10:15 in Berlin, in UTC
    assert item["message_id"] == "<confirmation-1@dialognet.example>"
    assert item["recipients"] == ["ana@example.org"]
    assert item["envelope_sender"] == "noreply@dialognet.example"
    assert item["attachment_count"] == 1
    assert item["received_at"].endswith("Z")


async def test_blind_copies_are_kept_from_the_envelope(mailbox: RunningMailbox) -> None:
    # No header names the Bcc recipient (clients drop the Bcc header): only RCPT TO knows it.
    raw = confirmation(to="ana@example.org")
    assert b"Bcc" not in raw
    await mailbox.send(raw, ["ana@example.org", "Leitung@Example.org"])

    item = await mailbox.only_message()
    assert item["to"] == ["ana@example.org"]
    assert item["bcc"] == ["Leitung@Example.org"]
    assert item["recipients"] == ["ana@example.org", "Leitung@Example.org"]
    found = (await mailbox.http.get("/api/messages", params={"to": "leitung@example.org"})).json()
    assert [message["id"] for message in found["items"]] == [item["id"]]


async def test_messages_survive_a_restart(mailbox_settings: Settings) -> None:
    raw = confirmation()
    async with running_mailbox(mailbox_settings) as first:
        await first.send(raw, ["ana@example.org", "bcc@example.org"])
        before = await first.only_message()

    async with running_mailbox(mailbox_settings) as second:
        after = await second.only_message()
        stored = await second.http.get(f"/api/messages/{after['id']}/raw")

    assert after == before
    assert stored.content == raw


async def test_an_oversized_message_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    limit = 64 * 1024
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("sink"),
        mailbox_port=free_port(),
        mailbox_smtp_port=free_port(),
        mailbox_max_message_bytes=limit,
    )
    oversized = confirmation(html=("<p>" + "x" * 76 + "</p>\n") * (limit // 80 + 100))
    assert len(oversized) > limit
    async with running_mailbox(settings) as mailbox:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.mailbox_smtp_port) as smtp:
            assert smtp.supports_extension("size")
            assert smtp.esmtp_extensions["size"] == str(limit)
            # A client that declares the size hears 552 before it sends the message ...
            with pytest.raises(aiosmtplib.SMTPResponseException) as declared:
                await smtp.sendmail("a@example.org", ["b@example.org"], oversized)
            assert declared.value.code == 552
            # ... one that does not, after it: nothing of it is kept either way.
            await smtp.mail("a@example.org")
            await smtp.rcpt("b@example.org")
            with pytest.raises(aiosmtplib.SMTPResponseException) as undeclared:
                await smtp.data(oversized)
            assert undeclared.value.code == 552
        listed = (await mailbox.http.get("/api/messages")).json()
    assert listed["total"] == 0


async def test_a_message_that_cannot_be_stored_is_refused_for_now(
    mailbox: RunningMailbox,
) -> None:
    # Staging is where every message is written first; a file in its place makes writes fail.
    incoming = mailbox.root / ".incoming"
    shutil.rmtree(incoming)
    incoming.write_text("in the way")
    failures_before = metric_value(await mailbox.metrics(), STORE_FAILURES)

    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await mailbox.send(confirmation(), ["ana@example.org"])

    assert refused.value.code == 451  # temporary: the client keeps the message and retries
    ready = await mailbox.http.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"].startswith("failed")
    assert ready.json()["checks"]["smtp"] == "ok"
    failures = metric_value(await mailbox.metrics(), STORE_FAILURES)
    assert failures == failures_before + 1
    assert (await mailbox.http.get("/api/messages")).json()["total"] == 0
