"""The .ics: inline for calendar clients and attached, parsed back with icalendar."""

from datetime import UTC, datetime
from email.message import EmailMessage

import icalendar
import pytest

from services.notification.compose import compose
from services.notification.domain.mails import Kind
from tests.unit.notification.sample_mails import (
    CALENDAR_METHODS,
    FORUM_ID,
    MESSAGE_ID,
    REGISTRATION_ID,
    SENDER,
    SENT_AT,
    SUMMER_END,
    SUMMER_START,
    WINTER_END,
    WINTER_START,
    as_received,
    forum,
    mail,
)

UID = f"{FORUM_ID}.{REGISTRATION_ID}@dialognet"


def calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def the_event(message: EmailMessage) -> tuple[icalendar.Calendar, icalendar.Event, bytes]:
    inline, attached = calendar_parts(message)
    # The bytes as sent (base64 undone), CRLF line ends and folding as icalendar wrote them.
    ics = attached.get_payload(decode=True)
    assert isinstance(ics, bytes)
    assert inline.get_payload(decode=True) == ics
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event, ics


@pytest.mark.parametrize(("kind", "method"), CALENDAR_METHODS.items())
def test_each_calendar_kind_carries_its_event(kind: Kind, method: str) -> None:
    message = as_received(
        compose(mail(kind, sequence=2), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)
    )

    calendar, event, ics = the_event(message)
    assert calendar["METHOD"] == method
    assert calendar["VERSION"] == "2.0"
    assert "dialognet" in calendar["PRODID"]
    assert event["UID"] == UID
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert event.decoded("DTSTART") == WINTER_START
    assert event.decoded("DTEND") == WINTER_END
    assert event.decoded("DTSTAMP") == SENT_AT
    assert b"\r\nDTSTART:20250327T160000Z\r\n" in ics
    assert b"\r\nDTEND:20250327T183000Z\r\n" in ics
    assert event["SUMMARY"] == "Racial Profiling: Erfahrungen und Wege"
    assert event["ORGANIZER"] == "mailto:dialog@polizei.example"
    assert event["ORGANIZER"].params["CN"] == "Dialognetzwerk"
    assert event["ATTENDEE"] == "mailto:ayse.mueller@bruecke.example"
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"


def test_summer_time_is_converted_to_utc_in_the_calendar() -> None:
    summer = mail(
        Kind.REGISTRATION_CONFIRMED, forum_facts=forum(starts_at=SUMMER_START, ends_at=SUMMER_END)
    )

    _, event, ics = the_event(compose(summer, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert b"\r\nDTSTART:20250626T150000Z\r\n" in ics
    assert event.decoded("DTSTART") == datetime(2025, 6, 26, 15, 0, tzinfo=UTC)


def test_an_update_keeps_the_uid_and_raises_the_sequence() -> None:
    confirmed = mail(Kind.REGISTRATION_CONFIRMED, sequence=0)
    updated = mail(Kind.FORUM_UPDATED, sequence=1)

    _, first, _ = the_event(compose(confirmed, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))
    _, second, _ = the_event(compose(updated, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert first["UID"] == second["UID"] == UID
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)


def test_text_values_are_escaped_by_the_library() -> None:
    venue = "Rathaus, Saal 2; Eingang B\nMarktplatz 1"
    sample = mail(Kind.FORUM_REMINDER, forum_facts=forum(venue=venue))

    _, event, ics = the_event(compose(sample, sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert b"LOCATION:Rathaus\\, Saal 2\\; Eingang B\\nMarktplatz 1\r\n" in ics
    assert event["LOCATION"] == venue


@pytest.mark.parametrize(
    ("kind", "language", "filename", "method"),
    [
        (Kind.REGISTRATION_CONFIRMED, "de", "einladung.ics", "REQUEST"),
        (Kind.FORUM_CANCELLED, "de", "absage.ics", "CANCEL"),
        (Kind.FORUM_REMINDER, "en", "invite.ics", "REQUEST"),
        (Kind.REGISTRATION_CANCELLED, "en", "cancellation.ics", "CANCEL"),
    ],
)
def test_the_calendar_goes_inline_and_as_a_named_attachment(
    kind: Kind, language: str, filename: str, method: str
) -> None:
    message = as_received(
        compose(mail(kind, language=language), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT)
    )

    assert message.get_content_type() == "multipart/mixed"
    alternative, attached = message.iter_parts()
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    inline = list(alternative.iter_parts())[2]
    for part in (inline, attached):
        assert part.get_param("method") == method
        assert part.get_content_charset() == "utf-8"
    assert inline.get_filename() is None
    assert attached.get_filename() == filename
    assert attached.get_content_disposition() == "attachment"


@pytest.mark.parametrize("kind", [kind for kind in Kind if kind not in CALENDAR_METHODS])
def test_kinds_without_a_calendar_have_no_ics(kind: Kind) -> None:
    message = as_received(compose(mail(kind), sender=SENDER, message_id=MESSAGE_ID, date=SENT_AT))

    assert calendar_parts(message) == []
    assert message.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("de", "Anmeldung stornieren: https://dialog.example/registrations/9c7d1e2f/cancel"),
        ("en", "Cancel registration: https://dialog.example/registrations/9c7d1e2f/cancel"),
    ],
)
def test_the_event_description_is_in_the_mail_language(language: str, line: str) -> None:
    message = compose(
        mail(Kind.REGISTRATION_CONFIRMED, language=language),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )

    _, event, _ = the_event(message)
    assert line in event["DESCRIPTION"]
