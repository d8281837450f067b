"""The public pages over real HTTP: the list of open forums, a forum's page and its form
registering through the service (the same fact as the API), the result page, the privacy notice;
what they refuse (CSRF, honeypot, rate limit, bad input, closed and partners-only forums) saves
nothing; the language chosen by `?lang=`, remembered in a cookie, or asked for by the browser."""

import secrets
import uuid
from datetime import timedelta
from typing import Any

import httpx

from services.runtime.pages import LANGUAGE_COOKIE
from services.runtime.security_headers import CONTENT_SECURITY_POLICY
from services.runtime.settings import Settings
from tests.html_page import Element, body_text, forms, read_page
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    JsonBody,
    facts_on_key,
    new_forum,
    new_organization,
    new_partner,
    of_type,
    ok,
    registered,
    registrations_of,
)
from tests.integration.registration.test_cancel_page import WINTER_FORUM, browser, the_form

# Every field of the registration form, in the order it is read.
FORM_FIELDS = [
    "organization_id",
    "organization_name",
    "organization_kind",
    "organization_district",
    "organization_website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_language",
    "attendees",
    "wants_to_present",
    "interested_in_partnership",
    "accessibility_needs",
    "interpreter_needs",
    "consent",
]


CHECKBOXES = ("wants_to_present", "interested_in_partnership", "consent")


def untouched(form_fields: dict[str, str]) -> dict[str, str]:
    """What the form sends as shown: no box ticked (tests.html_page lists every input, ticked
    or not), the selects at their first option (it does not read selects)."""
    sent = {name: value for name, value in form_fields.items() if name not in CHECKBOXES}
    return {**sent, "organization_id": "", "contact_language": "de"}


def filled(form_fields: dict[str, str], **changes: str) -> dict[str, str]:
    """What a newcomer sends: a new organisation, a contact, consent."""
    values = {
        **untouched(form_fields),
        "organization_name": "Nachbarschaftshilfe Ost",
        "organization_kind": "social_services",
        "organization_district": "Oststadt",
        "contact_name": "Selin Kaya",
        "contact_email": bodies.unique_email("selin"),
        "contact_phone": "+49 30 1234567",
        "attendees": "2",
        "accessibility_needs": "Rollstuhlplatz",
        "consent": "yes",
        **changes,
    }
    return {name: value for name, value in values.items() if value is not None}


async def form_page(client: httpx.AsyncClient, forum_id: str, query: str = "") -> str:
    page = await client.get(f"/forums/{forum_id}{query}")
    assert page.status_code == 200, page.text
    return page.text


async def send(client: httpx.AsyncClient, forum_id: str, **changes: str) -> httpx.Response:
    """The forum's form as shown, filled in and posted as a browser would."""
    form = the_form(await form_page(client, forum_id))
    return await client.post(form.action, data=filled(form.fields, **changes))


async def registrations(service: RunningService, forum_id: str) -> list[JsonBody]:
    return list((await registrations_of(service, forum_id)).values())


def field_error(page: Element, name: str) -> str:
    beside = page.by_id(f"{name}-error")
    assert beside is not None, name
    return beside.text()


def summary_links(page: Element) -> dict[str, str]:
    summary = page.by_id("error-summary-title")
    assert summary is not None
    return {
        a.attrs["href"]: a.text()
        for a in page.all("a")
        if a.attrs.get("href", "").startswith("#") and a.attrs["href"] != "#main"
    }


async def test_the_home_page_lists_upcoming_open_forums_only(service: RunningService) -> None:
    title = f"Forum Gleichbehandlung {secrets.token_hex(2)}"
    listed = await new_forum(
        service, bodies.forum(title=title, capacity=40, topics=["Gleichbehandlung"], **WINTER_FORUM)
    )
    await registered(service, listed["id"], attendees=3)
    partners = await new_forum(service, bodies.forum(title="Nur Partner", audience="partners"))
    cancelled = await new_forum(service, bodies.forum(title="Abgesagtes Forum"))
    ok(await service.staff.post(f"/v1/forums/{cancelled['id']}/cancel"))
    await new_forum(service, bodies.started_forum(title="Begonnenes Forum"))
    full = await new_forum(service, bodies.forum(title="Volles Forum", capacity=1))
    await registered(service, full["id"])

    async with browser(service) as client:
        home = await client.get("/")

    assert home.status_code == 200
    text = body_text(home.text)
    assert "Foren und Konferenzen des Netzwerks" in text
    assert "bringt das Kompetenzzentrum der Polizei" in text  # the staff's text about the network
    assert title in text
    assert "Datum Mittwoch, 20. Januar 2027 Uhrzeit 10:30\N{EN DASH}16:00 Uhr" in text
    assert "Ort Rathaus, Saal 2" in text
    assert "Themen Gleichbehandlung" in text
    assert "Plätze 37 von 40 Plätzen frei" in text
    assert "Anmeldung bis Sonntag, 10. Januar 2027 um 01:00 Uhr" in text
    assert "Ausgebucht: Anmeldungen kommen auf die Warteliste" in text  # the full forum
    for hidden in (partners["title"], "Abgesagtes Forum", "Begonnenes Forum"):
        assert hidden not in text
    links = {a.attrs["href"] for a in read_page(home.text).all("a")}
    assert f"/forums/{listed['id']}" in links
    assert f"/forums/{partners['id']}" not in links


async def test_the_language_is_chosen_remembered_and_asked_for(service: RunningService) -> None:
    async with browser(service) as client:
        chosen = await client.get("/?lang=en")
        remembered = await client.get("/privacy")
        back = await client.get("/?lang=de")
        after_back = await client.get("/", headers={"Accept-Language": "en"})
    async with browser(service) as client:
        asked = await client.get("/", headers={"Accept-Language": "fr-FR, en-GB;q=0.8, de;q=0.5"})
        weighed = await client.get("/", headers={"Accept-Language": "en;q=0.2, de-AT;q=0.9"})
        none_of_ours = await client.get("/", headers={"Accept-Language": "tr, ar;q=0.5"})

    assert "Forums and conferences of the network" in body_text(chosen.text)
    [cookie] = [c for c in chosen.headers.get_list("set-cookie") if LANGUAGE_COOKIE in c]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {f"{LANGUAGE_COOKIE}=en", "httponly", "samesite=strict", "path=/"} <= attributes
    assert "Privacy notice for registrations" in body_text(remembered.text)  # no ?lang= needed
    assert [c for c in remembered.headers.get_list("set-cookie") if LANGUAGE_COOKIE in c] == []
    assert "Foren und Konferenzen des Netzwerks" in body_text(back.text)
    assert "Foren und Konferenzen des Netzwerks" in body_text(after_back.text)  # cookie first
    assert "Forums and conferences of the network" in body_text(asked.text)
    assert "Foren und Konferenzen des Netzwerks" in body_text(weighed.text)
    assert "Foren und Konferenzen des Netzwerks" in body_text(none_of_ours.text)
    for answer in (asked, weighed, none_of_ours):
        assert answer.headers.get("set-cookie", "").find(LANGUAGE_COOKIE) == -1


async def test_the_forum_page_asks_every_field_of_the_api(service: RunningService) -> None:
    partner_name = f"Moscheegemeinde Mitte {secrets.token_hex(2)}"
    partner = await new_partner(service, name=partner_name)
    prospect = await new_organization(service, name="Noch kein Partner e.V.")
    forum = await new_forum(service, bodies.forum(seats_per_organization=4))

    async with browser(service) as client:
        html = await form_page(client, forum["id"])

    page = read_page(html)
    form = the_form(html)
    assert (form.method, form.action) == ("post", f"/forums/{forum['id']}?lang=de")
    named = {
        e.attrs["name"] for e in page.descendants() if e.tag in {"input", "select", "textarea"}
    }
    assert set(FORM_FIELDS) <= named
    assert {"csrf_token", "idempotency_key", "homepage"} <= named
    labels = {label.attrs.get("for") for label in page.all("label")}
    assert set(FORM_FIELDS) <= labels  # every field has its visible label
    email = page.by_id("contact_email")
    assert email is not None
    assert (email.attrs["type"], email.attrs["autocomplete"]) == ("email", "email")
    assert email.attrs["aria-describedby"] == "contact_email-hint"
    [select] = [e for e in page.all("select") if e.attrs["name"] == "organization_id"]
    options = {option.attrs["value"]: option.text() for option in select.all("option")}
    assert options[""] == "Meine Organisation ist nicht aufgeführt"
    assert options[partner["id"]] == partner_name
    assert prospect["id"] not in options  # partners only
    assert partner["contact"]["email"] not in html  # the public form never shows contacts
    text = body_text(html)
    assert "Höchstens 4 Personen je Organisation" in text
    [consent] = [a for a in page.all("a") if a.attrs.get("href") == "/privacy"][-1:]
    assert consent.text() == "Datenschutzhinweise"
    trap = page.by_id("homepage")
    assert trap is not None
    assert (trap.attrs["tabindex"], trap.attrs["autocomplete"]) == ("-1", "off")
    [hidden] = [e for e in page.descendants() if e.attrs.get("class") == "trap"]
    assert hidden.attrs["aria-hidden"] == "true"


async def test_the_form_registers_through_the_service_and_redirects_to_the_result(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(title="Forum Krisen", **WINTER_FORUM))
    email = bodies.unique_email("selin")

    async with browser(service) as client:
        posted = await send(
            client,
            forum["id"],
            contact_email=email,
            wants_to_present="yes",
            interested_in_partnership="yes",
            interpreter_needs="Türkisch, 2 Personen",
        )
        assert posted.status_code == 303, body_text(posted.text)
        location = posted.headers["location"]
        result = await client.get(location)
        again = await client.get(location)  # a reload shows it again and registers nobody
    async with browser(service) as elsewhere:
        foreign = await elsewhere.get(location)

    assert posted.status_code == 303, posted.text
    [made] = await registrations(service, forum["id"])
    assert location == f"/registrations/{made['id']}/registered?lang=de"
    assert "token" not in location
    assert result.status_code == 200
    text = body_text(result.text)
    assert "Anmeldung bestätigt" in text
    assert f"Wir senden eine E-Mail an {email}" in text
    assert "Organisation Nachbarschaftshilfe Ost" in text
    assert "Teilnehmende 2" in text
    assert body_text(again.text) == text
    assert foreign.status_code == 403
    assert "Nachbarschaftshilfe Ost" not in foreign.text
    assert len(await registrations(service, forum["id"])) == 1
    facts = await facts_on_key(
        service,
        "registrations",
        forum["id"],
        of_type("registration.made", registration_id=made["id"]),
    )
    data = facts[-1].value["data"]
    assert data["status"] == "confirmed"
    assert data["organization_name"] == "Nachbarschaftshilfe Ost"
    assert data["contact"] == {
        "name": "Selin Kaya",
        "email": email,
        "phone": "+49 30 1234567",
        "language": "de",
    }
    assert (data["attendees"], data["wants_to_present"]) == (2, True)
    assert data["interested_in_partnership"] is True
    assert (data["accessibility_needs"], data["interpreter_needs"]) == (
        "Rollstuhlplatz",
        "Türkisch, 2 Personen",
    )


async def test_a_partner_picks_its_organisation_from_the_list(service: RunningService) -> None:
    partner = await new_partner(service, name=f"Sportverein West {secrets.token_hex(2)}")
    forum = await new_forum(service)

    async with browser(service) as client:
        posted = await send(
            client,
            forum["id"],
            organization_id=partner["id"],
            organization_name="",
            organization_kind="",
            organization_district="",
        )
        both = await send(client, forum["id"], organization_id=partner["id"])

    assert posted.status_code == 303, posted.text
    [made] = await registrations(service, forum["id"])
    assert made["organization_id"] == partner["id"]
    assert both.status_code == 422
    assert "Lassen Sie die Felder für eine neue Organisation leer" in field_error(
        read_page(both.text), "organization_name"
    )


async def test_a_double_submit_registers_once(service: RunningService) -> None:
    forum = await new_forum(service)

    async with browser(service) as client:
        form = the_form(await form_page(client, forum["id"]))
        fields = filled(form.fields)
        first = await client.post(form.action, data=fields)
        second = await client.post(form.action, data=fields)  # a double click, the back button

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    assert len(await registrations(service, forum["id"])) == 1


async def test_a_full_forum_puts_the_registrant_on_the_waitlist(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(capacity=2))
    await registered(service, forum["id"], attendees=2)
    await registered(service, forum["id"])

    async with browser(service) as client:
        page = body_text(await form_page(client, forum["id"], "?lang=en"))
        posted = await send(client, forum["id"], attendees="1")
        result = await client.get(posted.headers["location"])

    assert "Fully booked: registrations go on the waiting list" in page
    assert "put on the waiting list at position 2" in page
    text = body_text(result.text)
    assert "You are on the waiting list Position 2" in text
    assert "Status On the waiting list, position 2" in text
    statuses = sorted(item["status"] for item in await registrations(service, forum["id"]))
    assert statuses == ["confirmed", "waitlisted", "waitlisted"]


async def test_bad_input_is_shown_beside_each_field_and_saves_nothing(
    service: RunningService,
) -> None:
    forum = await new_forum(service)

    async with browser(service) as client:
        form = the_form(await form_page(client, forum["id"]))
        answer = await client.post(
            form.action,
            data={
                **untouched(form.fields),
                "organization_name": "",
                "contact_name": "Ana",
                "contact_email": "ana(at)example.org",
                "contact_phone": "030 abc",
                "attendees": "zwei",
                "interpreter_needs": "x" * 2001,
            },
        )

    assert answer.status_code == 422, answer.text
    page = read_page(answer.text)
    [title] = page.all("title")
    assert title.text().startswith("Fehler:")
    expected = {
        "organization_name": "Geben Sie den Namen Ihrer Organisation ein",
        "organization_kind": "Wählen Sie, welche Art von Organisation es ist",
        "contact_email": "Geben Sie eine E-Mail-Adresse wie name@example.org ein",
        "contact_phone": "Geben Sie eine Telefonnummer nur mit Ziffern, Leerzeichen"
        " und + ( ) / . - ein",
        "attendees": "Geben Sie als ganze Zahl ein, wie viele Personen teilnehmen",
        "interpreter_needs": "Geben Sie höchstens 2.000 Zeichen ein; dieser Text hat 2.001.",
        "consent": "Stimmen Sie den Datenschutzhinweisen zu, um sich anzumelden",
    }
    # The summary links each field in the form's order; the message stands beside the field.
    assert summary_links(page) == {f"#{name}": message for name, message in expected.items()}
    for name, message in expected.items():
        assert field_error(page, name) == f"Fehler: {message}"
        field = page.by_id(name)
        assert field is not None
        assert f"{name}-error" in field.attrs["aria-describedby"].split()
    resent = the_form(answer.text)
    assert resent.fields["contact_name"] == "Ana"  # the input is kept
    assert resent.fields["contact_email"] == "ana(at)example.org"
    assert resent.fields["interpreter_needs"] == "x" * 2001
    assert await registrations(service, forum["id"]) == []


async def test_the_same_email_twice_is_refused_with_a_message(service: RunningService) -> None:
    forum = await new_forum(service)
    email = bodies.unique_email("zweimal")

    async with browser(service) as client:
        first = await send(client, forum["id"], contact_email=email)
        second = await send(client, forum["id"], contact_email=email, contact_name="Noch Einmal")

    assert first.status_code == 303
    assert second.status_code == 409
    page = read_page(second.text)
    assert "bereits angemeldet" in field_error(page, "contact_email")
    assert the_form(second.text).fields["contact_name"] == "Noch Einmal"
    assert len(await registrations(service, forum["id"])) == 1


async def test_more_attendees_than_the_cap_are_refused_beside_the_field(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(seats_per_organization=2))

    async with browser(service) as client:
        answer = await send(client, forum["id"], attendees="3")

    assert answer.status_code == 422
    assert "höchstens 2 Personen" in field_error(read_page(answer.text), "attendees")
    assert await registrations(service, forum["id"]) == []


async def test_a_filled_honeypot_saves_nothing(service: RunningService) -> None:
    forum = await new_forum(service)

    async with browser(service) as client:
        answer = await send(client, forum["id"], homepage="http://spam.example")

    assert answer.status_code == 400
    assert "Es wurde nichts gespeichert." in body_text(answer.text)
    assert await registrations(service, forum["id"]) == []


async def test_a_form_without_its_csrf_token_is_refused(service: RunningService) -> None:
    forum = await new_forum(service)

    async with browser(service) as client:
        form = the_form(await form_page(client, forum["id"]))
        fields = filled(form.fields)
        forged = await client.post(form.action, data={**fields, "csrf_token": "0" * 64})
        missing = await client.post(
            form.action, data={k: v for k, v in fields.items() if k != "csrf_token"}
        )
    async with browser(service) as other_site:  # no cookie of ours, as a cross-site post
        cross_site = await other_site.post(form.action, data=fields)

    for answer in (forged, missing, cross_site):
        assert answer.status_code == 403
        assert "Das Formular konnte nicht angenommen werden" in body_text(answer.text)
    assert await registrations(service, forum["id"]) == []


async def test_the_form_shares_the_public_rate_limit(settings: Settings) -> None:
    limited = settings.model_copy(update={"public_rate_limit_per_minute": 2})
    async with running_registration(limited) as service:
        forum = await new_forum(service)
        async with browser(service) as client:
            first = await send(client, forum["id"])
            refused = await send(client, forum["id"], homepage="x")  # counted, saving nothing
            limited_answer = await send(client, forum["id"])

        assert (first.status_code, refused.status_code) == (303, 400)
        assert limited_answer.status_code == 429
        assert int(limited_answer.headers["retry-after"]) >= 1
        assert "Zu viele Anfragen" in body_text(limited_answer.text)
        assert len(await registrations(service, forum["id"])) == 1


async def test_a_partners_only_forum_is_not_offered_to_the_public(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(title="Partnertreffen", audience="partners"))

    async with browser(service) as client:
        page = await client.get(f"/forums/{forum['id']}")
        unknown = await client.get(f"/forums/{uuid.uuid4()}")
        malformed = await client.get("/forums/kein-forum")
        shown = the_form(await form_page(client, (await new_forum(service))["id"]))
        posted = await client.post(f"/forums/{forum['id']}?lang=de", data=filled(shown.fields))

    for answer in (page, unknown, malformed, posted):
        assert answer.status_code == 404
        assert "Veranstaltung nicht gefunden" in body_text(answer.text)
        assert "Partnertreffen" not in answer.text
    assert page.text == unknown.text  # nothing tells a partners-only forum from none
    assert await registrations(service, forum["id"]) == []


async def closed_forums(service: RunningService) -> dict[str, tuple[JsonBody, str]]:
    """A forum in each closed state, with the sentence its page says why."""
    passed = await new_forum(  # starts in two days; registration closed yesterday
        service, bodies.forum(starts_in=timedelta(days=2), deadline_before_start=timedelta(days=3))
    )
    cancelled = await new_forum(service)
    ok(await service.staff.post(f"/v1/forums/{cancelled['id']}/cancel", json={"reason": "Sturm"}))
    held = await new_forum(service, bodies.started_forum())
    ok(await service.staff.post(f"/v1/forums/{held['id']}/held", json={"attendance": 0}))
    return {
        "deadline passed": (passed, "Die Anmeldefrist ist am "),
        "cancelled": (cancelled, "Diese Veranstaltung wurde abgesagt und findet nicht statt."),
        "held": (held, "Diese Veranstaltung hat bereits stattgefunden."),
    }


async def test_a_closed_forum_says_so_and_why_and_takes_no_registration(
    service: RunningService,
) -> None:
    closed = await closed_forums(service)
    open_forum = await new_forum(service)

    async with browser(service) as client:
        shown = the_form(await form_page(client, open_forum["id"]))
        answers: dict[str, tuple[httpx.Response, httpx.Response]] = {}
        for case, (forum, _) in closed.items():
            page = await client.get(f"/forums/{forum['id']}")
            posted = await client.post(f"/forums/{forum['id']}?lang=de", data=filled(shown.fields))
            answers[case] = (page, posted)

    for case, (page, posted) in answers.items():
        forum, why = closed[case]
        assert page.status_code == 200, case
        assert posted.status_code == 409, case
        for answer in (page, posted):
            text = body_text(answer.text)
            assert "Die Anmeldung ist geschlossen" in text, case
            assert why in text, case
            assert forms(answer.text) == [], case
        assert await registrations(service, forum["id"]) == [], case


async def test_the_privacy_notice_in_german_and_english(service: RunningService) -> None:
    async with browser(service) as client:
        german = await client.get("/privacy")
        english = await client.get("/privacy?lang=en")

    assert german.status_code == english.status_code == 200
    for heading in ("Was wir speichern", "Wozu", "Wie lange", "Stornieren und Löschen",
                    "Wen Sie fragen können"):  # fmt: skip
        assert heading in body_text(german.text)
    for heading in ("What we store", "Why", "How long", "Cancelling and erasure", "Who to ask"):
        assert heading in body_text(english.text)


async def test_every_public_page_carries_the_security_headers(service: RunningService) -> None:
    forum = await new_forum(service)

    async with browser(service) as client:
        answers: dict[str, Any] = {
            "home": await client.get("/"),
            "forum": await client.get(f"/forums/{forum['id']}"),
            "privacy": await client.get("/privacy"),
            "not found": await client.get(f"/forums/{uuid.uuid4()}"),
        }
        posted = await send(client, forum["id"])
        answers["redirect"] = posted
        answers["result"] = await client.get(posted.headers["location"])

    for name, answer in answers.items():
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, name
        assert answer.headers["x-content-type-options"] == "nosniff", name
        assert answer.headers["referrer-policy"] == "no-referrer", name
        assert answer.headers["cache-control"] == "no-store", name
        if name != "redirect":
            parsed = read_page(answer.text)
            assert parsed.all("script") == [], name
            assert parsed.all("style") == [], name
            assert not [e for e in parsed.descendants() if "style" in e.attrs], name
    [cookie] = [c for c in posted.headers.get_list("set-cookie") if "dialognet_registered" in c]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict"} <= attributes
