"""The registrant's own mails: confirmation (with .ics and cancel link), waitlist, promotion,
cancellation — each to the registrant only, in their language, once."""

from datetime import datetime, timedelta

import icalendar

from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, registered


def _calendar(message: object) -> icalendar.Calendar:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]  # type: ignore[attr-defined]
    assert parts, "no .ics in the mail"
    return icalendar.Calendar.from_ical(parts[-1].get_content())


async def test_a_confirmed_registration_gets_its_confirmation(platform: Platform) -> None:
    forum = await new_forum(platform.registration, bodies.forum(starts_in=timedelta(days=20)))
    starts = datetime.fromisoformat(forum["starts_at"])
    email = bodies.unique_email("bestaetigt")

    made = await registered(platform.registration, forum["id"], email=email)

    [message] = await platform.mail_to(email)
    assert message["To"].addresses[0].addr_spec == email
    assert "bestätigt" in str(message["Subject"]).lower() or "Anmeldung" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/registrations/{made['id']}/cancel?token={made['cancel_token']}" in text
    event = next(component for component in _calendar(message).walk("VEVENT"))
    assert event.decoded("DTSTART") == starts
    assert made["id"] in str(event["UID"])
