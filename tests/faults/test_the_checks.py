"""The checks see what they look for: after the faults (this module runs last), a loss, a mail
sent twice, a fact on a topic that no outbox holds and a wrong report are each made on purpose,
and each must show in the checks' problems. Without this, a check that looked at nothing would
report the same zeros as the suite's real run."""

import dataclasses
from email import policy
from email.message import EmailMessage
from uuid import uuid4

import asyncpg

from tests.faults.checks import check
from tests.faults.scenario import FaultPlatform
from tests.kafka_helpers import produce, read_to_end


async def test_each_check_reports_the_damage_it_is_for(faults: FaultPlatform) -> None:
    observed = faults.observed
    before = await check(observed, faults.stream, faults.may_repeat)
    assert before.problems == [], "the platform converged after the last fault"

    # An accepted registration (a 201) whose row, fact and mail never came.
    forum_id = faults.stream.forum_ids[0]
    lost = str(uuid4())
    stream = dataclasses.replace(faults.stream, accepted={**faults.stream.accepted, lost: forum_id})
    conn = await asyncpg.connect(observed.database_url)
    try:
        # A mail sent twice that no fault cut: one that was not on its way at any.
        twice = await conn.fetchval(
            "SELECT message_id FROM notification.deliveries"
            " WHERE status = 'sent' AND message_id <> ALL($1::text[]) LIMIT 1",
            sorted(faults.may_repeat),
        )
        await faults.mailbox.send(_mail(twice), ["again@example.org"])
        # A report that no longer equals the registration database.
        wrong = await conn.fetchval(
            "UPDATE reporting.registrations SET status = 'cancelled' WHERE registration_id ="
            " (SELECT registration_id FROM reporting.registrations WHERE status = 'confirmed'"
            "  AND forum_id = $1 LIMIT 1) RETURNING registration_id",
            forum_id,
        )
        assert wrong is not None, "the first forum has a confirmed registration to falsify"
    finally:
        await conn.close()
    # A fact on the notifications topic that notification's outbox never held.
    topic = f"{observed.topic_prefix}notifications"
    (first, *_) = await read_to_end(observed.bootstrap, topic, 60)
    await produce(
        observed.bootstrap,
        topic,
        {**first.value, "event_id": str(uuid4())},
        key=first.key,
        headers=first.headers,
    )

    problems = "\n".join((await check(observed, stream, faults.may_repeat)).problems)

    assert f"1 accepted registrations lost: ['{lost}']" in problems
    assert f"1 accepted registrations without their fact: ['{lost}']" in problems
    assert "1 accepted registrations without their mail" in problems
    assert f"mails sent twice: 1 Message-IDs not on their way at a fault: ['{twice}']" in problems
    assert "notifications: the topic (deduped) differs from the outbox per key" in problems
    assert f"forum {forum_id} registrations_confirmed: reported" in problems
    assert f"forum {forum_id} registrations_cancelled: reported" in problems


def _mail(message_id: str) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "noreply@dialognet.example"
    message["To"] = "again@example.org"
    message["Subject"] = "once more"
    message["Message-ID"] = message_id
    message.set_content("sent a second time on purpose")
    return message.as_bytes()
