"""The .ics of a mail (RFC 5545, iTIP REQUEST or CANCEL): one forum as one calendar event."""

from datetime import UTC, datetime
from email.headerregistry import Address

import icalendar

from services.notification.domain.mails import Calendar, ForumFacts

PRODID = "-//Kompetenzzentrum fuer Dialog und Vertrauensbildung//dialognet//DE"


def calendar_file(
    calendar: Calendar,
    forum: ForumFacts,
    *,
    organizer: Address,
    attendee: Address,
    description: str,
    stamp: datetime,
) -> bytes:
    """The VCALENDAR with one VEVENT; the library escapes text values (`,` `;` line breaks)."""
    event = icalendar.Event()
    # The same UID with a higher SEQUENCE is what lets a calendar client update or remove the
    # entry it made from an earlier mail, instead of adding a second one.
    event.add("uid", calendar.uid)
    event.add("sequence", calendar.sequence)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(forum.starts_at))
    event.add("dtend", _utc(forum.ends_at))
    event.add("summary", forum.title)
    event.add("location", forum.venue)
    event.add("description", description)
    event.add("status", "CANCELLED" if calendar.method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _calendar_address(organizer))
    # iTIP requires the attendee in REQUEST and CANCEL; RSVP=FALSE, because the registration
    # is the answer and a calendar's reply would only land in the sender's mailbox.
    participant = _calendar_address(attendee)
    participant.params["ROLE"] = "REQ-PARTICIPANT"
    participant.params["PARTSTAT"] = "ACCEPTED"
    participant.params["RSVP"] = "FALSE"
    event.add("attendee", participant)

    ics = icalendar.Calendar()
    ics.add("prodid", PRODID)
    ics.add("version", "2.0")
    ics.add("method", calendar.method)
    ics.add_component(event)
    return bytes(ics.to_ical())


def _calendar_address(mailbox: Address) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{mailbox.addr_spec}")
    if mailbox.display_name:
        address.params["CN"] = mailbox.display_name
    return address


def _utc(moment: datetime) -> datetime:
    # DTSTART/DTEND in UTC (`…Z`): every client reads them alike, with no VTIMEZONE needed.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
