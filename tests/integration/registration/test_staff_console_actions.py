"""Every action of the staff console over real HTTP, each proved by the fact it publishes (the
same facts as the API's): forums scheduled, edited, cancelled and held with their attendance;
registrations found, cancelled by staff and exported; organisations created and taken through
their lifecycle to erasure; intake tokens shown once, listed and revoked. Bad input is named
beside its field and saves nothing."""

import csv
import io
import re
from datetime import datetime
from typing import Any

from schemas.topics import Topic
from services.runtime.access.tokens import list_tokens
from tests.html_page import body_text, read_page
from tests.integration.conftest import RunningService
from tests.integration.registration import bodies
from tests.integration.registration.console import Console, console_of
from tests.integration.registration.steps import (
    facts_on_key,
    forum_state,
    new_forum,
    new_organization,
    of_type,
    registered,
    registrations_of,
)

# As a staff member types them: Berlin wall-clock times (`datetime-local`).
SCHEDULE = {
    "title": "Forum Polizei und Jugend",
    "format": "dialogue",
    "audience": "open",
    "topics": "Dialogformate\nJunge Menschen",
    "venue": "Jugendzentrum Mitte",
    "starts_at": "2027-01-20T10:30",
    "ends_at": "2027-01-20T16:00",
    "registration_deadline": "2027-01-10T18:00",
    "capacity": "40",
    "seats_per_organization": "",
}


def forum_id_of(location: str) -> str:
    match = re.fullmatch(r"/staff/forums/([0-9a-f-]{36})\?done=scheduled", location)
    assert match, location
    return match.group(1)


def errors_shown(html: str) -> dict[str, str]:
    """Each field's error message beside it, by field name."""
    page = read_page(html)
    return {
        element.attrs["id"].removesuffix("-error"): element.text().removeprefix("Fehler: ")
        for element in page.all("p")
        if element.attrs.get("id", "").endswith("-error")
    }


async def schedule(console: Console, **changes: str) -> Any:
    return await console.send("/staff/forums/new", "/staff/forums", **{**SCHEDULE, **changes})


async def test_scheduling_a_forum_publishes_what_the_api_would(service: RunningService) -> None:
    async with console_of(service) as console:
        scheduled = await schedule(console)
        forum_id = forum_id_of(scheduled.headers["location"])
        listed = await console.client.get("/staff/")
        shown = await console.client.get(scheduled.headers["location"])

    [fact] = await facts_on_key(service, Topic.FORUMS, forum_id, of_type("forum.scheduled"))
    data = fact.value["data"]
    assert data["title"] == "Forum Polizei und Jugend"
    assert data["format"] == "dialogue"
    assert data["topics"] == ["Dialogformate", "Junge Menschen"]
    # Berlin is UTC+1 in January.
    assert datetime.fromisoformat(data["starts_at"]) == datetime.fromisoformat("2027-01-20T09:30Z")
    assert datetime.fromisoformat(data["registration_deadline"]) == datetime.fromisoformat(
        "2027-01-10T17:00Z"
    )
    assert data["capacity"] == 40
    assert data["seats_per_organization"] is None
    assert "Forum Polizei und Jugend" in body_text(listed.text)
    assert "Das Forum ist geplant." in body_text(shown.text)
    assert "10:30\u201316:00" in body_text(shown.text)  # with an en dash


async def test_bad_forum_input_is_named_beside_its_field_and_saves_nothing(
    service: RunningService,
) -> None:
    async with console_of(service) as console:
        refused = await schedule(
            console, title="", ends_at="2027-01-20T09:00", capacity="viele", venue="x" * 300
        )
        reversed_deadline = await schedule(
            console, title="Forum Spät", registration_deadline="2027-01-21T10:00"
        )
        listed = await console.client.get("/staff/")

    assert refused.status_code == 422
    errors = errors_shown(refused.text)
    assert errors["title"] == "Füllen Sie dieses Feld aus."
    assert errors["capacity"] == "Geben Sie eine ganze Zahl ein."
    assert errors["venue"].startswith("Geben Sie höchstens 200 Zeichen ein")
    page = read_page(refused.text)
    summary = [link.attrs["href"] for link in page.all("a") if link.attrs.get("href", "") in
               {"#title", "#capacity", "#venue"}]  # fmt: skip
    assert sorted(summary) == ["#capacity", "#title", "#venue"]
    assert 'value="2027-01-20T09:00"' in refused.text  # what was typed stays
    assert errors_shown(reversed_deadline.text) == {
        "registration_deadline": "Der Anmeldeschluss darf nicht nach dem Ende liegen."
    }
    assert "<title>Fehler:" in refused.text
    assert "Forum Spät" not in body_text(listed.text)


async def test_editing_cancelling_and_holding_forums(service: RunningService) -> None:
    edited = await new_forum(service, bodies.forum(title="Forum zum Ändern", capacity=5))
    await registered(service, edited["id"], attendees=3)
    cancelled = await new_forum(service, bodies.forum(title="Forum zum Absagen"))
    held = await new_forum(service, bodies.forum(title="Forum zum Durchführen"))
    came = await registered(service, held["id"], name="Lea Da")
    missed = await registered(service, held["id"], name="Tom Weg")
    async with console_of(service) as console:
        edit_page = f"/staff/forums/{edited['id']}/edit"
        changed = await console.send(edit_page, edit_page, capacity="25", venue="Rathaus, Saal 3")
        invalid = await console.send(edit_page, edit_page, capacity="0")
        below = await console.send(edit_page, edit_page, capacity="2")
        reversed_times = await console.send(edit_page, edit_page, ends_at="2000-01-01T10:00")
        cancel_page = f"/staff/forums/{cancelled['id']}/cancel"
        confirm = await console.client.get(cancel_page)
        gone = await console.send(cancel_page, cancel_page, reason="Die Halle ist gesperrt.")
        held_page = f"/staff/forums/{held['id']}/held"
        checklist = await console.client.get(held_page)
        done = await console.send(held_page, held_page, attended=[came["id"]], attendance="3",
                                  outcomes="Drei Vereinbarungen.")  # fmt: skip
        again = await console.client.get(held_page)

    assert changed.status_code == 303
    [*_, update] = await facts_on_key(service, Topic.FORUMS, edited["id"], of_type("forum.updated"))
    assert update.value["data"]["changed_fields"] == ["capacity", "venue"]
    assert errors_shown(invalid.text) == {"capacity": "Geben Sie mindestens 1 ein."}
    # The service's rules, in the reader's words.
    assert errors_shown(below.text) == {
        "capacity": "Es sind schon mehr Plätze bestätigt; behalten Sie mindestens so viele."
    }
    assert errors_shown(reversed_times.text) == {"ends_at": "Das Ende muss nach dem Beginn liegen."}
    assert (await forum_state(service, edited["id"]))["capacity"] == 25
    assert "die Warteliste endet" in body_text(confirm.text)
    assert (await forum_state(service, cancelled["id"]))["status"] == "cancelled"
    [*_, cancellation] = await facts_on_key(
        service, Topic.FORUMS, cancelled["id"], of_type("forum.cancelled")
    )
    assert cancellation.value["data"]["reason"] == "Die Halle ist gesperrt."
    assert gone.status_code == 303
    assert "Lea Da" in body_text(checklist.text)
    assert "Tom Weg" in body_text(checklist.text)
    assert done.status_code == 303
    [*_, held_fact] = await facts_on_key(service, Topic.FORUMS, held["id"], of_type("forum.held"))
    assert held_fact.value["data"]["attendance"] == 3
    assert held_fact.value["data"]["attended_registration_ids"] == [came["id"]]
    assert missed["id"] not in held_fact.value["data"]["attended_registration_ids"]
    assert held_fact.value["data"]["outcomes"] == "Drei Vereinbarungen."
    assert again.status_code == 404  # a held forum has nothing left to mark


async def test_a_large_forum_is_marked_held_with_everyone_who_came(
    service: RunningService,
) -> None:
    """One checkbox a registration: more than the 20 fields the forms' limit once was."""
    forum = await new_forum(service, bodies.forum(title="Konferenz", capacity=100))
    came = [(await registered(service, forum["id"]))["id"] for _ in range(30)]
    page = f"/staff/forums/{forum['id']}/held"
    async with console_of(service) as console:
        done = await console.send(page, page, attended=came, attendance="31")

    assert done.status_code == 303, done.text
    [*_, fact] = await facts_on_key(service, Topic.FORUMS, forum["id"], of_type("forum.held"))
    assert sorted(fact.value["data"]["attended_registration_ids"]) == sorted(came)


async def test_registrations_are_found_cancelled_by_staff_and_exported(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(title="Forum mit Anmeldungen"))
    kept = await registered(
        service, forum["id"], name="Ana Beispiel",
        new_organization=bodies.inline_organization(name="=Kulturverein Süd"),
        accessibility_needs="Rollstuhlplatz",
    )  # fmt: skip
    dropped = await registered(
        service, forum["id"], name="Omar Muster",
        new_organization=bodies.inline_organization(name="Moscheeverein Ost"),
    )  # fmt: skip
    page = f"/staff/forums/{forum['id']}"
    async with console_of(service) as console:
        everyone = await console.client.get(page)
        by_contact = await console.client.get(page, params={"q": "omar"})
        by_organization = await console.client.get(page, params={"q": "KULTUR"})
        cancel_page = f"/staff/registrations/{dropped['id']}/cancel"
        cancelled = await console.send(cancel_page, cancel_page, reason="Doppelt angemeldet.")
        exported = await console.client.get(f"{page}/registrations.csv")

    assert "Omar Muster" in body_text(everyone.text)
    assert "Ana Beispiel" in body_text(everyone.text)
    assert "Omar Muster" in body_text(by_contact.text)
    assert "Ana Beispiel" not in body_text(by_contact.text)
    assert "Ana Beispiel" in body_text(by_organization.text)
    assert "Omar Muster" not in body_text(by_organization.text)
    assert cancelled.status_code == 303
    [*_, fact] = await facts_on_key(
        service, Topic.REGISTRATIONS, forum["id"], of_type("registration.cancelled")
    )
    assert fact.value["data"]["registration_id"] == dropped["id"]
    assert fact.value["data"]["cancelled_by"] == "staff"
    assert fact.value["data"]["reason"] == "Doppelt angemeldet."
    assert (await registrations_of(service, forum["id"]))[kept["id"]]["status"] == "confirmed"

    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["cache-control"] == "no-store"
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Anmeldungs-ID", "Organisation", "Status"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[kept["id"]][1] == "'=Kulturverein Süd"  # never a formula
    assert by_id[kept["id"]][10] == "Rollstuhlplatz"
    assert by_id[dropped["id"]][2] == "cancelled"


async def test_organisations_through_their_lifecycle_to_erasure(service: RunningService) -> None:
    async with console_of(service) as console:
        created = await console.send(
            "/staff/organizations/new", "/staff/organizations", name="Frauenhaus West",
            kind="womens_organization", **{"contact.name": "Eva Kontakt",
            "contact.email": "eva@frauenhaus.example", "contact.language": "de"},
        )  # fmt: skip
        page = created.headers["location"].partition("?")[0]
        organization_id = page.rsplit("/", 1)[1]
        interest = await console.send(page, f"{page}/interest", note="Auf dem Forum gefragt.")
        bad_date = await console.send(page, f"{page}/join", agreement_signed_on="gestern")
        joined = await console.send(page, f"{page}/join", agreement_signed_on="2026-03-01")
        partners = await console.client.get("/staff/organizations", params={"status": "partner"})
        prospects = await console.client.get("/staff/organizations", params={"status": "prospect"})
        left = await console.send(page, f"{page}/leave", reason="Keine Zeit mehr.")
        confirm = await console.client.get(f"{page}/erase")
        erased = await console.send(f"{page}/erase", f"{page}/erase")
        after = await console.client.get(page)

    assert created.status_code == 303
    assert interest.status_code == 303
    assert bad_date.status_code == 422
    assert "agreement_signed_on" in errors_shown(bad_date.text)
    assert joined.status_code == 303
    assert "Frauenhaus West" in body_text(partners.text)
    assert "Frauenhaus West" not in body_text(prospects.text)
    assert left.status_code == 303
    assert "Eva Kontakt" in body_text(confirm.text)  # the erasure names whose data goes
    assert "eva@frauenhaus.example" in body_text(confirm.text)
    assert erased.status_code == 303
    assert after.status_code == 404
    facts = await facts_on_key(
        service, Topic.ORGANIZATIONS, organization_id, of_type("organization.erased")
    )
    assert [fact.headers["type"] for fact in facts] == [
        "organization.registered", "organization.interested", "partner.joined", "partner.left",
        "organization.erased",
    ]  # fmt: skip
    assert facts[2].value["data"]["agreement_signed_on"] == "2026-03-01"


async def test_a_step_out_of_order_is_refused_on_the_page(service: RunningService) -> None:
    organization = await new_organization(service, name="Sportverein Nord", kind="sports")
    page = f"/staff/organizations/{organization['id']}"
    async with console_of(service) as console:
        form = await console.form(page, f"{page}/interest")
        refused = await console.client.post(f"{page}/leave", data=form.fields)

    assert refused.status_code == 409
    assert "Sportverein Nord" in body_text(refused.text)
    assert "Dieser Schritt passt nicht zum hier gezeigten Status" in body_text(refused.text)
    assert "<title>Fehler:" in refused.text


async def test_intake_tokens_are_shown_once_listed_by_name_and_revoked(
    service: RunningService,
) -> None:
    async with console_of(service) as console:
        created = await console.send("/staff/tokens", "/staff/tokens", name="partner-portal")
        token = read_page(created.text).by_id("token")
        assert token is not None
        listed = await console.client.get("/staff/tokens")
        blank = await console.send("/staff/tokens", "/staff/tokens", name=" ")
        works = await service.public.get(
            "/v1/forums", headers={"Authorization": f"Bearer {token.attrs['value']}"}
        )
        revoked = await console.send("/staff/tokens", "/staff/tokens/revoke", name="partner-portal")
        after = await console.client.get("/staff/tokens")

    assert created.status_code == 201
    assert "nur dieses eine Mal" in body_text(created.text)
    assert token.attrs["value"] not in listed.text
    assert "partner-portal" in body_text(listed.text)
    assert blank.status_code == 422
    assert works.status_code == 200
    assert revoked.status_code == 303
    conn = await service.database()
    try:
        [entry] = [entry for entry in await list_tokens(conn) if entry.name == "partner-portal"]
    finally:
        await conn.close()
    assert entry.role == "intake"
    assert entry.revoked_at is not None
    assert token.attrs["value"] not in after.text
