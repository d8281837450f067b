"""Notification benchmark: e-mails/s from registration.made facts into the local mail sink,
beside a raw aiosmtplib send loop to the same sink, and the latency from a fact's occurred_at to
the sink accepting its e-mail at a steady rate of registrations — in one run.

    python bench/notifications.py [--mails 1000] [--rounds 3] [--rate 50] [--latency-mails 1500]

Starts embedded PostgreSQL and Tansu (or uses DIALOGNET_DATABASE_URL / DIALOGNET_KAFKA_BOOTSTRAP),
runs the mail sink (`dialognet run mailbox`) and the notification service (`dialognet run
notification`) as processes, and stops everything it started, also on Ctrl-C. See
bench/README.md for what the numbers mean.
"""

import argparse
import asyncio
import contextlib
import dataclasses
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import aiosmtplib
import asyncpg
import httpx
import infra  # infra, measure: bench modules beside this script
import psutil
from aiokafka import AIOKafkaProducer
from measure import machine, percentile, postgres_version, profiling, run_to_exit_code, verdict

from schemas.envelope import Envelope, utc_now
from schemas.forums import ForumScheduled, ForumSnapshot
from schemas.registrations import RegistrationMade, RegistrationMadeData
from schemas.topics import Topic, topic_name
from schemas.vocabulary import Contact, ForumSummary
from services.notification.compose import compose
from services.notification.compose.examples import EXAMPLE_SENDER, example_mail
from services.notification.domain.mails import Kind
from services.runtime.embedded import free_port
from services.runtime.settings import Settings

RATIO_GOAL = 0.5
P99_GOAL_MS = 500.0
SENT_WITHIN_SECONDS = 300.0
MAIL_FROM = "Dialognetzwerk <dialognetz@bench.example>"


@dataclass(frozen=True)
class Options:
    mails: int
    rounds: int
    rate: float
    latency_mails: int
    connections: int
    profile: Path | None
    work_dir: Path | None


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--mails", type=int, default=1000, help="facts (and mails) per round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="raw loop and service alternate; the best counts"
    )
    parser.add_argument("--rate", type=float, default=50.0, help="registrations/s, latency run")
    parser.add_argument("--latency-mails", type=int, default=1500)
    parser.add_argument(
        "--connections",
        type=int,
        default=Settings().notification_smtp_connections,
        help="SMTP connections, of the service (DIALOGNET_NOTIFICATION_SMTP_CONNECTIONS) and "
        "of the raw loop alike",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy record the service during the first service round (.svg, .txt collapsed)",
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp dir")
    args = parser.parse_args(argv)
    return Options(
        mails=args.mails,
        rounds=args.rounds,
        rate=args.rate,
        latency_mails=args.latency_mails,
        connections=args.connections,
        profile=args.profile,
        work_dir=args.work_dir,
    )


# --- the facts ---------------------------------------------------------------------------------


def forum_snapshot(title: str) -> ForumSnapshot:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
    return ForumSnapshot(
        forum_id=uuid4(),
        format="conference",
        title=title,
        venue="Rathaus, Bürgersaal",
        starts_at=starts,
        ends_at=starts + timedelta(hours=6),
        registration_deadline=starts - timedelta(days=3),
        capacity=100_000,
        audience="open",
        status="scheduled",
    )


def registration_made(forum: ForumSnapshot, number: int) -> RegistrationMade:
    """A confirmed registration as the registration service writes it, occurring now."""
    now = utc_now()
    return RegistrationMade(
        producer="registration",
        key=str(forum.forum_id),
        occurred_at=now,
        data=RegistrationMadeData(
            registration_id=uuid4(),
            forum_id=forum.forum_id,
            organization_id=uuid4(),
            organization_name="Kulturverein Süd",
            status="confirmed",
            attendees=2,
            contact=Contact(name="Ana Beispiel", email=f"bench-{number}@example.org"),
            forum=ForumSummary.of(forum),
            cancel_token=f"token-{uuid4().hex}",
            registered_at=now,
        ),
    )


class Facts:
    """Publishes facts as the registration service's outbox relay does (acks=all, keyed)."""

    def __init__(self, platform: infra.Platform) -> None:
        self._prefix = platform.topic_prefix
        self._producer = AIOKafkaProducer(
            bootstrap_servers=platform.kafka_bootstrap, acks="all", linger_ms=0
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, events: Sequence[Envelope]) -> None:
        sent = [await self._send(event) for event in events]
        await asyncio.gather(*sent)

    async def publish_one(self, event: Envelope) -> None:
        await (await self._send(event))

    async def _send(self, event: Envelope) -> "asyncio.Future[object]":
        topic = Topic.FORUMS if event.type == "forum.scheduled" else Topic.REGISTRATIONS
        sent: asyncio.Future[object] = await self._producer.send(
            topic_name(topic, self._prefix),
            event.to_json(),
            key=event.kafka_key(),
            headers=[(name, value.encode()) for name, value in event.kafka_headers().items()],
        )
        return sent


async def scheduled_forum(facts: Facts, title: str) -> ForumSnapshot:
    forum = forum_snapshot(title)
    scheduled = ForumScheduled(producer="registration", key=str(forum.forum_id), data=forum)
    await facts.publish_one(scheduled)
    return forum


# --- measurements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    mails: int
    seconds: float
    planned_seconds: float = math.nan  # service rounds: until the last fact was planned
    # CPU seconds over the round of each part of the run (cpu_by_part), both kinds of round.
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.mails / self.seconds


async def raw_loop(smtp_port: int, mails: int, connections: int, first: int) -> Round:
    """The same message (a composed confirmation with its .ics) straight through aiosmtplib,
    one session per connection, each sending again as soon as the sink answered."""
    message = compose(
        example_mail(Kind.REGISTRATION_CONFIRMED),
        sender=EXAMPLE_SENDER,
        message_id="<bench@bench.example>",
        date=utc_now(),
    ).as_bytes()
    numbers = iter(range(first, first + mails))

    async def session() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, start_tls=False)
        await client.connect()
        try:
            for number in numbers:
                await client.sendmail("dialognetz@bench.example", [f"raw-{number}@x.org"], message)
        finally:
            await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(session() for _ in range(connections)))
    return Round(mails, time.perf_counter() - started)


@dataclass(frozen=True)
class Sent:
    count: int
    last_sent_at: datetime | None
    last_planned_at: datetime | None
    # Fact occurred → relay accepted, per sent mail (sent_at is taken as the relay's 250 came).
    latencies_ms: list[float]
    # Of that: fact occurred → delivery planned (the consumer's share; created_at is the
    # planning transaction's start).
    planned_ms: list[float]


async def sent_of(conn: asyncpg.Connection, forum_id: UUID) -> Sent:
    rows = await conn.fetch(
        "SELECT sent_at, created_at, event_occurred_at FROM notification.deliveries"
        " WHERE forum_id = $1 AND status = 'sent'",
        forum_id,
    )
    return Sent(
        len(rows),
        max((row["sent_at"] for row in rows), default=None),
        max((row["created_at"] for row in rows), default=None),
        [(row["sent_at"] - row["event_occurred_at"]).total_seconds() * 1000 for row in rows],
        [(row["created_at"] - row["event_occurred_at"]).total_seconds() * 1000 for row in rows],
    )


async def all_sent(database_url: str, forum_id: UUID, count: int) -> Sent:
    """Once `count` mails of the forum are sent. Watching costs the machine little: one
    connection, a count a poll (the index on forum_id), the rows read once at the end — a new
    connection and every row read again each 50 ms took CPU from the service being measured
    (a PostgreSQL backend started 20 times a second) that the raw loop's rounds never paid."""
    deadline = time.monotonic() + SENT_WITHIN_SECONDS
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM notification.deliveries"
                " WHERE forum_id = $1 AND status = 'sent'",
                forum_id,
            )
            if done >= count:
                return await sent_of(conn, forum_id)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{done} of {count} mails sent in {SENT_WITHIN_SECONDS}s")
            await asyncio.sleep(0.05)  # polling interval while the service sends
    finally:
        await conn.close()


async def service_round(
    facts: Facts, platform: infra.Platform, mails: int, first: int, title: str
) -> Round:
    """`mails` facts published at once; from the first publish to the last mail accepted."""
    forum = await scheduled_forum(facts, title)
    events = [registration_made(forum, number) for number in range(first, first + mails)]
    started = datetime.now(UTC)
    await facts.publish(events)
    sent = await all_sent(platform.database_url, forum.forum_id, mails)
    assert sent.last_sent_at is not None
    assert sent.last_planned_at is not None
    return Round(
        mails,
        (sent.last_sent_at - started).total_seconds(),
        (sent.last_planned_at - started).total_seconds(),
    )


async def latency_run(facts: Facts, platform: infra.Platform, options: Options, first: int) -> Sent:
    """Facts paced at `rate` (each occurring as it is published); ms to the sink's 250."""
    forum = await scheduled_forum(facts, "Latency")
    interval = 1 / options.rate
    start = time.monotonic()
    for index in range(options.latency_mails):
        await asyncio.sleep(max(start + index * interval - time.monotonic(), 0))
        await facts.publish_one(registration_made(forum, first + index))
    return await all_sent(platform.database_url, forum.forum_id, options.latency_mails)


async def empty_sink(mailbox_url: str) -> None:
    """Between rounds: every round writes into an empty sink."""
    async with httpx.AsyncClient(base_url=mailbox_url, timeout=60) as sink:
        response = await sink.delete("/api/messages")
        response.raise_for_status()


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Results:
    raw_rounds: list[Round]
    service_rounds: list[Round]
    latency: Sent | None = None

    @property
    def latencies_ms(self) -> list[float]:
        return self.latency.latencies_ms if self.latency else []

    @property
    def ratio(self) -> float:
        best_service = max(r.per_second for r in self.service_rounds)
        return best_service / max(r.per_second for r in self.raw_rounds)

    @property
    def median_round_ratio(self) -> float:
        """Each service round against the raw round just before it: the pairs run minutes
        apart at most, where the best of each can come from a quieter moment of the VM."""
        pairs = zip(self.service_rounds, self.raw_rounds, strict=True)
        return percentile([served.per_second / raw.per_second for served, raw in pairs], 0.5)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99) if self.latencies_ms else math.nan


PARTS = ("service", "writer", "sink", "postgres", "kafka", "bench")


def cpu_by_part(service_pid: int, sink_pid: int) -> dict[str, float]:
    """CPU time (user and system) so far of each part of the run: the service process, its
    children (the writer), the sink, PostgreSQL's processes, the embedded Kafka (Tansu) and
    this script. A PostgreSQL backend that ended meanwhile takes its time with it (the pools
    keep theirs open through a round)."""
    totals = dict.fromkeys(PARTS, 0.0)
    service = psutil.Process(service_pid)
    writers = {child.pid for child in service.children(recursive=True)}
    for process in psutil.process_iter(["pid", "name", "cpu_times"]):
        part = _part_of(process.info, service_pid, sink_pid, writers)
        if part is not None and process.info["cpu_times"] is not None:
            times = process.info["cpu_times"]
            totals[part] += times.user + times.system
    return totals


def _part_of(
    info: dict[str, object], service_pid: int, sink_pid: int, writers: set[int]
) -> str | None:
    pid, name = info["pid"], str(info["name"] or "")
    if pid == service_pid:
        return "service"
    if pid in writers:
        return "writer"
    if pid == sink_pid:
        return "sink"
    if pid == os.getpid():
        return "bench"
    if name.startswith("postgres"):
        return "postgres"
    if "tansu" in name:
        return "kafka"
    return None


@contextlib.contextmanager
def cpu_over(round_cpu: dict[str, float], service_pid: int, sink_pid: int) -> Iterator[None]:
    """Fills `round_cpu` with each part's CPU seconds over the block."""
    before = cpu_by_part(service_pid, sink_pid)
    yield
    after = cpu_by_part(service_pid, sink_pid)
    round_cpu.update({part: after[part] - before[part] for part in PARTS})


async def measure(options: Options, platform: infra.Platform, work_dir: Path) -> Results:
    smtp_port, mailbox_port, notification_port = free_port(), free_port(), free_port()
    sink_env = {
        "DIALOGNET_MAILBOX_PORT": str(mailbox_port),
        "DIALOGNET_MAILBOX_SMTP_PORT": str(smtp_port),
    }
    service_env = {
        "DIALOGNET_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DIALOGNET_NOTIFICATION_PORT": str(notification_port),
        "DIALOGNET_NOTIFICATION_SMTP_CONNECTIONS": str(options.connections),
        "DIALOGNET_MAIL_FROM": MAIL_FROM,
    }
    results = Results([], [])
    facts = Facts(platform)
    await facts.start()
    try:
        on_platform = {
            "DIALOGNET_DATABASE_URL": platform.database_url,
            "DIALOGNET_TOPIC_PREFIX": platform.topic_prefix,
        }
        bootstrap = platform.kafka_bootstrap
        async with (
            infra.service_process(
                "mailbox", mailbox_port, bootstrap, work_dir, {**on_platform, **sink_env}
            ) as sink,
            infra.service_process(
                "notification",
                notification_port,
                bootstrap,
                work_dir,
                {**on_platform, **service_env},
            ) as service,
        ):
            print(f"sink pid {sink.pid}, notification pid {service.pid}", flush=True)
            await service_round(facts, platform, 200, 0, "Warm-up")  # imports, pools, JIT caches
            for number in range(options.rounds):
                first = (number + 1) * options.mails
                await empty_sink(sink.base_url)
                raw_cpu: dict[str, float] = {}
                with cpu_over(raw_cpu, service.pid, sink.pid):
                    raw = await raw_loop(smtp_port, options.mails, options.connections, first)
                results.raw_rounds.append(dataclasses.replace(raw, cpu=raw_cpu))
                await empty_sink(sink.base_url)
                profile = options.profile if number == 0 else None
                served_cpu: dict[str, float] = {}
                with cpu_over(served_cpu, service.pid, sink.pid):
                    async with profiling(service.pid, profile, work_dir):
                        served = await service_round(
                            facts, platform, options.mails, first, f"Round {number + 1}"
                        )
                results.service_rounds.append(dataclasses.replace(served, cpu=served_cpu))
                print(
                    f"   round {number + 1}: raw {raw.per_second:,.0f}/s, "
                    f"service {served.per_second:,.0f}/s (all planned after "
                    f"{served.planned_seconds:.1f} s, sent after {served.seconds:.1f} s)",
                    flush=True,
                )
            await empty_sink(sink.base_url)
            print(f"   latency: {options.latency_mails} at {options.rate:g}/s …", flush=True)
            first = (options.rounds + 1) * options.mails
            results.latency = await latency_run(facts, platform, options, first)
    finally:
        await facts.stop()
    return results


def cpu_ms(rounds: Sequence[Round], part: str) -> float:
    """Median over the rounds of the part's CPU a mail, in ms."""
    return percentile([each.cpu[part] / each.mails * 1000 for each in rounds], 0.5)


def cpu_in_all(rounds: Sequence[Round]) -> tuple[str, str]:
    """CPU a mail of the whole run, and by part (median of the rounds each)."""
    shares = {part: cpu_ms(rounds, part) for part in PARTS}
    parts = ", ".join(f"{part} {ms:.1f}" for part, ms in shares.items() if ms >= 0.05)
    return f"{sum(shares.values()):.1f} ms", f"by part: {parts}"


def report(options: Options, about: dict[str, str], results: Results) -> bool:
    best_raw = max(r.per_second for r in results.raw_rounds)
    best_service = max(r.per_second for r in results.service_rounds)
    rounds = ", ".join(
        f"{served.per_second:,.0f}/{raw.per_second:,.0f}"
        for served, raw in zip(results.service_rounds, results.raw_rounds, strict=True)
    )
    latencies = results.latencies_ms
    planned = results.latency.planned_ms if results.latency else []
    rows = [
        ("service mails/s", f"{best_service:,.0f}", f"best of {options.rounds} rounds of "
         f"{options.mails} registration.made facts → confirmations with .ics"),
        ("raw aiosmtplib /s", f"{best_raw:,.0f}", f"best of {options.rounds}; the same message, "
         f"{options.connections} connection(s), same sink"),
        ("ratio", f"{results.ratio:.0%}",
         f"goal ≥ {RATIO_GOAL:.0%}: {verdict(results.ratio >= RATIO_GOAL)}; rounds "
         f"service/raw {rounds}"),
        ("ratio, round by round", f"{results.median_round_ratio:.0%}",
         "median of each service round / the raw round before it"),
        ("service CPU a mail", f"{cpu_ms(results.service_rounds, 'service'):.1f} ms",
         f"the service process; its writer {cpu_ms(results.service_rounds, 'writer'):.1f} ms "
         "(median of the rounds)"),
        ("CPU a mail, service", *cpu_in_all(results.service_rounds)),
        ("CPU a mail, raw", *cpu_in_all(results.raw_rounds)),
        ("event → SMTP p50", f"{percentile(latencies, 0.5):.1f} ms",
         f"{len(latencies)} mails at {options.rate:g}/s"),
        ("event → SMTP p99", f"{results.p99_ms:.1f} ms",
         f"goal < {P99_GOAL_MS:g} ms: {verdict(results.p99_ms < P99_GOAL_MS)}"),
        ("event → SMTP max", f"{max(latencies):.1f} ms", ""),
        ("event → planned p50", f"{percentile(planned, 0.5):.1f} ms",
         f"p99 {percentile(planned, 0.99):.1f} ms: the consumer's share"),
    ]  # fmt: skip
    print()
    print(f"dialognet notification benchmark, {about['date']}")
    print(
        f"machine: nproc {about['nproc']}, {about['cpu']}, {about['os']}; load before "
        f"{about['load']}, after {about['load_after']}; Python {about['python']}; "
        f"PostgreSQL {about['postgres']}; Kafka {about['kafka']}"
    )
    for name, value, note in rows:
        print(f"    {name:<20} {value:>10}   {note}")
    return results.ratio >= RATIO_GOAL and results.p99_ms < P99_GOAL_MS


async def run(options: Options, work_dir: Path) -> bool:
    about = machine()
    async with infra.platform(work_dir) as platform:
        about["postgres"] = await postgres_version(platform.database_url)
        about["kafka"] = "Tansu (embedded)" if platform.embedded else platform.kafka_bootstrap
        results = await measure(options, platform, work_dir)
    about["load_after"] = machine()["load"]
    if options.profile:
        print(f"\nprofile of the first service round: {options.profile}")
    return report(options, about, results)


def main(argv: Sequence[str]) -> int:
    options = parse_options(argv)
    return run_to_exit_code(lambda work_dir: run(options, work_dir), options.work_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
