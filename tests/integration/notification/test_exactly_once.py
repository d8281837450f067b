"""A fact delivered again — a redelivery after a lost offset commit, or `dialognet replay`
republishing the whole event log — sends nothing twice: each fact's deliveries are written with
its inbox entry, unique per (event, recipient, kind)."""

from pathlib import Path

from tests.cli import run_dialognet
from tests.integration.notification.conftest import Platform
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    facts,
    metric_value,
    new_forum,
    new_partner,
    of_type,
    ok,
    registered,
)
from tests.kafka_helpers import produce
from tests.polling import until


async def _consumed(platform: Platform, outcome: str) -> float:
    exposition = (await platform.notification.get("/metrics")).text
    return metric_value(
        exposition, "dialognet_consumer_messages_total", consumer="notification", outcome=outcome
    )


async def _duplicates_reach(platform: Platform, count: float) -> None:
    async def reached() -> bool:
        return await _consumed(platform, "duplicate") >= count

    await until(reached, 60, f"{count} duplicates seen by notification", interval=0.1)


async def test_a_redelivered_fact_sends_nothing_again(platform: Platform) -> None:
    forum = await new_forum(platform.registration, bodies.forum(title="Noch einmal"))
    email = bodies.unique_email("einmal")
    made = await registered(platform.registration, forum["id"], email=email)
    await platform.received_once(email, "registration_confirmed")
    [fact] = [
        message
        for message in await facts(
            platform.registration,
            "registrations",
            of_type("registration.made", registration_id=made["id"]),
        )
        if of_type("registration.made", registration_id=made["id"])(message)
    ]
    duplicates = await _consumed(platform, "duplicate")

    await produce(
        platform.settings.bootstrap(),
        f"{platform.settings.topic_prefix}registrations",
        fact.value,
        key=fact.key,
        headers=fact.headers,
    )

    await _duplicates_reach(platform, duplicates + 1)
    assert len(await platform.deliveries(forum_id=forum["id"])) == 1
    assert await platform.kinds_to(email) == ["registration_confirmed"]


async def test_dialognet_replay_sends_nothing_twice(platform: Platform, tmp_path: Path) -> None:
    partner = bodies.unique_email("partner")
    await new_partner(platform.registration, with_contact=bodies.contact(email=partner))
    forum = await new_forum(platform.registration, bodies.forum(capacity=1, title="Wiederholt"))
    seated, waiting = bodies.unique_email("sitz"), bodies.unique_email("warte")
    first = await registered(platform.registration, forum["id"], email=seated)
    await registered(platform.registration, forum["id"], email=waiting)
    ok(
        await platform.registration.public.post(
            f"/v1/registrations/{first['id']}/cancel",
            json={"cancel_token": first["cancel_token"]},
        )
    )
    await platform.settled(5, forum_id=forum["id"])  # invitation, two made, cancelled, promoted
    before = {address: await platform.kinds_to(address) for address in (partner, seated, waiting)}
    assert before == {
        partner: ["partner_welcome", "forum_invitation"],
        seated: ["registration_confirmed", "registration_cancelled"],
        waiting: ["registration_waitlisted", "registration_promoted"],
    }
    duplicates = await _consumed(platform, "duplicate")

    replayed = await run_dialognet(platform.settings, tmp_path, "replay")

    assert replayed.returncode == 0, replayed.stderr
    republished = int(replayed.stdout.split()[1])  # "republished N events"
    assert republished >= 7
    await _duplicates_reach(platform, duplicates + republished)
    await platform.settled(5, forum_id=forum["id"])
    after = {address: await platform.kinds_to(address) for address in (partner, seated, waiting)}
    assert after == before
