"""The forum's mails: the invitation when it is scheduled (every partner; for an open forum every
interested organisation too), the update when its time or venue change (same calendar entry, a
higher SEQUENCE), its cancellation and the thanks after it was held."""

from datetime import datetime, timedelta
from typing import Any

from tests.integration.notification.calendars import calendar_of, calendar_parts
from tests.integration.notification.conftest import JsonObject, Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    new_forum,
    new_organization,
    new_partner,
    ok,
    registered,
)

JsonBody = dict[str, Any]


def registrants_mail(delivery: JsonObject) -> bool:
    """Counted while waiting: the invitations of an open forum go to every partner the other
    tests made too, and would make a count of the registrants' mails come true too early."""
    return bool(delivery["kind"] != "forum_invitation")


async def _organization(platform: Platform, step: str | None, language: str = "de") -> str:
    """An organisation with a fresh contact address, taken to `step` (join, interest, leave)."""
    address = bodies.unique_email(step or "prospect")
    contact = bodies.contact(email=address, language=language)
    staff = platform.registration.staff
    if step is None:
        await new_organization(platform.registration, with_contact=contact)
    elif step == "interest":
        created = await new_organization(platform.registration, with_contact=contact)
        ok(await staff.post(f"/v1/organizations/{created['id']}/interest", json={"note": None}))
    else:
        joined = await new_partner(platform.registration, with_contact=contact)
        if step == "leave":
            ok(await staff.post(f"/v1/organizations/{joined['id']}/leave", json={"reason": None}))
    return address


async def _known_to_notification(platform: Platform, *addresses: str) -> None:
    """Wait until the organisations' facts reached notification: each got a mail of its step
    (welcome, interest), so its contact is in the read model."""
    for address in addresses:
        await platform.mail_to(address)


async def test_invitations_go_to_every_partner_and_for_open_forums_the_interested(
    platform: Platform,
) -> None:
    partner = await _organization(platform, "join")
    english_partner = await _organization(platform, "join", language="en")
    interested = await _organization(platform, "interest")
    prospect = await _organization(platform, None)
    former = await _organization(platform, "leave")
    await _known_to_notification(platform, partner, english_partner, interested, former)

    closed = await new_forum(
        platform.registration, bodies.forum(audience="partners", title="Forum Partner")
    )
    open_ = await new_forum(platform.registration, bodies.forum(audience="open", title="Offen"))

    invitation = await platform.received_once(partner, "forum_invitation", closed["id"])
    starts = datetime.fromisoformat(closed["starts_at"])
    assert invitation.subject.startswith("Einladung: Forum Partner am ")
    assert invitation.subject.endswith(f"{starts.year}")
    base = platform.settings.public_base_url
    assert f"{base}/forums/{closed['id']}" in invitation.text
    unsubscribe = str(invitation.message["List-Unsubscribe"])
    own = platform.settings.notification_public_base_url
    assert unsubscribe.startswith(f"<{own}/unsubscribe?token=")
    assert unsubscribe.endswith(">")
    assert unsubscribe[1:-1] in invitation.text
    assert invitation.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    in_english = await platform.received_once(english_partner, "forum_invitation", closed["id"])
    assert in_english.subject.startswith("Invitation: Forum Partner on ")
    assert in_english.language == "en"
    await platform.received_once(interested, "forum_invitation", open_["id"])
    sent = await platform.settled(1, forum_id=closed["id"])
    assert {d["recipient"] for d in sent} >= {partner, english_partner}
    assert not {interested, prospect, former} & {d["recipient"] for d in sent}
    sent_open = await platform.settled(1, forum_id=open_["id"])
    assert {interested, partner, english_partner} <= {d["recipient"] for d in sent_open}
    assert not {prospect, former} & {d["recipient"] for d in sent_open}
    assert all(d["status"] == "sent" for d in sent + sent_open)
    assert await platform.kinds_to(partner) == ["partner_welcome", *["forum_invitation"] * 2]
    assert await platform.kinds_to(interested) == ["interest_acknowledged", "forum_invitation"]
    assert await platform.messages(prospect) == []
    assert await platform.kinds_to(former) == ["partner_welcome"]
    # No staff mailbox is set on this platform: interest makes no note for staff.
    assert await platform.deliveries(kind="interest_staff_note") == []


async def _reschedule(platform: Platform, forum: JsonBody, **fields: Any) -> JsonBody:
    return ok(await platform.registration.staff.patch(f"/v1/forums/{forum['id']}", json=fields))


async def test_a_new_time_or_venue_goes_to_everyone_registered_with_the_same_calendar_entry(
    platform: Platform,
) -> None:
    forum = await new_forum(platform.registration, bodies.forum(capacity=1, title="Verlegt"))
    seated, waiting, gone = (bodies.unique_email(n) for n in ("sitz", "warte", "weg"))
    confirmed = await registered(platform.registration, forum["id"], email=seated)
    await registered(platform.registration, forum["id"], email=waiting, language="en")
    leaving = await registered(platform.registration, forum["id"], email=gone)
    ok(
        await platform.registration.public.post(
            f"/v1/registrations/{leaving['id']}/cancel",
            json={"cancel_token": leaving["cancel_token"]},
        )
    )
    first = calendar_of((await platform.received_once(seated, "registration_confirmed")).message)
    await platform.settled(4, counting=registrants_mail, forum_id=forum["id"])
    later = datetime.fromisoformat(forum["starts_at"]) + timedelta(days=1, hours=2)

    await _reschedule(platform, forum, title="Verlegt (neuer Titel)")  # no mail for a title
    await _reschedule(
        platform,
        forum,
        starts_at=later.isoformat(),
        ends_at=(later + timedelta(hours=3)).isoformat(),
    )

    moved = await platform.received_once(seated, "forum_updated")
    assert moved.subject == "Geänderte Angaben: Verlegt (neuer Titel)"
    assert "Neuer Termin:" in moved.text
    update = calendar_of(moved.message)
    assert (update.uid, update.method) == (first.uid, "REQUEST")
    assert update.sequence > first.sequence
    assert update.starts_at == later
    assert str(confirmed["id"]) in update.uid
    told = await platform.received_once(waiting, "forum_updated")
    assert told.subject == "Updated details: Verlegt (neuer Titel)"
    assert calendar_parts(told.message) == []  # on the waiting list: nothing in a calendar yet

    await _reschedule(platform, forum, venue="Stadthalle, Raum 4")

    await platform.settled(8, counting=registrants_mail, forum_id=forum["id"])
    await platform.mail_to(seated, 3)
    venue_changed = [m for m in await platform.received(seated) if m.kind == "forum_updated"][-1]
    assert "Neuer Ort:    Stadthalle, Raum 4" in venue_changed.text
    moved_again = calendar_of(venue_changed.message)
    assert moved_again.uid == first.uid
    assert moved_again.sequence > update.sequence
    assert moved_again.location == "Stadthalle, Raum 4"
    assert await platform.kinds_to(seated) == ["registration_confirmed", *["forum_updated"] * 2]
    assert await platform.kinds_to(waiting) == ["registration_waitlisted", *["forum_updated"] * 2]
    assert await platform.kinds_to(gone) == ["registration_waitlisted", "registration_cancelled"]


async def test_a_cancelled_forum_tells_everyone_registered_and_removes_the_entry(
    platform: Platform,
) -> None:
    forum = await new_forum(platform.registration, bodies.forum(capacity=1, title="Abgesagt"))
    seated, waiting = bodies.unique_email("sitz"), bodies.unique_email("warte")
    await registered(platform.registration, forum["id"], email=seated)
    await registered(platform.registration, forum["id"], email=waiting)
    booked = calendar_of((await platform.received_once(seated, "registration_confirmed")).message)
    await platform.mail_to(waiting)

    ok(
        await platform.registration.staff.post(
            f"/v1/forums/{forum['id']}/cancel", json={"reason": "Der Saal ist gesperrt."}
        )
    )

    cancelled = await platform.received_once(seated, "forum_cancelled")
    assert cancelled.subject.startswith("Abgesagt: Abgesagt am ")
    assert "Der Saal ist gesperrt." in cancelled.text
    removed = calendar_of(cancelled.message)
    assert (removed.method, removed.uid) == ("CANCEL", booked.uid)
    # The cancellation ended their place on the waiting list: forum_cancelled tells them, and
    # their registration.cancelled (cancelled_by forum) sends nothing of its own.
    ended = await platform.received_once(waiting, "forum_cancelled")
    assert calendar_parts(ended.message) == []
    await platform.settled(4, counting=registrants_mail, forum_id=forum["id"])
    assert await platform.kinds_to(seated) == ["registration_confirmed", "forum_cancelled"]
    assert await platform.kinds_to(waiting) == ["registration_waitlisted", "forum_cancelled"]


async def _held(platform: Platform, forum: JsonBody, attended: list[str]) -> None:
    report = {
        "attendance": 12,
        "attended_registration_ids": attended,
        "outcomes": "Eine Arbeitsgruppe <Beschwerdewege> wurde gegründet.",
    }
    ok(await platform.registration.staff.post(f"/v1/forums/{forum['id']}/held", json=report))


async def test_thanks_go_to_the_attended_or_to_every_confirmed_registration(
    platform: Platform,
) -> None:
    listed = await new_forum(platform.registration, bodies.started_forum(title="Gehalten"))
    unlisted = await new_forum(platform.registration, bodies.started_forum(title="Ohne Liste"))
    came, stayed_away = bodies.unique_email("kam"), bodies.unique_email("fehlte")
    everyone = [bodies.unique_email("alle") for _ in range(2)]
    attended = await registered(platform.registration, listed["id"], email=came)
    await registered(platform.registration, listed["id"], email=stayed_away)
    for address in everyone:
        await registered(platform.registration, unlisted["id"], email=address, language="en")
    # The forums have started: a confirmation would be about the past.
    before = await platform.settled(2, forum_id=listed["id"])
    assert {d["status"] for d in before} == {"suppressed"}
    assert {d["reason"] for d in before} == {"the forum has started"}

    await _held(platform, listed, [attended["id"]])
    await _held(platform, unlisted, [])

    thanks = await platform.received_once(came, "forum_thanks")
    assert thanks.subject == "Danke für Ihre Teilnahme: Gehalten"
    assert "Eine Arbeitsgruppe <Beschwerdewege> wurde gegründet." in thanks.text
    html = thanks.message.get_body(preferencelist=("html",))
    assert html is not None
    assert "&lt;Beschwerdewege&gt;" in html.get_content()  # type: ignore[attr-defined]
    for address in everyone:
        each = await platform.received_once(address, "forum_thanks")
        assert each.subject == "Thank you for taking part: Ohne Liste"
    await platform.settled(3, forum_id=listed["id"])
    await platform.settled(4, forum_id=unlisted["id"])
    assert await platform.kinds_to(came) == ["forum_thanks"]
    assert await platform.messages(stayed_away) == []
