"""organization.erased: no row of the notification schema holds the organisation's contacts'
personal data afterwards (a delivery keeps only the recipient's hash), and mail still pending
for them is not sent."""

import secrets
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest
from pydantic import SecretStr

from services.runtime.settings import Settings
from tests.integration.notification.conftest import Platform, platform_settings, running_platform
from tests.integration.notification.smtp_gate import TRY_LATER, SmtpGate, smtp_gate
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts_on_key,
    metric_value,
    new_forum,
    new_organization,
    of_type,
    ok,
    registered,
)
from tests.kafka_helpers import produce
from tests.polling import until

STAFF_MAILBOX = "kompetenzzentrum@polizei.example"
ERASED = "the organisation's personal data was erased"


@pytest.fixture(scope="module")
async def gated(module_settings: Settings) -> AsyncIterator[tuple[SmtpGate, Platform]]:
    settings = platform_settings(module_settings, staff_mailbox=STAFF_MAILBOX)
    async with smtp_gate(settings.mailbox_smtp_port) as gate:
        through_gate = settings.model_copy(update={"smtp_url": SecretStr(gate.url)})
        async with running_platform(through_gate) as platform:
            yield gate, platform


async def rows_holding(platform: Platform, text: str) -> dict[str, int]:
    """For every table of the `notification` schema, how many rows contain `text` anywhere."""
    assert platform.settings.database_url is not None
    conn = await asyncpg.connect(platform.settings.database_url.get_secret_value())
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'notification' AND table_type = 'BASE TABLE'"
        )
        found = {}
        for table in tables:
            name = table["table_name"]
            found[name] = await conn.fetchval(
                f'SELECT count(*) FROM notification."{name}" t WHERE t::text LIKE $1',
                f"%{text}%",
            )
    finally:
        await conn.close()
    assert {"organizations", "registrations", "deliveries", "outbox", "inbox"} <= set(found)
    return {name: count for name, count in found.items() if count}


async def test_erasure_leaves_no_personal_data_and_sends_no_pending_mail(
    gated: tuple[SmtpGate, Platform],
) -> None:
    gate, platform = gated
    marker = secrets.token_hex(4)
    contact = bodies.contact(name=f"Erika Muster {marker}", email=bodies.unique_email(marker))
    organization = await new_organization(platform.registration, with_contact=contact)
    staff = platform.registration.staff
    path = f"/v1/organizations/{organization['id']}"
    ok(await staff.post(f"{path}/interest", json={"note": f"Wir freuen uns, {marker}"}))
    await platform.received_once(contact["email"], "interest_acknowledged")
    forum = await new_forum(platform.registration, bodies.forum(capacity=1, title="Erasure"))
    second = bodies.unique_email(f"zweite-{marker}")
    second_name = f"Murat Beispiel {marker}"
    await registered(
        platform.registration,
        forum["id"],
        organization_id=organization["id"],
        email=second,
        name=second_name,
    )
    await platform.received_once(second, "registration_confirmed")
    other = bodies.unique_email("bleibt")  # another organisation's registrant: untouched
    await registered(platform.registration, forum["id"], email=other)
    await platform.received_once(other, "registration_waitlisted")
    refused = bodies.unique_email(f"abgelehnt-{marker}")
    gate.refused_naming.add(refused)  # the relay's no names the address
    await registered(
        platform.registration, forum["id"], organization_id=organization["id"], email=refused
    )
    await platform.delivery_of(
        lambda d: d["recipient"] == refused and d["status"] == "failed", "failed"
    )
    gate.answer = TRY_LATER  # what follows waits for the relay
    waiting_for_relay = await registered(
        platform.registration,
        forum["id"],
        organization_id=organization["id"],
        email=contact["email"],
    )
    pending = await platform.delivery_of(
        lambda d: d["registration_id"] == waiting_for_relay["id"] and d["status"] == "retrying",
        "a mail waiting for the relay",
    )
    personal = [contact["email"], contact["name"], second, second_name, refused, marker]
    assert await rows_holding(platform, contact["email"])  # it was there before

    erased = await staff.delete(path)

    assert erased.status_code == 204, erased.text

    async def erased_here() -> bool:
        return [await rows_holding(platform, text) for text in personal] == [{}] * len(personal)

    await until(erased_here, 30, "the contacts' data gone from the notification schema")
    after = {d["id"]: d for d in await platform.deliveries()}
    assert (after[pending["id"]]["status"], after[pending["id"]]["reason"]) == (
        "suppressed",
        ERASED,
    )
    theirs = [d for d in after.values() if d["organization_id"] == organization["id"]]
    assert {d["kind"] for d in theirs} >= {
        "interest_acknowledged",
        "forum_invitation",
        "interest_staff_note",
        "registration_confirmed",
        "registration_waitlisted",
    }
    for delivery in theirs:
        assert delivery["recipient"] is None
        assert len(delivery["recipient_hash"]) == 64

    gate.answer = None  # the relay takes mail again: nothing of theirs goes out

    of_forum = [d for d in after.values() if d["forum_id"] == forum["id"]]
    await platform.settled(len(of_forum), forum_id=forum["id"])
    # What reached them before, as it was; nothing after.
    assert await platform.kinds_to(contact["email"]) == [
        "interest_acknowledged",
        "forum_invitation",
    ]
    assert await platform.kinds_to(second) == ["registration_confirmed"]
    assert await platform.kinds_to(other) == ["registration_waitlisted"]
    assert await platform.messages(refused) == []
    for text in personal:
        assert await rows_holding(platform, text) == {}, text


async def test_a_fact_about_an_erased_organisation_read_again_sends_nothing(
    gated: tuple[SmtpGate, Platform],
) -> None:
    _, platform = gated
    contact = bodies.contact(email=bodies.unique_email("wieder"))
    organization = await new_organization(platform.registration, with_contact=contact)
    path = f"/v1/organizations/{organization['id']}"
    staff = platform.registration.staff
    ok(await staff.post(f"{path}/interest", json={"note": None}))
    await platform.received_once(contact["email"], "interest_acknowledged")
    [interested] = [
        m
        for m in await facts_on_key(
            platform.registration,
            "organizations",
            organization["id"],
            of_type("organization.interested"),
        )
        if m.headers["type"] == "organization.interested"
    ]
    assert (await staff.delete(path)).status_code == 204
    await facts_on_key(
        platform.registration, "organizations", organization["id"], of_type("organization.erased")
    )

    async def erased() -> bool:
        return await rows_holding(platform, contact["email"]) == {}

    await until(erased, 30, "the contact erased")
    # The broker still holds the fact as it was first written, contact and all; a consumer
    # reading it again as new (a fresh schema, a copy without its inbox entry) sends nothing.
    again = {**interested.value, "event_id": str(uuid4())}
    duplicates = await _processed(platform)
    await produce(
        platform.settings.bootstrap(),
        f"{platform.settings.topic_prefix}organizations",
        again,
        key=interested.key,
        headers=interested.headers,
    )

    async def processed() -> bool:
        return await _processed(platform) > duplicates

    await until(processed, 30, "the fact read again")
    assert await rows_holding(platform, contact["email"]) == {}
    assert await platform.kinds_to(contact["email"]) == ["interest_acknowledged"]


async def _processed(platform: Platform) -> float:
    exposition = (await platform.notification.get("/metrics")).text
    return metric_value(
        exposition,
        "dialognet_consumer_messages_total",
        consumer="notification",
        outcome="processed",
    )
