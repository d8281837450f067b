"""Reading the .ics of a received mail back with icalendar, as a calendar program would."""

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

import icalendar


@dataclass(frozen=True)
class CalendarEntry:
    method: str
    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    location: str


def calendar_parts(message: EmailMessage) -> list[bytes]:
    """Every text/calendar part (the inline one and the attachment)."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append(payload)
    return found


def calendar_of(message: EmailMessage) -> CalendarEntry:
    """The one calendar entry the mail carries (inline and attached alike)."""
    parts = calendar_parts(message)
    assert parts, "no .ics in the mail"
    assert len(set(parts)) == 1, "the inline .ics and the attachment differ"
    ics = icalendar.Calendar.from_ical(parts[0])
    [event] = list(ics.walk("VEVENT"))
    starts, ends = event.decoded("DTSTART"), event.decoded("DTEND")
    assert starts.utcoffset().total_seconds() == 0, "DTSTART is not in UTC"
    assert event["DTSTART"].to_ical().endswith(b"Z"), event["DTSTART"].to_ical()
    return CalendarEntry(
        method=str(ics["METHOD"]),
        uid=str(event["UID"]),
        sequence=int(event["SEQUENCE"]),
        starts_at=starts,
        ends_at=ends,
        location=str(event["LOCATION"]),
    )
