"""The registrant's cancel page over real HTTP: what it shows in which language, its form
cancelling through the service (the same fact as the API), CSRF, headers and escaping."""

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from services.runtime.csrf import COOKIE_NAME
from services.runtime.security_headers import CONTENT_SECURITY_POLICY
from services.runtime.settings import Settings
from tests.html_page import Form, body_text, forms, read_page
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    JsonBody,
    facts_on_key,
    forum_state,
    new_forum,
    of_type,
    ok,
    registered,
    registrations_of,
)
from tests.integration.registration.steps import register as register_over_api

WINTER_FORUM = {  # Berlin is UTC+1 then
    "starts_at": "2027-01-20T09:30:00+00:00",
    "ends_at": "2027-01-20T15:00:00+00:00",
    "registration_deadline": "2027-01-10T00:00:00+00:00",
}
SUMMER_FORUM = {  # and UTC+2 then
    "starts_at": "2027-07-14T08:00:00+00:00",
    "ends_at": "2027-07-14T14:30:00+00:00",
    "registration_deadline": "2027-07-01T00:00:00+00:00",
}


@asynccontextmanager
async def browser(service: RunningService) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookie jar and no token, as a registrant's browser."""
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
        yield client


async def registration_with_page(
    service: RunningService, forum: JsonBody | None = None, **fields: Any
) -> tuple[JsonBody, JsonBody]:
    """A new forum (from `forum`) and a registration for it; `fields` go to the registration."""
    created = await new_forum(service, forum or bodies.forum(**WINTER_FORUM))
    return created, await registered(service, created["id"], **fields)


def the_form(html: str) -> Form:
    [form] = forms(html)
    return form


async def post_form(client: httpx.AsyncClient, form: Form, **changes: str) -> httpx.Response:
    return await client.post(form.action, data={**form.fields, **changes})


async def status_of(service: RunningService, forum_id: str, registration_id: str) -> str:
    status: str = (await registrations_of(service, forum_id))[registration_id]["status"]
    return status


async def test_the_registration_answers_with_the_page_as_cancel_page_url(
    service: RunningService,
) -> None:
    _, made = await registration_with_page(service)

    assert made["cancel_page_url"] == (
        f"{service.base_url}/registrations/{made['id']}/cancel?token={made['cancel_token']}"
    )
    # The API's URL stays what it was: POSTed as given, it cancels (test_waitlist.py).
    assert made["cancel_url"] == (
        f"{service.base_url}/v1/registrations/{made['id']}/cancel?token={made['cancel_token']}"
    )


async def test_the_page_shows_the_registration_in_german(service: RunningService) -> None:
    forum, made = await registration_with_page(
        service,
        bodies.forum(title="Forum Racial Profiling", venue="Rathaus, Saal 2", **WINTER_FORUM),
        attendees=3,
        new_organization=bodies.inline_organization(name="Kulturverein Süd"),
    )

    async with browser(service) as client:
        page = await client.get(made["cancel_page_url"])
        [english] = [a for a in read_page(page.text).all("a") if a.attrs.get("hreflang") == "en"]
        in_english = await client.get(english.attrs["href"])

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert english.text() == "English"
    assert "Date Wednesday, 20 January 2027" in body_text(in_english.text)
    [html] = read_page(page.text).all("html")
    assert html.attrs["lang"] == "de"
    text = body_text(page.text)
    assert "Ihre Anmeldung stornieren" in text
    assert "Veranstaltung Forum Racial Profiling" in text
    assert "Datum Mittwoch, 20. Januar 2027" in text
    assert "Uhrzeit 10:30\N{EN DASH}16:00 Uhr" in text  # 09:30 to 15:00 UTC in Berlin's winter time
    assert "Ort Rathaus, Saal 2" in text
    assert "Organisation Kulturverein Süd" in text
    assert "Teilnehmende 3" in text
    assert "Status Bestätigt: Sie haben einen Platz" in text
    form = the_form(page.text)
    assert (form.method, form.action) == ("post", f"/registrations/{made['id']}/cancel?lang=de")
    assert form.fields["token"] == made["cancel_token"]
    assert len(form.fields["csrf_token"]) == 64
    assert form.fields["reason"] == ""
    assert await status_of(service, forum["id"], made["id"]) == "confirmed"  # showing it is all


@pytest.mark.parametrize(
    ("contact_language", "override", "expected"),
    [
        ("en", None, "en"),
        ("tr", None, "de"),  # any other language: German
        ("de", "en", "en"),
        ("en", "de", "de"),
        ("en", "fr", "en"),  # an override the pages do not speak is ignored
    ],
)
async def test_the_page_speaks_the_registrants_language(
    service: RunningService, contact_language: str, override: str | None, expected: str
) -> None:
    _, made = await registration_with_page(
        service, bodies.forum(**SUMMER_FORUM), attendees=2, language=contact_language
    )
    url = made["cancel_page_url"] + (f"&lang={override}" if override else "")

    async with browser(service) as client:
        page = await client.get(url)

    [html] = read_page(page.text).all("html")
    assert html.attrs["lang"] == expected
    text = body_text(page.text)
    if expected == "en":
        assert "Cancel your registration" in text
        assert "Date Wednesday, 14 July 2027" in text
        assert "Time 10:00\N{EN DASH}16:30" in text  # 08:00 to 14:30 UTC in Berlin's summer time
        assert "Attendees 2" in text
        assert "Status Confirmed: you have a seat" in text
    else:
        assert "Datum Mittwoch, 14. Juli 2027" in text
        assert "Uhrzeit 10:00\N{EN DASH}16:30 Uhr" in text
    assert the_form(page.text).action.endswith(f"?lang={expected}")


async def test_a_waitlisted_registration_shows_its_position(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=1, **WINTER_FORUM))
    await registered(service, forum["id"])
    waiting = await registered(service, forum["id"], language="en")

    async with browser(service) as client:
        page = await client.get(waiting["cancel_page_url"])

    assert "Status On the waiting list, position 1" in body_text(page.text)
    assert "you leave the waiting list" in body_text(page.text)


async def test_a_wrong_token_or_an_unknown_id_shows_the_invalid_link_page(
    service: RunningService,
) -> None:
    _, made = await registration_with_page(
        service,
        bodies.forum(title="Geheimes Forum", venue="Hinterzimmer", **WINTER_FORUM),
        new_organization=bodies.inline_organization(name="Verein Unsichtbar"),
    )
    path = f"/registrations/{made['id']}/cancel"
    unknown = f"/registrations/{uuid.uuid4()}/cancel"

    async with browser(service) as client:
        answers = {
            "wrong token": await client.get(f"{path}?token={secrets.token_hex(32)}"),
            "another registration's token": await client.get(
                f"{unknown}?token={made['cancel_token']}"
            ),
            "no token": await client.get(path),
            "unknown id": await client.get(f"{unknown}?token={secrets.token_hex(32)}"),
            "malformed id": await client.get("/registrations/not-an-id/cancel?token=x"),
            "non-ASCII token": await client.get(f"{path}?token=%C3%A4%F0%9F%98%80"),
        }

    for case, answer in answers.items():
        assert answer.status_code == 403, (case, answer.status_code)
        text = body_text(answer.text)
        assert "Dieser Link ist nicht gültig" in text, case
        for private in ("Geheimes Forum", "Hinterzimmer", "Verein Unsichtbar", made["id"]):
            assert private not in answer.text, (case, private)
        assert forms(answer.text) == [], case
        # Byte for byte the same page: nothing tells an unknown id from a wrong token.
        assert answer.text == answers["wrong token"].text, case
    assert await status_of(service, made["forum_id"], made["id"]) == "confirmed"


async def test_posting_the_form_cancels_as_the_registrant(service: RunningService) -> None:
    forum, made = await registration_with_page(service, attendees=2)
    reason = "Krank geworden.\r\nNächstes Mal gern."

    async with browser(service) as client:
        form = the_form((await client.get(made["cancel_page_url"])).text)
        answer = await post_form(client, form, reason=reason)

    assert answer.status_code == 200, answer.text
    text = body_text(answer.text)
    assert "Ihre Anmeldung ist storniert" in text
    assert "Ihr Platz geht an die nächste Organisation auf der Warteliste." in text
    assert await status_of(service, forum["id"], made["id"]) == "cancelled"
    assert (await forum_state(service, forum["id"]))["seats_taken"] == 0
    cancelled = await facts_on_key(
        service,
        "registrations",
        forum["id"],
        of_type("registration.cancelled", registration_id=made["id"]),
    )
    data = cancelled[-1].value["data"]
    assert data["cancelled_by"] == "registrant"
    assert data["previous_status"] == "confirmed"
    assert data["reason"] == "Krank geworden.\nNächstes Mal gern."  # line breaks as typed


async def test_the_page_of_a_cancelled_registration_offers_no_button(
    service: RunningService,
) -> None:
    _, made = await registration_with_page(service)
    ok(await service.staff.post(f"/v1/registrations/{made['id']}/cancel"))

    async with browser(service) as client:
        page = await client.get(made["cancel_page_url"])

    assert page.status_code == 200
    assert "Diese Anmeldung ist bereits storniert" in body_text(page.text)
    assert "Status Storniert" in body_text(page.text)
    assert forms(page.text) == []


async def test_a_second_post_of_the_form_shows_it_is_already_cancelled(
    service: RunningService,
) -> None:
    _, made = await registration_with_page(service)

    async with browser(service) as client:
        form = the_form((await client.get(made["cancel_page_url"])).text)
        first = await post_form(client, form)
        again = await post_form(client, form)  # the back button, or a second tab

    assert first.status_code == 200
    assert again.status_code == 409
    assert "Diese Anmeldung ist bereits storniert" in body_text(again.text)
    assert forms(again.text) == []


@pytest.mark.parametrize("refused", ["no csrf field", "forged", "another browser's", "no cookie"])
async def test_a_post_without_a_valid_csrf_token_is_refused(
    service: RunningService, refused: str
) -> None:
    forum, made = await registration_with_page(service)

    async with browser(service) as client, browser(service) as other:
        form = the_form((await client.get(made["cancel_page_url"])).text)
        others_form = the_form((await other.get(made["cancel_page_url"])).text)
        fields = dict(form.fields)
        if refused == "no csrf field":
            del fields["csrf_token"]
        elif refused == "forged":
            fields["csrf_token"] = secrets.token_hex(32)
        elif refused == "another browser's":
            fields["csrf_token"] = others_form.fields["csrf_token"]
        else:
            client.cookies.clear()
        answer = await client.post(form.action, data=fields)

    assert answer.status_code == 403, answer.text
    text = body_text(answer.text)
    assert "Das Formular konnte nicht angenommen werden" in text
    assert "Es wurde nichts geändert." in text
    assert await status_of(service, forum["id"], made["id"]) == "confirmed"
    assert (await forum_state(service, forum["id"]))["seats_taken"] == 1


async def test_a_post_from_another_site_without_the_cookie_is_refused(
    service: RunningService,
) -> None:
    """What a forged cross-site form sends: the right fields but no cookie of ours (SameSite)."""
    forum, made = await registration_with_page(service)

    async with browser(service) as client:
        answer = await client.post(
            f"/registrations/{made['id']}/cancel",
            data={"token": made["cancel_token"], "reason": ""},
        )

    assert answer.status_code == 403
    assert await status_of(service, forum["id"], made["id"]) == "confirmed"


async def test_form_errors_are_shown_beside_the_field_and_in_the_summary(
    service: RunningService,
) -> None:
    forum, made = await registration_with_page(service, language="en")
    too_long = "Sorry " * 334  # 2,004 characters
    with_bell = "Kein\x07Platz"

    async with browser(service) as client:
        form = the_form((await client.get(made["cancel_page_url"])).text)
        answers = {
            too_long: await post_form(client, form, reason=too_long),
            with_bell: await post_form(client, form, reason=with_bell),
        }

    expected = {
        too_long: "Enter at most 2,000 characters; this has 2,003.",  # trailing space trimmed
        with_bell: "Remove the invisible control character U+0007 at character 5.",
    }
    for typed, answer in answers.items():
        assert answer.status_code == 422, answer.text
        page = read_page(answer.text)
        summary = page.by_id("error-summary-title")
        assert summary is not None
        [title] = page.all("title")
        assert title.text().startswith("Error:")
        [link] = [a for a in page.all("a") if a.attrs.get("href") == "#reason"]
        assert link.text() == expected[typed]
        beside = page.by_id("reason-error")
        assert beside is not None
        assert beside.text() == f"Error: {expected[typed]}"
        resent = the_form(answer.text)
        assert resent.fields["reason"] == typed  # the input is kept
        assert resent.fields["csrf_token"] == form.fields["csrf_token"]
    assert await status_of(service, forum["id"], made["id"]) == "confirmed"


async def test_form_errors_are_in_german_for_a_german_registrant(service: RunningService) -> None:
    _, made = await registration_with_page(service)

    async with browser(service) as client:
        form = the_form((await client.get(made["cancel_page_url"])).text)
        answer = await post_form(client, form, reason="x" * 2001)

    assert answer.status_code == 422
    assert "Es gibt ein Problem" in body_text(answer.text)
    assert "Geben Sie höchstens 2.000 Zeichen ein; dieser Text hat 2.001." in body_text(answer.text)


async def test_the_pages_carry_the_security_headers(service: RunningService) -> None:
    _, made = await registration_with_page(service)

    async with browser(service) as client:
        page = await client.get(made["cancel_page_url"])
        invalid = await client.get(f"/registrations/{made['id']}/cancel?token=wrong")
        refused = await client.post(f"/registrations/{made['id']}/cancel", data={"token": "x"})
        stylesheet = await client.get("/static/site.css")

    for answer in (page, invalid, refused, stylesheet):
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    for answer in (page, invalid, refused):
        assert answer.headers["cache-control"] == "no-store"
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    [cookie] = [value for value in page.headers.get_list("set-cookie") if COOKIE_NAME in value]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # the public base URL is http here
    # No inline script or style the policy would block, and the stylesheet is our own.
    parsed = read_page(page.text)
    assert parsed.all("script") == []
    assert parsed.all("style") == []
    assert [link.attrs["href"] for link in parsed.all("link")] == ["/static/site.css"]
    assert not [e for e in parsed.descendants() if "style" in e.attrs]


async def test_html_in_a_forum_title_is_escaped(service: RunningService) -> None:
    title = '<script>alert("x")</script> & <b>Forum</b>'
    _, made = await registration_with_page(
        service, bodies.forum(title=title, venue="<i>Saal</i>", **WINTER_FORUM)
    )

    async with browser(service) as client:
        page = await client.get(made["cancel_page_url"])

    assert "<script>" not in page.text
    assert "<b>Forum" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Forum&lt;/b&gt;" in (
        page.text
    )
    assert f"Veranstaltung {title}" in body_text(page.text)  # shown as the text it is
    assert "Ort <i>Saal</i>" in body_text(page.text)


async def test_a_held_forum_shows_the_can_no_longer_page(service: RunningService) -> None:
    forum, made = await registration_with_page(service, bodies.started_forum())
    async with browser(service) as client:
        shown_before = the_form((await client.get(made["cancel_page_url"])).text)
        ok(await service.staff.post(f"/v1/forums/{forum['id']}/held", json={"attendance": 1}))
        page = await client.get(made["cancel_page_url"])
        posted = await post_form(client, shown_before)  # the form from before it was held

    assert page.status_code == 200
    text = body_text(page.text)
    assert "Diese Anmeldung kann nicht mehr storniert werden" in text
    assert "Die Veranstaltung hat stattgefunden." in text
    assert forms(page.text) == []
    assert posted.status_code == 409
    assert "Die Veranstaltung hat stattgefunden." in body_text(posted.text)
    assert forms(posted.text) == []
    assert await status_of(service, forum["id"], made["id"]) == "confirmed"


async def test_a_cancelled_forum_shows_why_it_can_no_longer_be_cancelled(
    service: RunningService,
) -> None:
    forum, made = await registration_with_page(service, language="en")
    ok(await service.staff.post(f"/v1/forums/{forum['id']}/cancel", json={"reason": "Sturm"}))

    async with browser(service) as client:
        page = await client.get(made["cancel_page_url"])

    text = body_text(page.text)
    assert "This registration can no longer be cancelled" in text
    assert "The event has been cancelled and will not take place." in text
    assert forms(page.text) == []


async def test_the_page_post_shares_the_public_forms_rate_limit(settings: Settings) -> None:
    """Three requests a minute per address: a registration over the API, a form refused for
    its CSRF token and one with a wrong cancel token use them up; the next is refused (429)
    before anything is read, and cancels nothing."""
    limited = settings.model_copy(update={"public_rate_limit_per_minute": 3})
    async with running_registration(limited) as service:
        forum, made = await registration_with_page(service)
        async with browser(service) as client:
            form = the_form((await client.get(made["cancel_page_url"])).text)
            ok(await register_over_api(service, forum["id"], client=client), 201)
            without_csrf = await post_form(client, form, csrf_token="")
            wrong_token = await post_form(client, form, token="wrong")
            limited_answer = await post_form(client, form)

        assert without_csrf.status_code == 403  # each counted, though it changed nothing
        assert wrong_token.status_code == 403
        assert limited_answer.status_code == 429, limited_answer.text
        assert int(limited_answer.headers["retry-after"]) >= 1
        assert "Zu viele Anfragen" in body_text(limited_answer.text)
        assert "Es wurde nichts geändert." in body_text(limited_answer.text)
        assert limited_answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert await status_of(service, forum["id"], made["id"]) == "confirmed"
