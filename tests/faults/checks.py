"""The checks after every fault, over everything the stream did so far: nothing accepted lost,
every fact on its topic in outbox order per key, no e-mail twice (but one repeated with its
Message-ID where a fault cut its send: a mail that was on its way then), every report number
equal to the registration database."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from tests.faults.stream import Stream
from tests.integration.delivery import event_ids_by_key, first_deliveries, outbox_ids_by_key
from tests.kafka_helpers import ConsumedMessage, read_to_end

# The topics each service's outbox publishes.
OUTBOX_TOPICS = {
    "registration": ("organizations", "forums", "registrations"),
    "notification": ("notifications",),
}
REPORTED = (
    "seats_confirmed",
    "seats_waitlisted",
    "registrations_confirmed",
    "waitlist_length",
    "registrations_cancelled",
)
TRUTH = """
SELECT forum_id::text AS forum_id,
       coalesce(sum(attendees) FILTER (WHERE status = 'confirmed'), 0) AS seats_confirmed,
       coalesce(sum(attendees) FILTER (WHERE status = 'waitlisted'), 0) AS seats_waitlisted,
       count(*) FILTER (WHERE status = 'confirmed') AS registrations_confirmed,
       count(*) FILTER (WHERE status = 'waitlisted') AS waitlist_length,
       count(*) FILTER (WHERE status = 'cancelled') AS registrations_cancelled
  FROM registration.registrations GROUP BY forum_id
"""
# Mails on their way: claimed by a replica, sent or not, their outcome not yet written.
ON_THEIR_WAY = "SELECT message_id FROM notification.deliveries WHERE status = 'sending'"
PENDING_DELIVERIES = (
    "SELECT count(*) FROM notification.deliveries WHERE status IN ('queued', 'sending', 'retrying')"
)


@dataclass(frozen=True)
class Observed:
    """Where the checks look: the database (directly, never through a proxy under test), the
    cluster's PLAINTEXT listener, the mail sink's API and a reporting replica."""

    database_url: str
    bootstrap: str
    topic_prefix: str
    mailbox: httpx.AsyncClient
    reporting: httpx.AsyncClient  # with the staff token


@dataclass(frozen=True)
class Outcome:
    problems: list[str]
    repeated_mails: int


async def on_their_way(observed: Observed) -> set[str]:
    """The Message-IDs of the mails on their way now: a fault now may cut their sends."""
    conn = await asyncpg.connect(observed.database_url)
    try:
        return {row["message_id"] for row in await conn.fetch(ON_THEIR_WAY)}
    finally:
        await conn.close()


async def check(observed: Observed, stream: Stream, may_repeat: set[str]) -> Outcome:
    """Every problem found now (empty when the platform has converged and nothing is wrong);
    `may_repeat`: the mails on their way when a fault that can cut a send struck."""
    conn = await asyncpg.connect(observed.database_url)
    try:
        problems = await _accepted_kept(conn, stream)
        wire = {
            topic: await read_to_end(observed.bootstrap, f"{observed.topic_prefix}{topic}", 60)
            for topics in OUTBOX_TOPICS.values()
            for topic in topics
        }
        problems += _made_on_topic(wire["registrations"], stream)
        for service, topics in OUTBOX_TOPICS.items():
            problems += await _in_outbox_order(conn, service, topics, wire)
        repeated, mail_problems = await _mails_once(conn, observed.mailbox, stream, may_repeat)
        problems += mail_problems
        problems += await _reports_true(conn, observed.reporting, stream)
    finally:
        await conn.close()
    return Outcome(problems, repeated)


async def _accepted_kept(conn: asyncpg.Connection, stream: Stream) -> list[str]:
    rows = await conn.fetch("SELECT id::text AS id, status FROM registration.registrations")
    status = {row["id"]: row["status"] for row in rows}
    lost = [rid for rid in stream.accepted if rid not in status]
    uncancelled = [rid for rid in stream.cancelled if status.get(rid) != "cancelled"]
    problems = [f"{len(lost)} accepted registrations lost: {lost[:5]}"] if lost else []
    if uncancelled:
        problems.append(f"{len(uncancelled)} accepted cancellations not kept: {uncancelled[:5]}")
    return problems


def _made_on_topic(wire: list[ConsumedMessage], stream: Stream) -> list[str]:
    made = {
        message.value["data"]["registration_id"]
        for message in wire
        if message.headers.get("type") == "registration.made"
    }
    missing = [rid for rid in stream.accepted if rid not in made]
    return (
        [f"{len(missing)} accepted registrations without their fact: {missing[:5]}"]
        if missing
        else []
    )


async def _in_outbox_order(
    conn: asyncpg.Connection,
    service: str,
    topics: tuple[str, ...],
    wire: dict[str, list[ConsumedMessage]],
) -> list[str]:
    rows = await conn.fetch(
        f"SELECT event_id, topic, message_key, status FROM {service}.outbox ORDER BY id"
    )
    problems = []
    unpublished = Counter(row["status"] for row in rows if row["status"] != "published")
    if unpublished:
        problems.append(f"{service} outbox not all published: {dict(unpublished)}")
    for topic in topics:
        expected = outbox_ids_by_key([row for row in rows if row["topic"] == topic])
        if event_ids_by_key(first_deliveries(wire[topic])) != expected:
            problems.append(f"{topic}: the topic (deduped) differs from the outbox per key")
    return problems


async def _sink_message_ids(mailbox: httpx.AsyncClient) -> Counter[str]:
    """How often each Message-ID is in the sink."""
    found = Counter[str]()
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = (await mailbox.get("/api/messages", params=params)).json()
        found.update(item["message_id"] for item in page["items"])
        if page["next"] is None:
            return found
        params["cursor"] = page["next"]


async def _mails_once(
    conn: asyncpg.Connection, mailbox: httpx.AsyncClient, stream: Stream, may_repeat: set[str]
) -> tuple[int, list[str]]:
    """One message per delivery, i.e. per (event, recipient, kind): the deliveries table holds
    each once (its unique key) with its Message-ID."""
    problems = []
    pending = await conn.fetchval(PENDING_DELIVERIES)
    if pending:
        problems.append(f"{pending} deliveries still to be sent")
    deliveries = await conn.fetch(
        "SELECT message_id, status, registration_id::text AS registration_id, source_event_type"
        " FROM notification.deliveries"
    )
    sent = {row["message_id"] for row in deliveries if row["status"] == "sent"}
    in_sink = await _sink_message_ids(mailbox)
    if missing := sent - set(in_sink):
        problems.append(f"{len(missing)} sent deliveries not in the mail sink")
    if stray := set(in_sink) - {row["message_id"] for row in deliveries}:
        problems.append(f"{len(stray)} mails in the sink without a delivery: {sorted(stray)[:3]}")
    repeated = [message_id for message_id, count in in_sink.items() if count > 1]
    if not_cut := sorted(set(repeated) - may_repeat):
        problems.append(
            f"mails sent twice: {len(not_cut)} Message-IDs not on their way at a fault:"
            f" {not_cut[:3]}"
        )
    if more := sorted(message_id for message_id in repeated if in_sink[message_id] > 2):
        problems.append(f"mails sent more than twice: {more[:3]}")
    confirmed = {
        row["registration_id"]
        for row in deliveries
        if row["source_event_type"] == "registration.made"
    }
    if unmailed := [rid for rid in stream.accepted if rid not in confirmed]:
        problems.append(f"{len(unmailed)} accepted registrations without their mail")
    return len(repeated), problems


async def _reports_true(
    conn: asyncpg.Connection, reporting: httpx.AsyncClient, stream: Stream
) -> list[str]:
    truth = {row["forum_id"]: row for row in await conn.fetch(TRUTH)}
    problems = []
    for forum_id in stream.forum_ids:
        response = await reporting.get(f"/v1/reports/forums/{forum_id}")
        if response.status_code != 200:
            problems.append(f"forum report {forum_id}: {response.status_code}")
            continue
        report = response.json()
        expected = truth.get(forum_id)
        for name in REPORTED:
            wanted = int(expected[name]) if expected is not None else 0
            if report[name] != wanted:
                problems.append(f"forum {forum_id} {name}: reported {report[name]}, truth {wanted}")
    return problems
