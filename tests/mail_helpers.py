"""Mail for tests: messages built like the notification service's, sent over real SMTP."""

from email.message import EmailMessage
from email.policy import SMTP

import aiosmtplib

CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//dialognet//test//DE\r\nMETHOD:PUBLISH\r\n"
    b"BEGIN:VEVENT\r\nUID:forum-1@dialognet\r\nDTSTART:20271110T090000Z\r\n"
    b"SUMMARY:Forum Gleichbehandlung\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def confirmation(
    *,
    to: str = "Ana Beispiel <ana@example.org>",
    subject: str = "Anmeldung bestätigt: Forum Gleichbehandlung",
    html: str = "<p>Hallo Ana, Ihre Anmeldung ist <b>bestätigt</b>.</p>",
    message_id: str = "<confirmation-1@dialognet.example>",
) -> bytes:
    """A multipart message with text, HTML and an .ics attachment, as it goes over the wire."""
    message = EmailMessage(policy=SMTP)
    message["From"] = "Dialognetz <noreply@dialognet.example>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Tue, 10 Nov 2026 10:15:00 +0100"
    message["Message-ID"] = message_id
    message.set_content("Hallo Ana,\nIhre Anmeldung ist bestätigt.\n")
    message.add_alternative(html, subtype="html")
    message.add_attachment(CALENDAR, maintype="text", subtype="calendar", filename="Einladung.ics")
    return message.as_bytes()


async def send(
    port: int,
    raw: bytes,
    recipients: list[str],
    sender: str = "noreply@dialognet.example",
) -> None:
    """Deliver `raw` as it is (it must use CRLF line ends) to the SMTP server on `port`."""
    await aiosmtplib.send(
        raw, sender=sender, recipients=recipients, hostname="127.0.0.1", port=port
    )


def metric_value(exposition: str, name: str) -> float:
    """The value of an unlabelled metric in a Prometheus text exposition."""
    for line in exposition.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")
