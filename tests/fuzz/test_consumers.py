"""Hypothesis-generated bad messages on every topic each service consumes, published as one
flood: every message ends where the code says (a dead letter naming the reason, the intake's
`intake.rejected` fact, or notification's deliberate ignoring of types it does not act on),
nothing crashes, and a valid message after the flood on every partition is applied.

Size: DIALOGNET_FUZZ_MESSAGES (1,000 by default; 10,000 for the full run), seed:
DIALOGNET_FUZZ_SEED (printed; the same kinds and mutations for the same seed, of valid samples
made anew each run: their ids and times differ)."""

import json
import os
import time
from collections import Counter
from uuid import uuid4

from aiokafka import AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from schemas.envelope import utc_now
from schemas.topics import PARTITIONS, Topic, dlq_name, topic_name
from services.runtime.consumer import Outcome
from services.runtime.kafka import producer_options
from services.runtime.settings import Settings
from tests.fuzz import samples
from tests.fuzz.bad_messages import MAX_HUGE_BYTES, BadMessage, bad_messages, draw
from tests.fuzz.conftest import EveryService
from tests.fuzz.outcomes import (
    CONSUMERS,
    Coordinates,
    Letter,
    Record,
    TopicReader,
    Verdict,
    echoed_id,
    inbox_key,
    letter_of,
    verdict,
)
from tests.fuzz.samples import JsonObject
from tests.integration.notification import scripted_facts
from tests.integration.registration import bodies, intake_commands
from tests.polling import until

MESSAGES = int(os.environ.get("DIALOGNET_FUZZ_MESSAGES", "1000"))
SEED = int(os.environ.get("DIALOGNET_FUZZ_SEED", "20261210"))
# How the messages are spread: intake and registrations have the most partitions.
SHARES = {
    Topic.INTAKE: 0.3,
    Topic.REGISTRATIONS: 0.2,
    Topic.FORUMS: 0.15,
    Topic.ORGANIZATIONS: 0.15,
    Topic.NOTIFICATIONS: 0.2,
}
# Seconds for the services to be through a thousand (they take some 15-30 per thousand here);
# DIALOGNET_FUZZ_SECONDS_PER_THOUSAND shortens the wait of a full run to read its failure sooner.
SECONDS_PER_THOUSAND = float(os.environ.get("DIALOGNET_FUZZ_SECONDS_PER_THOUSAND", "240"))
# Reading the letters back once every consumer is through: the full run's some GB took seconds.
READ_BACK_SECONDS = 120.0
READ_BY_REPORTING = frozenset(topic for topic, names in CONSUMERS.items() if "reporting" in names)
# Reasons every consumer gives for what is no envelope (schemas/envelope.py).
NO_ENVELOPE_REASONS = ("not JSON", "not a JSON object", "missing envelope fields")


def _restarts() -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "dialognet_background_task_restarts"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


def _consumed(consumer: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "dialognet_consumer_messages_total", {"consumer": consumer, "outcome": outcome}
    )
    return value or 0.0


async def _publish(settings: Settings, messages: list[BadMessage]) -> dict[Coordinates, BadMessage]:
    """Every message, spread over its topic's partitions, in one batch; where each landed."""
    options = {**producer_options(settings), "max_request_size": MAX_HUGE_BYTES + 100_000}
    producer = AIOKafkaProducer(**options)
    await producer.start()
    try:
        sent = []
        for index, message in enumerate(messages):
            topic = topic_name(message.topic, settings.topic_prefix)
            future = await producer.send(
                topic,
                message.value,
                key=message.key,
                partition=index % PARTITIONS[message.topic],
                headers=message.headers,
            )
            sent.append((topic, future, message))
        placed = {}
        for topic, future, message in sent:
            metadata = await future
            placed[(topic, metadata.partition, metadata.offset)] = message
        return placed
    finally:
        await producer.stop()


def _flood() -> list[BadMessage]:
    print(f"fuzz: {MESSAGES} messages, seed {SEED} (DIALOGNET_FUZZ_MESSAGES, DIALOGNET_FUZZ_SEED)")
    valid = samples.samples()
    messages: list[BadMessage] = []
    for number, (topic, share) in enumerate(SHARES.items()):
        count = max(1, round(MESSAGES * share))
        messages += draw(bad_messages(topic, valid[topic]), count, SEED + number)
    print("fuzz: kinds", dict(Counter(message.kind.value for message in messages)))
    return messages


def _expected(placed: dict[Coordinates, BadMessage]) -> dict[tuple[str, Coordinates], Verdict]:
    return {
        (consumer, at): verdict(message, consumer)
        for at, message in placed.items()
        for consumer in CONSUMERS[message.topic]
    }


async def test_every_bad_message_ends_where_the_code_says_and_nothing_stalls(
    every_service: EveryService,
) -> None:
    settings = every_service.settings
    restarts_before = _restarts()
    ignored_before = _consumed("notification", "processed")
    finished_before = {consumer: _finished(consumer) for consumer in _EVERY_CONSUMER}
    messages = _flood()
    placed = await _publish(settings, messages)
    expected = _expected(placed)
    letters_due = {at for at, due in expected.items() if due is Verdict.DEAD_LETTER}
    rejections_due = _rejections_due(placed, expected)
    published = time.monotonic()
    await _every_consumer_through(placed, finished_before, len(messages))
    through = time.monotonic()
    letters, rejected = await _read_back(settings, rejections_due)
    print(
        f"fuzz: every consumer through {len(placed)} messages {through - published:.1f} s after"
        f" publishing; {len(letters)} dead letters and {len(rejected)} rejections read back in"
        f" {time.monotonic() - through:.1f} s"
    )

    by_source = {(letter.consumer, letter.source): letter for letter in letters}
    missing = [
        f"{consumer}: {placed[at].describe()} at {at}"
        for consumer, at in sorted(letters_due - set(by_source))
    ]
    assert not missing, (
        f"{len(missing)} messages not dead-lettered ({len(letters)} letters read): {missing[:20]}; "
        f"{_consumers_state()}"
    )
    unanswered = sorted((rejections_due - Counter(rejected)).elements())
    assert not unanswered, f"{len(unanswered)} commands not rejected: {unanswered[:20]}"
    assert len(by_source) == len(letters), "a message dead-lettered twice by one consumer"
    assert set(by_source) == letters_due, "a dead letter for a message that should have none"
    for (_, at), letter in by_source.items():
        _check_letter(letter, placed[at])
    assert Counter(rejected) == rejections_due, "a command rejected twice, or one not due"
    await _valid_ones_after_the_flood_are_applied(every_service)
    ignored = sum(1 for due in expected.values() if due is Verdict.IGNORED)
    # notification counts what it ignores as processed: the ignored ones and the valid facts.
    assert (
        _consumed("notification", "processed") - ignored_before == ignored + VALID_FOR_NOTIFICATION
    )
    assert _restarts() == restarts_before
    # reporting dead-letters every bad message it reads, and counts them per topic.
    assert await _by_topic(every_service, "dialognet_reporting_dead_letters_total") == dict(
        Counter(message.topic for message in placed.values() if message.topic in READ_BY_REPORTING)
    )
    for client in (
        every_service.platform.registration.public,
        every_service.platform.notification,
        every_service.reporting.public,
    ):
        assert (await client.get("/health/ready")).status_code == 200


def _rejections_due(
    placed: dict[Coordinates, BadMessage], expected: dict[tuple[str, Coordinates], Verdict]
) -> Counter[str]:
    """How many `intake.rejected` facts name each command id: one for every command the inbox
    tells apart (a drawn id repeated is a duplicate; two long ids that differ only after the
    echo's 200 characters are two commands under one echo)."""
    rejected = {
        inbox_key(placed[at]): echoed_id(placed[at])
        for (_, at), due in expected.items()
        if due is Verdict.REJECTED
    }
    return Counter(rejected.values())


_EVERY_CONSUMER = sorted({consumer for names in CONSUMERS.values() for consumer in names})


def _finished(consumer: str) -> float:
    """The messages `consumer` is through with, whatever their outcome."""
    return sum(_consumed(consumer, outcome) for outcome in Outcome)


async def _every_consumer_through(
    placed: dict[Coordinates, BadMessage], finished_before: dict[str, float], count: int
) -> None:
    """Wait until every consumer has finished as many messages as were placed on its topics:
    a consumer counts a dead letter once the dead-letter topic has accepted it."""
    due = Counter(consumer for message in placed.values() for consumer in CONSUMERS[message.topic])

    async def through() -> bool:
        return all(
            _finished(consumer) - finished_before[consumer] >= number
            for consumer, number in due.items()
        )

    try:
        await until(through, SECONDS_PER_THOUSAND * max(1, count / 1000), "every message finished")
    except AssertionError as stalled:
        raise AssertionError(f"{stalled}: due {dict(due)}; {_consumers_state()}") from None


async def _read_back(
    settings: Settings, rejections_due: Counter[str]
) -> tuple[list[Letter], list[str]]:
    """Every dead letter, read to the end of the dead-letter topics as they are now (every
    consumer is through), and the intake's rejections (published by its outbox relay, so read
    until all due are there)."""
    dlq_topics = [dlq_name(topic, settings.topic_prefix) for topic in CONSUMERS]
    rejected_topic = topic_name(Topic.INTAKE_REJECTED, settings.topic_prefix)
    async with TopicReader(settings.bootstrap(), [*dlq_topics, rejected_topic]) as reader:
        ends = {
            partition: end
            for partition, end in (await reader.end_offsets()).items()
            if partition.topic in dlq_topics
        }
        seen_rejected = Counter[str]()
        read_rejected = 0

        def all_rejections(records: dict[str, list[Record]]) -> bool:
            # Only the records new since the last call: going over all of them after every
            # fetch took most of the one core the services share with this test.
            nonlocal read_rejected
            new = records[rejected_topic][read_rejected:]
            seen_rejected.update(_command_id(record) for record in new)
            read_rejected += len(new)
            return not rejections_due - seen_rejected

        complete = await reader.read_until(all_rejections, READ_BACK_SECONDS, ends)
        records = reader.records
    letters = [letter for topic in dlq_topics for letter in _letters(records[topic])]
    assert complete, (
        f"not read back within {READ_BACK_SECONDS}s: dead-letter topics' ends {_by_partition(ends)}"
        f", {len(letters)} letters read;"
        f" {(rejections_due - seen_rejected).total()} rejections missing"
    )
    return letters, [_command_id(record) for record in records[rejected_topic]]


def _by_partition(offsets: dict[TopicPartition, int]) -> dict[str, int]:
    return {f"{partition.topic}[{partition.partition}]": end for partition, end in offsets.items()}


def _consumers_state() -> str:
    """What the consumers did, for a failure's message: a stall shows as retries or lag."""
    wanted = (
        "dialognet_consumer_messages",
        "dialognet_consumer_retries",
        "dialognet_consumer_lag_messages",
    )
    samples = [
        f"{sample.name}{sample.labels}={sample.value:g}"
        for family in REGISTRY.collect()
        if family.name in wanted
        for sample in family.samples
        if sample.name.endswith(("_total", "_messages")) and sample.value
    ]
    return "consumers: " + ", ".join(samples)


def _letters(records: list[Record]) -> list[Letter]:
    return [letter_of(record) for record in records]


def _command_id(record: Record) -> str:
    return str(json.loads(record.value or b"{}")["data"]["command_event_id"])


def _check_letter(letter: Letter, message: BadMessage) -> None:
    what = f"{letter.consumer}: {message.describe()}: {letter.error!r}"
    assert letter.error, what
    assert not letter.error.startswith("unexpected failure"), what
    if message.envelope is None:
        assert letter.error.startswith(NO_ENVELOPE_REASONS), what
    assert letter.key == message.key, what
    if letter.value_omitted:
        assert len(message.value or b"") > 1_000_000, what
    else:
        assert (letter.value or b"") == (message.value or b""), what


# The valid facts after the flood that notification reads: a partner and a registration on
# every partition of their topics, a forum on every partition of forums, and the
# organization.registered of each organisation the intake's valid commands register.
VALID_FOR_NOTIFICATION = (
    PARTITIONS[Topic.ORGANIZATIONS]
    + PARTITIONS[Topic.FORUMS]
    + PARTITIONS[Topic.REGISTRATIONS]
    + PARTITIONS[Topic.INTAKE]
)


async def _valid_ones_after_the_flood_are_applied(services: EveryService) -> None:
    """One valid message on every partition of every topic, behind the flood: each applied."""
    settings = services.settings
    now = utc_now()
    forum = samples.forum("Forum nach der Flut")
    partners = [bodies.unique_email("nachher") for _ in range(PARTITIONS[Topic.ORGANIZATIONS])]
    registrants = [bodies.unique_email("nachher") for _ in range(PARTITIONS[Topic.REGISTRATIONS])]
    forums = [samples.forum(f"Forum nach der Flut {n}") for n in range(PARTITIONS[Topic.FORUMS])]
    names = [f"Nach der Flut {uuid4().hex[:8]}" for _ in range(PARTITIONS[Topic.INTAKE])]
    valid: dict[Topic, list[JsonObject]] = {
        Topic.INTAKE: [
            intake_commands.command(
                "register_organization", {**bodies.organization(), "name": name}
            )
            for name in names
        ],
        Topic.ORGANIZATIONS: [
            samples.as_json(scripted_facts.partner_joined(uuid4(), address, now))
            for address in partners
        ],
        Topic.FORUMS: [
            samples.as_json(scripted_facts.forum_scheduled(snapshot, now)) for snapshot in forums
        ],
        Topic.REGISTRATIONS: [
            samples.as_json(scripted_facts.registration_made(forum, address, now))
            for address in registrants
        ],
        Topic.NOTIFICATIONS: [
            samples.as_json(samples.notification_sent())
            for _ in range(PARTITIONS[Topic.NOTIFICATIONS])
        ],
    }
    producer = AIOKafkaProducer(**producer_options(settings))
    await producer.start()
    try:
        for topic, envelopes in valid.items():
            for partition, envelope in enumerate(envelopes):
                await producer.send_and_wait(
                    topic_name(topic, settings.topic_prefix),
                    json.dumps(envelope).encode(),
                    key=envelope["key"].encode() or None,
                    partition=partition,
                )
    finally:
        await producer.stop()

    for address in [*partners, *registrants]:
        await services.platform.mail_to(address)
    connection = await services.platform.registration.database()
    try:

        async def organizations_registered() -> bool:
            found = await connection.fetchval(
                "SELECT count(*) FROM registration.organizations WHERE name = ANY($1)", names
            )
            return bool(found == len(names))

        await until(organizations_registered, 60, "the intake's valid commands applied")
    finally:
        await connection.close()
    reporting = services.reporting
    await reporting.wait_for_events(
        sum(len(envelopes) for envelopes in valid.values()) - len(names)
    )
    for snapshot in forums:
        assert (await reporting.report(f"forums/{snapshot.forum_id}"))["title"] == snapshot.title
    applied = await _by_topic(services, "dialognet_reporting_events_total")
    # Besides the valid facts above: the intake's organisations registered, the mails sent.
    assert applied.pop(Topic.ORGANIZATIONS) == len(valid[Topic.ORGANIZATIONS]) + len(names)
    assert applied.pop(Topic.NOTIFICATIONS) >= len(valid[Topic.NOTIFICATIONS])
    assert applied == {topic: len(valid[topic]) for topic in (Topic.FORUMS, Topic.REGISTRATIONS)}


async def _by_topic(services: EveryService, metric: str) -> dict[Topic, float]:
    """A reporting counter's samples by the topic they count."""
    prefix = services.settings.topic_prefix
    return {
        Topic(dict(labels)["topic"].removeprefix(prefix)): value
        for (_, labels), value in (await services.reporting.samples(metric)).items()
    }
