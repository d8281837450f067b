"""The mail writing process (services/notification/writer.py), as the sender uses it: a real
child process over its pipes."""

import asyncio
import os
import signal
from email import message_from_bytes, policy

import pytest

from services.notification.compose import MailNotComposable
from services.notification.compose.examples import example_mail
from services.notification.domain.mails import Kind
from services.notification.writer import MailWriter, WriterLost

SENDER = "Dialognet <noreply@dialognet.example>"


def _message_id(written: bytes) -> str:
    return str(message_from_bytes(written, policy=policy.SMTP)["Message-ID"])


async def test_mails_written_at_once_each_come_back_as_their_own() -> None:
    writer = MailWriter(SENDER)
    await writer.start()
    try:
        mail = example_mail(Kind.REGISTRATION_CONFIRMED)
        ids = [f"<mail-{number}@dialognet.example>" for number in range(20)]
        written = await asyncio.gather(*(writer.write(mail, each) for each in ids))
    finally:
        await writer.close()
    assert [_message_id(each) for each in written] == ids
    assert all(b"BEGIN:VCALENDAR" in each or b"QkVHSU46VkNBTEVOREFS" in each for each in written)


async def test_a_mail_that_cannot_be_written_says_why_and_the_next_is_written() -> None:
    writer = MailWriter(SENDER)
    try:
        mail = example_mail(Kind.REGISTRATION_CANCELLED)
        with pytest.raises(MailNotComposable, match="Message-ID must look like"):
            await writer.write(mail, "no angle brackets")
        written = await writer.write(mail, "<after@dialognet.example>")
    finally:
        await writer.close()
    assert _message_id(written) == "<after@dialognet.example>"


async def test_a_killed_writer_fails_what_it_owed_and_a_new_one_writes_the_next() -> None:
    writer = MailWriter(SENDER)
    await writer.start()
    first = writer.pid
    try:
        mail = example_mail(Kind.REGISTRATION_CONFIRMED)
        owed = [
            asyncio.ensure_future(writer.write(mail, f"<owed-{n}@dialognet.example>"))
            for n in range(5)
        ]
        await asyncio.sleep(0)  # every request on its way before the kill
        os.kill(first, signal.SIGKILL)
        outcomes = await asyncio.gather(*owed, return_exceptions=True)
        written = await writer.write(mail, "<next@dialognet.example>")
        second = writer.pid
    finally:
        await writer.close()
    # Answered before the kill, or lost with the process: never hanging, never another's.
    for number, outcome in enumerate(outcomes):
        if isinstance(outcome, bytes):
            assert _message_id(outcome) == f"<owed-{number}@dialognet.example>"
        else:
            assert isinstance(outcome, WriterLost)
    assert any(isinstance(outcome, WriterLost) for outcome in outcomes)
    assert _message_id(written) == "<next@dialognet.example>"
    assert second != first


async def test_closing_ends_the_process() -> None:
    writer = MailWriter(SENDER)
    await writer.start()
    pid = writer.pid
    await writer.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_ctrl_c_in_a_terminal_leaves_the_writer_to_the_service() -> None:
    """SIGINT reaches the whole process group; the service ends the writer by closing its input."""
    writer = MailWriter(SENDER)
    await writer.start()
    pid = writer.pid
    try:
        os.kill(pid, signal.SIGINT)
        welcome = example_mail(Kind.PARTNER_WELCOME)
        written = await writer.write(welcome, "<after@dialognet.example>")
    finally:
        await writer.close()
    assert _message_id(written) == "<after@dialognet.example>"
    assert writer.pid == pid
