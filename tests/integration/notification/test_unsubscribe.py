"""Unsubscribing from invitations through the link every invitation carries: the page (GET shows
a confirmation, its form POSTs) and the one-click POST a mail program sends (RFC 8058). Who
unsubscribed gets no more invitations — a `suppressed` delivery says why — but still every mail
about their own registrations."""

from urllib.parse import urlsplit

import httpx

from tests.html_page import body_text, forms
from tests.integration.notification.conftest import Platform, Received
from tests.integration.registration import bodies
from tests.integration.registration.steps import new_forum, new_partner, registered

UNSUBSCRIBED = "the recipient unsubscribed from invitations"


async def _partners_invited(platform: Platform, *languages: str) -> list[tuple[str, Received]]:
    """New partners' contacts, each with the invitation it got to one new forum."""
    addresses = [bodies.unique_email("abbestellen") for _ in languages]
    for address, language in zip(addresses, languages, strict=True):
        await new_partner(
            platform.registration, with_contact=bodies.contact(email=address, language=language)
        )
        await platform.mail_to(address)  # welcomed: notification knows the partner
    forum = await new_forum(platform.registration, bodies.forum(title="Forum vorher"))
    return [
        (address, await platform.received_once(address, "forum_invitation", forum["id"]))
        for address in addresses
    ]


def _unsubscribe_link(invitation: Received) -> str:
    header = str(invitation.message["List-Unsubscribe"])
    return header.removeprefix("<").removesuffix(">")


async def test_an_unsubscribed_partner_gets_no_invitation_but_its_confirmation(
    platform: Platform,
) -> None:
    invited = await _partners_invited(platform, "de", "en", "de")
    (by_page, invitation), (one_click, other_invitation), (still_subscribed, _) = invited
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(_unsubscribe_link(invitation))
        assert page.status_code == 200, page.text
        assert "Einladungen abbestellen" in body_text(page.text)
        [form] = forms(page.text)
        assert form.method == "post"
        action = httpx.URL(_unsubscribe_link(invitation)).join(form.action)
        done = await browser.post(action, data=form.fields)
        assert done.status_code == 200, done.text
        assert "Sie haben die Einladungen abbestellt" in body_text(done.text)
    # A mail program's one-click unsubscribe: a POST of exactly this body, no cookie, no page.
    async with httpx.AsyncClient(timeout=30) as mail_program:
        clicked = await mail_program.post(
            _unsubscribe_link(other_invitation),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert clicked.status_code == 200, clicked.text

    forum = await new_forum(platform.registration, bodies.forum(title="Forum nachher"))

    await platform.received_once(still_subscribed, "forum_invitation", forum["id"])
    deliveries = {d["recipient"]: d for d in await platform.settled(3, forum_id=forum["id"])}
    for address in (by_page, one_click):
        assert deliveries[address]["status"] == "suppressed"
        assert deliveries[address]["reason"] == UNSUBSCRIBED
    assert deliveries[still_subscribed]["status"] == "sent"
    assert await platform.kinds_to(by_page) == ["partner_welcome", "forum_invitation"]

    await registered(platform.registration, forum["id"], email=by_page)

    await platform.received_once(by_page, "registration_confirmed")
    assert await platform.kinds_to(by_page) == [
        "partner_welcome",
        "forum_invitation",
        "registration_confirmed",
    ]


async def test_a_wrong_or_missing_token_unsubscribes_nobody(platform: Platform) -> None:
    [(address, invitation)] = await _partners_invited(platform, "de")
    link = _unsubscribe_link(invitation)
    token = urlsplit(link).query.removeprefix("token=")
    base = platform.settings.notification_public_base_url
    forged = f"{token[:-1]}{'0' if token[-1] != '0' else '1'}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for query in ({"token": forged}, {"token": "x" * 5000}, {}):
            page = await client.get("/unsubscribe", params=query)
            assert page.status_code == 403, page.text
            assert "Dieser Link ist nicht gültig" in body_text(page.text)
            posted = await client.post("/unsubscribe", params=query, data={})
            assert posted.status_code == 403, posted.text

    forum = await new_forum(platform.registration, bodies.forum(title="Forum trotzdem"))

    await platform.received_once(address, "forum_invitation", forum["id"])
