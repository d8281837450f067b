"""The registrant's own mails: confirmation (with .ics and cancel link), waitlist, promotion,
cancellation — each to the registrant only, in their language, once."""

from datetime import datetime, timedelta

from tests.integration.notification.calendars import calendar_of, calendar_parts
from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, ok, registered


async def _cancel(platform: Platform, registration: dict[str, object], **body: object) -> None:
    ok(
        await platform.registration.public.post(
            f"/v1/registrations/{registration['id']}/cancel",
            json={"cancel_token": registration["cancel_token"], **body},
        )
    )


async def test_a_confirmed_registration_gets_its_confirmation_in_german(
    platform: Platform,
) -> None:
    forum = await new_forum(
        platform.registration, bodies.forum(starts_in=timedelta(days=20), title="Forum Bestätigt")
    )
    starts = datetime.fromisoformat(forum["starts_at"])
    email = bodies.unique_email("bestaetigt")

    made = await registered(platform.registration, forum["id"], email=email, name="Ana Muster")

    mail = await platform.received_once(email, "registration_confirmed")
    assert mail.message["To"].addresses[0].addr_spec == email
    assert mail.message["To"].addresses[0].display_name == "Ana Muster"
    assert mail.subject == "Anmeldung bestätigt: Forum Bestätigt"
    assert mail.language == "de"
    assert "Guten Tag Ana Muster," in mail.text
    cancel_link = (
        f"{platform.settings.public_base_url}/registrations/{made['id']}/cancel"
        f"?token={made['cancel_token']}"
    )
    assert cancel_link in mail.text
    entry = calendar_of(mail.message)
    assert entry.method == "REQUEST"
    assert entry.starts_at == starts
    assert entry.ends_at == datetime.fromisoformat(forum["ends_at"])
    assert entry.location == forum["venue"]
    assert made["id"] in entry.uid
    assert entry.sequence == 0
    [delivery] = await platform.settled(1, forum_id=forum["id"])
    assert delivery["status"] == "sent"
    assert delivery["recipient"] == email
    assert delivery["registration_id"] == made["id"]
    assert await platform.kinds_to(email) == ["registration_confirmed"]


async def test_an_english_contact_gets_english_mail_and_another_language_german(
    platform: Platform,
) -> None:
    forum = await new_forum(platform.registration, bodies.forum(title="Forum Sprachen"))
    english, french = bodies.unique_email("english"), bodies.unique_email("francais")

    await registered(platform.registration, forum["id"], email=english, language="en")
    await registered(platform.registration, forum["id"], email=french, language="fr")

    in_english = await platform.received_once(english, "registration_confirmed")
    assert in_english.subject == "Registration confirmed: Forum Sprachen"
    assert in_english.language == "en"
    in_german = await platform.received_once(french, "registration_confirmed")
    assert in_german.subject == "Anmeldung bestätigt: Forum Sprachen"
    assert in_german.language == "de"
    languages = {
        d["recipient"]: d["language"] for d in await platform.settled(2, forum_id=forum["id"])
    }
    assert languages == {english: "en", french: "fr"}  # as asked; written in German


async def test_waitlist_promotion_and_cancellation_mails(platform: Platform) -> None:
    forum = await new_forum(
        platform.registration, bodies.forum(capacity=1, title="Forum Warteliste")
    )
    first, second, third = (bodies.unique_email(name) for name in ("erste", "zweite", "dritte"))
    seated = await registered(platform.registration, forum["id"], email=first)
    waiting = await registered(platform.registration, forum["id"], email=second, language="en")
    behind = await registered(platform.registration, forum["id"], email=third)
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)
    assert (behind["status"], behind["waitlist_position"]) == ("waitlisted", 2)

    waitlisted = await platform.received_once(third, "registration_waitlisted")
    assert waitlisted.subject == "Sie stehen auf der Warteliste: Forum Warteliste"
    assert "an Position 2" in waitlisted.text
    assert f"/registrations/{behind['id']}/cancel?token={behind['cancel_token']}" in (
        waitlisted.text
    )
    assert calendar_parts(waitlisted.message) == []  # no seat, no calendar entry
    in_english = await platform.received_once(second, "registration_waitlisted")
    assert in_english.subject == "You are on the waiting list: Forum Warteliste"
    assert "at position 1" in in_english.text

    await _cancel(platform, seated, reason="Termin passt nicht")

    cancelled = await platform.received_once(first, "registration_cancelled")
    assert cancelled.subject == "Anmeldung storniert: Forum Warteliste"
    confirmation = await platform.received_once(first, "registration_confirmed")
    removed = calendar_of(cancelled.message)
    assert removed.method == "CANCEL"  # they had a seat: the entry leaves their calendar
    assert removed.uid == calendar_of(confirmation.message).uid
    promoted = await platform.received_once(second, "registration_promoted")
    assert promoted.subject == "You have a place now: Forum Warteliste"
    seat = calendar_of(promoted.message)
    assert seat.method == "REQUEST"
    assert waiting["id"] in seat.uid
    assert f"/registrations/{waiting['id']}/cancel?token={waiting['cancel_token']}" in (
        promoted.text
    )

    await _cancel(platform, behind)  # waitlisted: no seat to remove from a calendar

    no_seat = await platform.received_once(third, "registration_cancelled")
    assert calendar_parts(no_seat.message) == []
    await platform.settled(6, forum_id=forum["id"])
    assert await platform.kinds_to(first) == ["registration_confirmed", "registration_cancelled"]
    assert await platform.kinds_to(second) == ["registration_waitlisted", "registration_promoted"]
    assert await platform.kinds_to(third) == ["registration_waitlisted", "registration_cancelled"]
