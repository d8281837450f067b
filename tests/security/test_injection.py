"""Injection attempts have no effect: SQL metacharacters are stored as the text they are; a line
break never reaches an e-mail header or an .ics line (refused in every single-line field, kept
in the body where free text may span lines); HTML and script are shown escaped on every page
and in the HTML mail."""

import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import httpx

from schemas.topics import Topic, topic_name
from tests.conftest import TEST_ADMIN_TOKEN
from tests.html_page import forms, read_page
from tests.integration.notification.calendars import calendar_parts
from tests.integration.registration import bodies
from tests.integration.registration.intake_commands import register_command
from tests.integration.registration.steps import new_forum, new_partner, ok, problem
from tests.kafka_helpers import consume_until, produce
from tests.security.conftest import WholePlatform

SQL = "O'Brien'); DROP TABLE registration.registrations;-- 100% \\ _ \"x\""
HEADER_BREAK = "Forum\r\nBcc: eindringling@evil.example"
ICS_BREAK = "Saal 2\r\nATTACH:https://evil.example/x.exe"
SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
# As an HTML page shows them once escaped (Jinja escapes < > & " ').
SCRIPT_SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_sql_metacharacters_are_stored_as_text(whole: WholePlatform) -> None:
    service = whole.services.registration
    organization = ok(
        await service.staff.post(
            "/v1/organizations",
            json=bodies.organization(name=SQL, district=SQL, with_contact=bodies.contact(name=SQL)),
        ),
        201,
    )
    forum = ok(
        await service.staff.post(
            "/v1/forums", json=bodies.forum(title=SQL, venue=SQL, topics=[SQL, "100%"])
        ),
        201,
    )
    body = bodies.registration(
        name=SQL,
        new_organization=bodies.inline_organization(name=SQL, district=SQL),
        accessibility_needs=SQL,
        interpreter_needs=SQL,
    )
    registration = ok(
        await service.staff.post(f"/v1/forums/{forum['id']}/registrations", json=body), 201
    )
    cancelled = await service.staff.post(
        f"/v1/registrations/{registration['id']}/cancel", json={"reason": SQL}
    )

    ok(cancelled)
    stored_organization = ok(await service.staff.get(f"/v1/organizations/{organization['id']}"))
    assert [stored_organization["name"], stored_organization["district"]] == [SQL, SQL]
    assert stored_organization["contact"]["name"] == SQL
    stored_forum = ok(await service.staff.get(f"/v1/forums/{forum['id']}"))
    assert [stored_forum["title"], stored_forum["venue"], stored_forum["topics"]] == [
        SQL,
        SQL,
        [SQL, "100%"],
    ]
    [listed] = ok(await service.staff.get(f"/v1/forums/{forum['id']}/registrations"))["items"]
    assert listed["contact"]["name"] == SQL
    assert listed["accessibility_needs"] == SQL
    # The table the text named is there, and every registration in it.
    conn = await service.database()
    try:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM registration.registrations WHERE contact_name = $1", SQL
            )
            == 1
        )
    finally:
        await conn.close()


def _every_single_line_field(value: str) -> dict[str, dict[str, Any]]:
    """Bodies that each hold `value` in one single-line text field, by that field."""
    return {
        "forum title": bodies.forum(title=value),
        "forum venue": bodies.forum(venue=value),
        "forum topic": bodies.forum(topics=[value]),
        "organisation name": bodies.organization(name=value),
        "organisation contact name": bodies.organization(with_contact=bodies.contact(name=value)),
        "registrant name": bodies.registration(name=value),
        "registering organisation name": bodies.registration(
            new_organization=bodies.inline_organization(name=value)
        ),
    }


async def test_a_line_break_in_a_header_or_ics_field_is_refused(whole: WholePlatform) -> None:
    service = whole.services.registration
    forum = await new_forum(service)
    paths = {"forum": "/v1/forums", "organisation": "/v1/organizations"}
    for value in (HEADER_BREAK, ICS_BREAK, "Forum\nX-Injected: 1", "Forum\u2028X: 1"):
        for field, body in _every_single_line_field(value).items():
            path = paths.get(field.split()[0], f"/v1/forums/{forum['id']}/registrations")
            refused = await service.staff.post(path, json=body)
            problem(refused, 422)
            assert "line breaks" in refused.text, (field, refused.text)
        edited = await service.staff.patch(f"/v1/forums/{forum['id']}", json={"title": value})
        problem(edited, 422, "title")

    shown = ok(await service.staff.get(f"/v1/forums/{forum['id']}"))
    assert "\n" not in shown["title"]


async def test_a_line_break_in_free_text_stays_in_the_mail_body(whole: WholePlatform) -> None:
    """A forum's cancel reason may span lines; it reaches the cancellation mail's body only."""
    platform = whole.services
    forum = await new_forum(platform.registration)
    address = bodies.unique_email("zeilen")
    ok(
        await platform.registration.staff.post(
            f"/v1/forums/{forum['id']}/registrations", json=bodies.registration(email=address)
        ),
        201,
    )
    await platform.received_once(address, "registration_confirmed")
    reason = f"Leider.\r\nBcc: eindringling@evil.example\r\n{ICS_BREAK}\r\n\r\n<b>x</b>"
    ok(
        await platform.registration.staff.post(
            f"/v1/forums/{forum['id']}/cancel", json={"reason": reason}
        )
    )

    cancelled = (await platform.received_once(address, "forum_cancelled")).message
    assert cancelled["Bcc"] is None
    assert "evil.example" not in "".join(f"{k}: {v}" for k, v in cancelled.items())
    assert [item["to"] for item in await platform.messages("eindringling@evil.example")] == []
    parts = calendar_parts(cancelled)
    assert parts  # the CANCEL for the calendar
    for ics in parts:
        lines = ics.decode().replace("\r\n ", "").splitlines()  # unfolded
        assert not [line for line in lines if line.startswith(("ATTACH", "BCC"))], lines
    assert "Leider." in cancelled.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def _unescaped(text: str) -> list[str]:
    return [attack for attack in (SCRIPT, "<img src=x") if attack in text]


@contextlib.asynccontextmanager
async def _signed_in(base_url: str, page: str, action: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in with the admin token through the sign-in form on `page`."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        shown = await client.get(page)
        [form] = [form for form in forms(shown.text) if form.action == action]
        answer = await client.post(action, data={**form.fields, "token": TEST_ADMIN_TOKEN})
        assert answer.status_code == 303, answer.text
        yield client


async def test_html_and_script_are_shown_escaped_on_every_page_and_mail(
    whole: WholePlatform,
) -> None:
    platform = whole.services
    service = platform.registration
    partner_address = bodies.unique_email("html")
    partner = await new_partner(
        service,
        name=f"Verein {IMAGE}",
        district=SCRIPT,
        with_contact=bodies.contact(name=f"Ana {SCRIPT}", email=partner_address),
    )
    forum = ok(
        await service.staff.post(
            "/v1/forums",
            json=bodies.forum(title=f"Forum {SCRIPT}", venue=f"Saal {IMAGE}", topics=[SCRIPT]),
        ),
        201,
    )
    address = bodies.unique_email("html")
    body = bodies.registration(
        organization_id=partner["id"], email=address, name=f"Ben {SCRIPT}",
        accessibility_needs=f"{SCRIPT}{IMAGE}",
    )  # fmt: skip
    registration = ok(
        await service.staff.post(f"/v1/forums/{forum['id']}/registrations", json=body), 201
    )
    mails: list[EmailMessage] = [
        (await platform.received_once(partner_address, "forum_invitation")).message,
        (await platform.received_once(address, "registration_confirmed")).message,
    ]
    mailbox_message = (await platform.messages(address))[0]["id"]

    pages: dict[str, str] = {}
    sink = platform.mailbox.http
    async with (
        httpx.AsyncClient(base_url=service.base_url, timeout=30) as registration_site,
        _signed_in(service.base_url, "/staff/sign-in", "/staff/sign-in") as console,
        _signed_in(whole.reporting.base_url, "/", "/sign-in") as dashboard,
    ):
        shown = {
            "public list": (registration_site, "/"),
            "public forum": (registration_site, f"/forums/{forum['id']}"),
            "cancel page": (
                registration_site,
                f"/registrations/{registration['id']}/cancel?token={registration['cancel_token']}",
            ),
            "console forum": (console, f"/staff/forums/{forum['id']}"),
            "console organisation": (console, f"/staff/organizations/{partner['id']}"),
            "console organisations": (console, "/staff/organizations"),
            "dashboard": (dashboard, "/"),
            "mail sink list": (sink, "/"),
            "mail sink message": (sink, f"/messages/{mailbox_message}"),
        }
        for name, (client, path) in shown.items():
            response = await client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            pages[name] = response.text
    for mail in mails:
        html = mail.get_body(("html",))
        assert html is not None
        pages[f"{mail['Subject']} (HTML mail)"] = html.get_content()  # type: ignore[attr-defined]

    assert {name: _unescaped(text) for name, text in pages.items() if _unescaped(text)} == {}
    # Each shows the attack, escaped: the check looked at the value, not at a page without it.
    missing = [name for name, text in pages.items() if SCRIPT_SHOWN not in text]
    assert missing == []


async def test_a_line_break_is_refused_by_the_pages_forms_too(whole: WholePlatform) -> None:
    """The public registration form and the console's forum form refuse it beside the field
    (422) and make nothing."""
    service = whole.services.registration
    forum = await new_forum(service)
    address = bodies.unique_email("formular")
    async with (
        httpx.AsyncClient(base_url=service.base_url, timeout=30) as browser,
        _signed_in(service.base_url, "/staff/sign-in", "/staff/sign-in") as console,
    ):
        page = await browser.get(f"/forums/{forum['id']}")
        [public] = [form for form in forms(page.text) if form.method == "post"]
        sent = await browser.post(
            f"/forums/{forum['id']}",
            data={
                **public.fields,
                "organization_name": "Kulturverein Süd",
                "organization_kind": "culture",
                "contact_name": HEADER_BREAK,
                "contact_email": address,
                "contact_language": "de",
                "consent": "yes",
            },
        )
        new = await console.get("/staff/forums/new")
        [schedule] = [form for form in forms(new.text) if form.action == "/staff/forums"]
        scheduled = await console.post(
            "/staff/forums",
            data={
                **schedule.fields,
                "title": ICS_BREAK,
                "format": "forum",
                "audience": "open",
                "venue": "Rathaus",
                "starts_at": "2030-05-04T10:00",
                "ends_at": "2030-05-04T16:00",
                "registration_deadline": "2030-05-01T10:00",
                "capacity": "10",
            },
        )

    assert sent.status_code == 422, sent.text[:300]
    assert scheduled.status_code == 422, scheduled.text[:300]
    # Refused for that field (the error summary links to it), not for another one left out.
    assert _linked_errors(sent.text) == ["#contact_name"]
    assert _linked_errors(scheduled.text) == ["#title"]
    registrations = ok(await service.staff.get(f"/v1/forums/{forum['id']}/registrations"))
    assert registrations["items"] == []
    titles = [item["title"] for item in ok(await service.staff.get("/v1/forums"))["items"]]
    assert ICS_BREAK not in titles
    assert "\r" not in "".join(titles)


def _linked_errors(html: str) -> list[str]:
    """The fields the page's error summary links to."""
    page = read_page(html)
    summaries = [e for e in page.descendants() if "error-summary" in e.attrs.get("class", "")]
    assert summaries, html[:500]
    return [link.attrs["href"] for link in summaries[0].all("a")]


async def test_a_line_break_in_an_intake_command_is_rejected(whole: WholePlatform) -> None:
    """Another system's command with it gets an intake.rejected fact naming the field; nothing
    is registered."""
    service = whole.services.registration
    forum = await new_forum(service)
    sent = register_command(forum["id"], bodies.unique_email("intake"))
    sent["data"]["contact"]["name"] = HEADER_BREAK
    prefix = whole.settings.topic_prefix
    bootstrap = whole.settings.bootstrap()

    await produce(bootstrap, topic_name(Topic.INTAKE, prefix), sent, key=forum["id"])
    rejected = await consume_until(
        bootstrap,
        topic_name(Topic.INTAKE_REJECTED, prefix),
        lambda message: message.value["data"]["command_event_id"] == sent["event_id"],
    )

    [rejection] = [m for m in rejected if m.value["data"]["command_event_id"] == sent["event_id"]]
    assert "contact.name" in str(rejection.value["data"]), rejection.value
    assert "line breaks" in str(rejection.value["data"])
    registrations = ok(await service.staff.get(f"/v1/forums/{forum['id']}/registrations"))
    assert registrations["items"] == []
