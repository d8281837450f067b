"""The scripted history: the demo (`dialognet up --demo`) through the real registration service,
then a few steps more that every fact type takes part in (interest, joining, leaving, a full
workshop with its waitlist and a promotion, cancellations, a cancelled forum, an erasure), and
e-mail facts as the notification service publishes them."""

import contextlib
import json
import random
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from schemas.notifications import (
    NotificationFailed,
    NotificationFailedData,
    NotificationSent,
    NotificationSentData,
)
from schemas.topics import Topic, topic_name
from services.cli.demo import PARTNERS, load_demo
from tests import conftest as platform
from tests.conftest import TEST_ADMIN_TOKEN, Infra, fresh_database
from tests.integration.conftest import RunningService, running_registration
from tests.integration.reporting.conftest import (
    RunningReporting,
    reporting_settings,
    running_reporting,
)
from tests.kafka_helpers import ConsumedMessage, produce, read_to_end

FACT_TOPICS = (Topic.ORGANIZATIONS, Topic.FORUMS, Topic.REGISTRATIONS, Topic.NOTIFICATIONS)
LOTUS = "Tamilischer Kulturverein Lotus"
LICHTBLICK = "Krisendienst Lichtblick"
KIEZKICKER = "SV Rot-Weiß Kiezkicker 1987"
UPCOMING = "3. Forum Dialog und Vertrauen: Dialogformate mit jungen Menschen"
FACHTAG = "Fachtag Vielfalt und Polizei im Gespräch"
WORKSHOP = "Werkstatt: Beschwerdewege verständlich machen"
# E-mails (kind, result) the notification service is said to have delivered.
EMAILS = (
    ("registration_confirmed", "sent"),
    ("registration_confirmed", "sent"),
    ("partner_welcome", "sent"),
    ("forum_reminder", "failed"),
)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None


async def _all(service: RunningService, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "1000"}
    while True:
        page = ok(await service.staff.get(path, params=params))
        items += page["items"]
        if not page.get("next"):
            return items
        params["cursor"] = str(page["next"])


async def script(service: RunningService) -> None:
    """Run the whole history against the registration service (and the notification topic)."""
    assert await load_demo(service.base_url, TEST_ADMIN_TOKEN)
    organizations = {o["name"]: o for o in await _all(service, "/v1/organizations")}
    forums = {f["title"]: f for f in await _all(service, "/v1/forums")}
    staff = service.staff
    lotus = organizations[LOTUS]["id"]
    ok(await staff.post(f"/v1/organizations/{lotus}/interest", json={"note": "Gern!"}))
    ok(
        await staff.post(
            f"/v1/organizations/{lotus}/join", json={"agreement_signed_on": "2026-01-15"}
        )
    )
    kiezkicker = organizations[KIEZKICKER]["id"]
    ok(
        await staff.post(
            f"/v1/organizations/{kiezkicker}/leave", json={"reason": "Vereinsauflösung"}
        )
    )
    upcoming = forums[UPCOMING]["id"]
    first = (await _all(service, f"/v1/forums/{upcoming}/registrations"))[0]
    ok(await staff.post(f"/v1/registrations/{first['id']}/cancel", json={}))
    ok(
        await staff.post(
            f"/v1/forums/{forums[FACHTAG]['id']}/cancel", json={"reason": "Raum fehlt"}
        )
    )
    await _workshop(service, [organizations[partner.name] for partner in PARTNERS[5:9]])
    ok(await staff.delete(f"/v1/organizations/{organizations[LICHTBLICK]['id']}"), 204)
    for kind, result in EMAILS:
        await _email(service, kind, result)


async def _workshop(service: RunningService, partners: list[dict[str, Any]]) -> None:
    """Three seats: 2 + 1 confirmed, 1 waitlisted; the 1 cancels, the waitlisted one moves
    up; one more is waitlisted."""
    now = datetime.now(UTC)
    body = {
        "format": "workshop",
        "title": WORKSHOP,
        "topics": ["Beschwerdewege"],
        "venue": "Polizeipräsidium, Raum 2",
        "starts_at": (now + timedelta(days=20)).isoformat(),
        "ends_at": (now + timedelta(days=20, hours=2)).isoformat(),
        "registration_deadline": (now + timedelta(days=15)).isoformat(),
        "capacity": 3,
        "seats_per_organization": 2,
        "audience": "open",
    }
    workshop = ok(await service.staff.post("/v1/forums", json=body), 201)["id"]
    made = []
    for partner, attendees in zip(partners, (2, 1, 1, 1), strict=True):
        registration = {
            "organization_id": partner["id"],
            "contact": {"name": "Kim Beispiel", "email": f"{uuid4().hex}@example.org",
                        "phone": None, "language": "de"},
            "attendees": attendees,
            "wants_to_present": False,
            "interested_in_partnership": False,
            "accessibility_needs": None,
            "interpreter_needs": "Türkisch" if attendees == 2 else None,
            "consent": True,
        }  # fmt: skip
        made.append(
            ok(
                await service.staff.post(f"/v1/forums/{workshop}/registrations", json=registration),
                201,
            )
        )
        if len(made) == 3:
            assert [m["status"] for m in made] == ["confirmed", "confirmed", "waitlisted"]
            ok(await service.staff.post(f"/v1/registrations/{made[1]['id']}/cancel", json={}))


async def _email(service: RunningService, kind: str, result: str) -> None:
    settings = service.settings
    now = datetime.now(UTC)
    common = {
        "delivery_id": uuid4(),
        "template": kind,
        "language": "de",
        "recipient_hash": "ab" * 32,
        "source_event_id": uuid4(),
        "source_event_type": "registration.made",
    }
    envelope = (
        NotificationSent(producer="notification", key="ab" * 32,
                         data=NotificationSentData(**common, sent_at=now))
        if result == "sent"
        else NotificationFailed(producer="notification", key="ab" * 32,
                                data=NotificationFailedData(**common, failed_at=now, attempts=5,
                                                            error="550 mailbox unavailable"))
    )  # fmt: skip
    await produce(
        settings.kafka_bootstrap or "",
        topic_name(Topic.NOTIFICATIONS, settings.topic_prefix),
        envelope.to_json(),
        key=envelope.key,
        headers=envelope.kafka_headers(),
    )


@dataclass(frozen=True)
class Recorded:
    """A fact as it lies on its topic, to publish again elsewhere."""

    topic: Topic
    key: str | None
    headers: dict[str, str]
    value: bytes


async def recorded(bootstrap: str, prefix: str) -> list[Recorded]:
    facts = []
    for topic in FACT_TOPICS:
        messages: list[ConsumedMessage] = await read_to_end(bootstrap, topic_name(topic, prefix))
        facts += [
            Recorded(topic, message.key, message.headers, json.dumps(message.value).encode())
            for message in messages
        ]
    return facts


async def publish(
    bootstrap: str, prefix: str, facts: list[Recorded], seed: int | None = None
) -> None:
    """Publish `facts` to the topics of `prefix`; shuffled across and within topics with a
    seed (every partition then sees its keys' events out of order too)."""
    ordered = list(facts)
    if seed is not None:
        random.Random(seed).shuffle(ordered)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for fact in ordered:
            await producer.send_and_wait(
                topic_name(fact.topic, prefix),
                fact.value,
                key=fact.key.encode() if fact.key is not None else None,
                headers=[(name, value.encode()) for name, value in fact.headers.items()],
            )
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Live:
    """The history made live: its facts, and the reporting service that applied them all."""

    reporting: RunningReporting
    facts: list[Recorded]


@contextlib.asynccontextmanager
async def made_live(infra: Infra, data_dir: Path, **overrides: object) -> AsyncIterator[Live]:
    """Registration and reporting (with the settings `overrides`) running on a database and
    topics of their own while the history happens, until every fact is applied."""
    async with fresh_database(infra) as database_url:
        prefix = f"t{secrets.token_hex(4)}."
        settings = reporting_settings(
            platform.test_settings(infra, database_url, prefix, data_dir), **overrides
        )
        async with (
            running_registration(settings) as registration,
            running_reporting(settings) as reporting,
        ):
            await script(registration)
            facts = await recorded(infra.kafka_bootstrap, prefix)
            await reporting.wait_for_events(len(facts))
            yield Live(reporting, facts)
