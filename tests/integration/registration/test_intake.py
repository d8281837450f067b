"""Intake commands over the real broker: facts, rejections, dead letters, duplicates, `emit`,
and the probes that were lost or blocked (deep JSON, huge numbers, bad headers, huge fields,
a database failover)."""

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from secrets import token_hex
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from services.registration.intake import MAX_ECHOED_CHARS
from services.runtime.bounded import bounded_text
from tests.cli import run_dialognet
from tests.integration.conftest import RunningService
from tests.integration.registration.intake_commands import (
    command,
    forum_body,
    register_command,
    registration_body,
)
from tests.kafka_helpers import ConsumedMessage, consume_until, produce, read_to_end
from tests.polling import until


def _topic(service: RunningService, name: str) -> str:
    return f"{service.settings.topic_prefix}{name}"


async def _publish(service: RunningService, message: dict[str, Any] | bytes, key: str) -> None:
    # One Kafka key per test puts its commands on one partition, so they are consumed in order.
    await produce(service.settings.bootstrap(), _topic(service, "intake"), message, key=key)


async def _fact(service: RunningService, topic: str, correlation_id: str) -> ConsumedMessage:
    """The first message on `topic` (short name) caused by the command `correlation_id`."""
    messages = await consume_until(
        service.settings.bootstrap(),
        _topic(service, topic),
        lambda message: message.value["correlation_id"] == correlation_id,
    )
    return next(m for m in messages if m.value["correlation_id"] == correlation_id)


async def _fetchval(service: RunningService, sql: str) -> Any:
    conn = await service.database()
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _schedule(service: RunningService, **options: Any) -> str:
    response = await service.staff.post("/v1/forums", json=forum_body(**options))
    assert response.status_code == 201, response.text
    forum_id: str = response.json()["id"]
    return forum_id


async def test_register_command_yields_registration_made(registration: RunningService) -> None:
    forum_id = await _schedule(registration)
    register = register_command(forum_id, "ana@example.org", attendees=2)

    await _publish(registration, register, forum_id)

    made = await _fact(registration, "registrations", register["event_id"])
    assert made.headers["type"] == "registration.made"
    assert made.key == forum_id
    assert made.value["causation_id"] == register["event_id"]
    assert made.value["data"]["status"] == "confirmed"
    assert made.value["data"]["attendees"] == 2
    assert made.value["data"]["contact"]["email"] == "ana@example.org"


async def test_each_command_yields_its_fact(registration: RunningService) -> None:
    key = "facts"
    # Started two hours ago, registration still open: it can take registrations and be marked held.
    started = forum_body(starts_in=-timedelta(hours=2), deadline_in=timedelta(hours=12))
    schedule = command("schedule_forum", started)
    await _publish(registration, schedule, key)
    scheduled = await _fact(registration, "forums", schedule["event_id"])
    assert scheduled.headers["type"] == "forum.scheduled"
    forum_id = scheduled.value["data"]["forum_id"]

    organization = await registration.staff.post(
        "/v1/organizations",
        json={
            "name": "Moschee-Gemeinde Nord",
            "kind": "religious_community",
            "contact": {"name": "Emre", "email": "emre@example.org", "language": "de"},
        },
    )
    assert organization.status_code == 201, organization.text
    interest = command("declare_interest", {"organization_id": organization.json()["id"]})
    await _publish(registration, interest, key)
    interested = await _fact(registration, "organizations", interest["event_id"])
    assert interested.headers["type"] == "organization.interested"
    assert interested.value["data"]["status"] == "interested"

    made = await registration.staff.post(
        f"/v1/forums/{forum_id}/registrations",
        json={
            "organization_id": organization.json()["id"],
            "contact": {"name": "Emre", "email": "emre@example.org"},
            "consent": True,
        },
    )
    assert made.status_code == 201, made.text
    cancel = command("cancel_registration", {"registration_id": made.json()["id"], "reason": "ill"})
    await _publish(registration, cancel, key)
    cancelled = await _fact(registration, "registrations", cancel["event_id"])
    assert cancelled.headers["type"] == "registration.cancelled"
    assert cancelled.value["data"]["registration_id"] == made.json()["id"]

    held = command(
        "mark_forum_held", {"forum_id": forum_id, "attendance": 17, "outcomes": "Gute Runde"}
    )
    await _publish(registration, held, key)
    held_fact = await _fact(registration, "forums", held["event_id"])
    assert held_fact.headers["type"] == "forum.held"
    assert held_fact.value["data"]["attendance"] == 17
    assert held_fact.key == forum_id


async def _rejection(service: RunningService, rejected: dict[str, Any]) -> dict[str, Any]:
    message = await _fact(service, "intake.rejected", rejected["event_id"])
    assert message.headers["type"] == "intake.rejected"
    data: dict[str, Any] = message.value["data"]
    assert data["command_event_id"] == rejected["event_id"]
    assert data["command_type"] == rejected["type"]
    assert data["producer"] == "portal"
    return data


async def test_rule_breaking_commands_are_rejected_with_reason(
    registration: RunningService,
) -> None:
    closed_forum = await _schedule(registration, deadline_in=-timedelta(hours=1))
    late = register_command(closed_forum, "late@example.org")
    unknown_forum = register_command("7f1c7a52-1d1b-4a47-9a8e-6a3c1e0c9a11", "lost@example.org")
    unknown_type = command("book_hotel", {"forum_id": closed_forum})
    for rejected in (late, unknown_forum, unknown_type):
        await _publish(registration, rejected, "rejections")

    deadline = await _rejection(registration, late)
    assert deadline["status"] == 409
    assert "deadline" in deadline["reason"]
    assert deadline["errors"] == [{"field": "forum_id", "message": deadline["reason"]}]

    missing = await _rejection(registration, unknown_forum)
    assert missing["status"] == 404
    assert [error["field"] for error in missing["errors"]] == ["forum_id"]

    unknown = await _rejection(registration, unknown_type)
    assert unknown["status"] == 422
    assert "book_hotel" in unknown["reason"]

    registrations = await _fetchval(registration, "SELECT count(*) FROM registration.registrations")
    assert registrations == 0  # a rejected command changes nothing


async def test_a_line_break_in_a_single_line_field_is_rejected(
    registration: RunningService,
) -> None:
    # CR/LF in a venue would start a new header in the invitation e-mail and break its .ics.
    schedule = command(
        "schedule_forum", {**forum_body(), "venue": "Rathaus\r\nBcc: alle@example.org"}
    )

    await _publish(registration, schedule, "bounds")

    rejected = await _rejection(registration, schedule)
    assert rejected["status"] == 422
    [venue] = [error for error in rejected["errors"] if error["field"] == "data.venue"]
    assert venue["message"].startswith("must not contain control characters or line breaks")
    assert await _fetchval(registration, "SELECT count(*) FROM registration.forums") == 0


async def test_a_non_ascii_cancel_token_is_rejected_as_forbidden(
    registration: RunningService,
) -> None:
    forum_id = await _schedule(registration)
    made = await registration.staff.post(
        f"/v1/forums/{forum_id}/registrations", json=registration_body("token@example.org")
    )
    assert made.status_code == 201, made.text
    cancel = command(
        "cancel_registration", {"registration_id": made.json()["id"], "cancel_token": "ü" * 64}
    )

    await _publish(registration, cancel, "tokens")

    # It crashed the handler (TypeError in compare_digest) and was dead-lettered.
    rejected = await _rejection(registration, cancel)
    assert rejected["status"] == 403
    assert [error["field"] for error in rejected["errors"]] == ["cancel_token"]
    status = await _fetchval(registration, "SELECT status FROM registration.registrations")
    assert status == "confirmed"


async def test_invalid_envelopes_are_dead_lettered_and_consumption_goes_on(
    registration: RunningService,
) -> None:
    forum_id = await _schedule(registration)
    no_producer = register_command(forum_id, "anon@example.org")
    del no_producer["producer"]
    valid = register_command(forum_id, "after@example.org")

    await _publish(registration, b"\x00not json at all", forum_id)
    await _publish(registration, no_producer, forum_id)
    await _publish(registration, valid, forum_id)

    await _fact(registration, "registrations", valid["event_id"])
    dead = await consume_until(
        registration.settings.bootstrap(), _topic(registration, "intake.dlq"), 2
    )
    assert [message.value for message in dead] == [b"\x00not json at all", no_producer]
    for message in dead:
        assert message.headers["source-topic"] == _topic(registration, "intake")
        assert message.key == forum_id
    assert dead[0].headers["error"].startswith("not JSON")
    assert dead[1].headers["error"] == "missing envelope fields: producer"


async def test_command_delivered_twice_has_its_effect_once(registration: RunningService) -> None:
    forum_id = await _schedule(registration)
    register = register_command(forum_id, "twice@example.org")
    schedule = command("schedule_forum", forum_body(title="Zweimal zugestellt"))
    sentinel = register_command(forum_id, "sentinel@example.org")
    for message in (register, register, schedule, schedule, sentinel):
        await _publish(registration, message, forum_id)

    # Same partition, consumed in order: once the sentinel's fact exists, both copies were handled.
    await _fact(registration, "registrations", sentinel["event_id"])
    conn = await registration.database()
    try:
        caused = await conn.fetch(
            "SELECT envelope->>'correlation_id' AS command, type FROM registration.outbox"
            " WHERE envelope->>'correlation_id' = ANY($1::text[]) ORDER BY id",
            [register["event_id"], schedule["event_id"]],
        )
        rows = await conn.fetchval(
            "SELECT count(*) FROM registration.registrations WHERE contact_email = $1",
            "twice@example.org",
        )
        forums = await conn.fetchval(
            "SELECT count(*) FROM registration.forums WHERE title = 'Zweimal zugestellt'"
        )
    finally:
        await conn.close()
    assert rows == 1
    assert forums == 1
    assert [(row["command"], row["type"]) for row in caused] == [
        (register["event_id"], "organization.registered"),
        (register["event_id"], "registration.made"),
        (schedule["event_id"], "forum.scheduled"),
    ]  # no second fact, and no `intake.rejected` for the redelivered copy
    facts = await consume_until(
        registration.settings.bootstrap(),
        _topic(registration, "registrations"),
        lambda message: message.value["correlation_id"] == sentinel["event_id"],
    )
    made_for_register = [m for m in facts if m.value["correlation_id"] == register["event_id"]]
    assert len(made_for_register) == 1


async def test_emit_publishes_a_valid_command_and_refuses_an_invalid_file(
    registration: RunningService, tmp_path: Path
) -> None:
    forum_id = await _schedule(registration)
    valid = register_command(forum_id, "cli@example.org")
    valid_file = tmp_path / "register.json"
    valid_file.write_text(json.dumps(valid))
    invalid = register_command(forum_id, "broken@example.org")
    del invalid["data"]["contact"]
    invalid_file = tmp_path / "broken.json"
    invalid_file.write_text(json.dumps(invalid))

    refused = await run_dialognet(
        registration.settings, tmp_path, "emit", "--topic", "intake", str(invalid_file)
    )
    wrong_topic = await run_dialognet(
        registration.settings, tmp_path, "emit", "--topic", "intakes", str(valid_file)
    )
    # The full topic name works as well as the short one.
    emitted = await run_dialognet(
        registration.settings, tmp_path, "emit", "--topic", _topic(registration, "intake"),
        str(valid_file),
    )  # fmt: skip

    assert refused.returncode != 0
    assert "data.contact" in refused.stderr
    assert wrong_topic.returncode != 0
    assert "unknown topic 'intakes'" in wrong_topic.stderr
    assert emitted.returncode == 0, emitted.stderr
    assert valid["event_id"] in emitted.stdout
    made = await _fact(registration, "registrations", valid["event_id"])
    assert made.value["data"]["contact"]["email"] == "cli@example.org"
    on_intake = await consume_until(
        registration.settings.bootstrap(),
        _topic(registration, "intake"),
        lambda message: message.value["event_id"] == valid["event_id"],
    )
    assert all(message.value["event_id"] != invalid["event_id"] for message in on_intake)


async def test_probes_that_were_lost_are_dead_lettered_where_they_came_from(
    registration: RunningService,
) -> None:
    forum_id = await _schedule(registration)
    deep = b"[" * 1000 + b"]" * 1000  # RecursionError in json.loads
    huge_number = json.dumps(register_command(forum_id, "huge@example.org")).replace(
        '"attendees": 1', '"attendees": ' + "9" * 5000
    )  # ValueError: Python's int-string limit
    valid = register_command(forum_id, "after@example.org")
    for probe in (deep, huge_number.encode()):
        await _publish(registration, probe, forum_id)
    await _publish(registration, valid, forum_id)

    # On the same partition after both probes: nothing blocked, nothing skipped.
    await _fact(registration, "registrations", valid["event_id"])
    dead = await consume_until(
        registration.settings.bootstrap(), _topic(registration, "intake.dlq"), 2
    )
    sources = await consume_until(
        registration.settings.bootstrap(), _topic(registration, "intake"), 3
    )
    reasons = ["not JSON: nested too deeply", "not JSON: a number with more than 4300 digits"]
    for letter, source, reason in zip(dead, sources[:2], reasons, strict=True):
        assert letter.value == source.value  # the original bytes
        assert letter.key == forum_id
        assert letter.headers["error"] == reason
        assert letter.headers["source-topic"] == _topic(registration, "intake")
        assert letter.headers["source-partition"] == str(source.partition)
        assert letter.headers["source-offset"] == str(source.offset)
        assert letter.headers["consumer"] == "registration-intake"


async def test_a_command_with_a_null_or_non_utf8_header_is_processed_not_lost(
    registration: RunningService,
) -> None:
    forum_id = await _schedule(registration)
    register = register_command(forum_id, "headers@example.org")
    producer = AIOKafkaProducer(bootstrap_servers=registration.settings.bootstrap())
    await producer.start()
    try:
        await producer.send_and_wait(
            _topic(registration, "intake"),
            json.dumps(register).encode(),
            key=forum_id.encode(),
            headers=[("trace", None), ("origin", b"Stra\xdfe")],  # null; Latin-1 "Straße"
        )
    finally:
        await producer.stop()

    made = await _fact(registration, "registrations", register["event_id"])
    assert made.value["data"]["contact"]["email"] == "headers@example.org"


async def test_a_600_kb_command_yields_a_small_rejection_and_the_next_command_its_fact(
    registration: RunningService,
) -> None:
    forum_id = await _schedule(registration)
    huge = "€" * 200_000  # 600 kB in UTF-8
    by_type = command(huge, {"forum_id": forum_id})
    by_producer = {**register_command(forum_id, "big@example.org"), "producer": huge}
    valid = register_command(forum_id, "after-big@example.org")
    for message in (by_type, by_producer, valid):
        body = json.dumps(message, ensure_ascii=False).encode()
        await _publish(registration, body, forum_id)

    await _fact(registration, "registrations", valid["event_id"])
    type_rejected = await _fact(registration, "intake.rejected", by_type["event_id"])
    producer_rejected = await _fact(registration, "intake.rejected", by_producer["event_id"])
    for rejected in (type_rejected, producer_rejected):
        assert len(json.dumps(rejected.value, ensure_ascii=False).encode()) < 5_000
    assert type_rejected.value["data"]["command_type"] == "€" * 199 + "…"
    assert type_rejected.value["data"]["status"] == 422
    producer_data = producer_rejected.value["data"]
    assert producer_data["producer"] == "€" * 199 + "…"
    assert [e["field"] for e in producer_data["errors"]] == ["producer"]
    assert "at most 100 characters" in producer_data["errors"][0]["message"]


async def test_a_command_whose_id_is_900_kb_or_holds_a_nul_is_rejected_once(
    registration: RunningService,
) -> None:
    """Neither id fits the inbox as it is (a B-tree entry holds some 2.7 kB, PostgreSQL text no
    NUL): both were dead-lettered as unexpected failures instead of answered."""
    forum_id = await _schedule(registration)
    huge = {**register_command(forum_id, "huge-id@example.org"), "event_id": token_hex(450_000)}
    with_nul = {**register_command(forum_id, "nul-id@example.org"), "event_id": "befehl\x00eins"}
    valid = register_command(forum_id, "after-odd-ids@example.org")
    for message in (huge, huge, with_nul, with_nul, valid):
        await _publish(registration, message, forum_id)

    await _fact(registration, "registrations", valid["event_id"])
    echoes = [bounded_text(huge["event_id"], MAX_ECHOED_CHARS), "befehl?eins"]
    for echo in echoes:
        rejection = await _fact(registration, "intake.rejected", echo)
        assert rejection.value["data"]["status"] == 422
        assert [e["field"] for e in rejection.value["data"]["errors"]] == ["event_id"]
    rejections = await read_to_end(
        registration.settings.bootstrap(), _topic(registration, "intake.rejected")
    )
    answered = Counter(message.value["data"]["command_event_id"] for message in rejections)
    assert [answered[echo] for echo in echoes] == [1, 1]  # the second copies were duplicates
    dead = await read_to_end(registration.settings.bootstrap(), _topic(registration, "intake.dlq"))
    assert not [message for message in dead if message.key == forum_id]


async def _intake_retries(service: RunningService) -> float:
    exposition = (await service.public.get("/metrics")).text
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "dialognet_consumer_retries_total" and sample.labels == {
                "consumer": "registration-intake"
            }:
                return float(sample.value)
    return 0.0


async def _reconnect_service(service: RunningService, admin_sql: str) -> None:
    """Run `admin_sql` on the service's database, then end the service's sessions: the pool
    connects again and its new sessions get the database's new defaults."""
    conn = await service.database()
    try:
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute("SET default_transaction_read_only = off")  # this session may write
        await conn.execute(admin_sql.format(database=name))
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'dialognet'"
        )
    finally:
        await conn.close()


async def test_a_database_failover_is_retried_and_the_command_yields_its_fact_once(
    registration: RunningService,
) -> None:
    forum_id = await _schedule(registration)
    register = register_command(forum_id, "failover@example.org")
    retries_before = await _intake_retries(registration)
    # As after a failover to a replica: every write fails with ReadOnlySQLTransactionError.
    await _reconnect_service(
        registration, 'ALTER DATABASE "{database}" SET default_transaction_read_only = on'
    )
    try:
        await _publish(registration, register, forum_id)

        async def retried() -> bool:
            return await _intake_retries(registration) >= retries_before + 2

        await until(retried, 20, "the intake consumer retried the command")
    finally:
        await _reconnect_service(
            registration, 'ALTER DATABASE "{database}" RESET default_transaction_read_only'
        )

    # The fact is in the outbox once: the consumer's part. Whether the relay outlives its
    # terminated connections is the relay's own matter (here it sometimes does not).
    async def made() -> bool:
        return await _made_for(registration, register["event_id"]) > 0

    await until(made, 20, "registration.made in the outbox")
    assert await _made_for(registration, register["event_id"]) == 1
    contacts = await _fetchval(
        registration,
        "SELECT count(*) FROM registration.registrations"
        " WHERE contact_email = 'failover@example.org'",
    )
    assert contacts == 1
    dead = await read_to_end(registration.settings.bootstrap(), _topic(registration, "intake.dlq"))
    assert dead == []


async def _made_for(service: RunningService, command_id: str) -> int:
    conn = await service.database()
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM registration.outbox"
            " WHERE type = 'registration.made' AND envelope->>'correlation_id' = $1",
            command_id,
        )
    finally:
        await conn.close()
    return count


async def test_readiness_reports_the_intake_consumer(registration: RunningService) -> None:
    ready = await registration.public.get("/health/ready")

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["intake_consumer"] == "ok"
