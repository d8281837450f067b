"""The sender: claims due deliveries, writes and sends each, and records what became of it —
sent, retrying after a transient failure (backoff from the table, never by stalling the
consumer), failed for good, or suppressed when its occasion passed meanwhile. Each final
sent/failed emits notification.sent/failed through this service's outbox.

A delivery is marked `sending` and committed before its mail goes out: another replica never
takes it, and if this process dies mid-send the row is taken again after the sending timeout —
the one case a mail can go twice, then with the same Message-ID. So that a live process never
holds a claim that long, a claimed mail waits at most a third of the sending timeout for a
connection (else it is given back) and the relay at most another third (else it is retried).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import asyncpg

from schemas.envelope import utc_now
from schemas.notifications import (
    NotificationFailed,
    NotificationFailedData,
    NotificationSent,
    NotificationSentData,
)
from schemas.topics import Topic
from services.notification import metrics
from services.notification.compose import MailNotComposable
from services.notification.domain.mails import ForumFacts, Kind
from services.notification.domain.occasions import UNSUBSCRIBED, why_not_send
from services.notification.mailer import Mailer, NotAttempted, SendFailed
from services.notification.store import SCHEMA, deliveries
from services.notification.store.deliveries import Claimed, Delivery, ForumNow
from services.notification.writer import MailWriter, WriterLost
from services.runtime.backoff import Backoff
from services.runtime.db import Connection
from services.runtime.outbox import Outgoing
from services.runtime.transient import is_transient
from services.runtime.wakeup import Wakeup

log = logging.getLogger(__name__)

PRODUCER = "notification"
# How long mails on their way may finish when the service stops.
STOP_GRACE_SECONDS = 5.0
# How often the queue gauges are read at most.
REPORT_SECONDS = 1.0
FIRST_RETRY_SECONDS = 1.0
# Writing what became of a mail while the database is away: a restart takes seconds, and the
# outcome should land within a second of its return, long before the sending timeout lets
# another replica take the row again.
FIRST_RECORD_RETRY_SECONDS = 0.2
LONGEST_RECORD_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class SenderPolicy:
    mail_from: str
    max_age: timedelta
    retry_for: timedelta
    sending_timeout: timedelta
    poll_seconds: float


class Sender:
    """Keeps up to `in_flight` deliveries on their way at once (claimed, written, sent or
    waiting for a connection), claiming more as they finish: a relay answering in 10 ms a
    message keeps its connections busy, where sending claimed batches one after the other left
    them idle while each batch's last mails finished."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        writer: MailWriter,
        mailer: Mailer,
        policy: SenderPolicy,
        *,
        in_flight: int,
    ) -> None:
        self._pool = pool
        self._writer = writer
        self._mailer = mailer
        self._policy = policy
        self._envelope_from = parseaddr(policy.mail_from)[1]
        self._wakeup = Wakeup(pool, f"{SCHEMA}_deliveries", policy.poll_seconds)
        self._capacity = in_flight
        self._in_flight: set[asyncio.Task[None]] = set()
        self._room_filled = False
        self._reported_at = -REPORT_SECONDS

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        """Until cancelled (a supervised task: services.runtime.background)."""
        try:
            while True:
                await self._wakeup.listen()
                # Again at once while there was work; a delivery that finishes wakes the loop
                # too (it frees room, and makes its recipient's next mail due: mail to one
                # address goes in order, store.deliveries.claim_due).
                while await self.claim_due():
                    pass
                await self._report_queue_now_and_then()
                await self._wakeup.wait()
        finally:
            await self._stop_in_flight()
            await self._wakeup.close()

    async def claim_due(self) -> int:
        """Claim due deliveries into the free room (once half of it is free: one claim for
        several mails) and start each; returns how many."""
        free = self._capacity - len(self._in_flight)
        if free < max(self._capacity // 2, 1) and self._in_flight:
            return 0
        # One statement, committed on its own (no BEGIN and COMMIT round trips around it).
        async with self._pool.acquire() as conn:
            claimed = await deliveries.claim_due(
                conn, limit=free, now=utc_now(), sending_timeout=self._policy.sending_timeout
            )
        # Room filled: more may be due, and a mail that finishes should claim again at once.
        self._room_filled = len(claimed) == free
        for each in claimed:
            task = asyncio.create_task(self._deliver(each), name=f"delivery {each.delivery.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(claimed)

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The row stays `sending` and is taken again after the sending timeout.
            log.error("%s: %s", task.get_name(), type(error).__name__)
        # Only when mail is waiting for room: else every finished mail made a claim that found
        # nothing (new mail wakes the loop by NOTIFY; a recipient's next mail, held back by
        # this one, goes at the next poll).
        if self._room_filled:
            self.wake()

    async def _stop_in_flight(self) -> None:
        """On stopping: mails on their way may finish for a moment; the rest are cancelled and
        their rows taken again after the sending timeout (same Message-ID)."""
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _deliver(self, claimed: Claimed) -> None:
        delivery = claimed.delivery
        reason = self._why_not_now(claimed)
        if reason is not None:
            await self._finish_suppressed(delivery, reason)
            return
        assert delivery.mail is not None
        try:
            message = await self._writer.write(delivery.mail, delivery.message_id)
        except MailNotComposable as error:
            await self._finish_failed(delivery, f"cannot be written: {error}")
            return
        except WriterLost:
            await self._give_back(delivery)
            return
        started = asyncio.get_running_loop().time()
        try:
            await self._mailer.send(
                self._envelope_from,
                delivery.mail.recipient.address,
                message,
                slot_within=self._policy.sending_timeout.total_seconds() / 3,
            )
        except NotAttempted:
            await self._give_back(delivery)
            return
        except SendFailed as failure:
            metrics.SEND_DURATION.observe(asyncio.get_running_loop().time() - started)
            await self._after_failure(delivery, failure)
            return
        metrics.SEND_DURATION.observe(asyncio.get_running_loop().time() - started)
        await self._finish_sent(delivery)

    async def _give_back(self, delivery: Delivery) -> None:
        """Claimed but not sent (the relay slow, connections busy): due again at once, the
        attempt not counted — claimed longer, another replica would take it too."""
        async with self._pool.acquire() as conn:
            await deliveries.give_back(conn, delivery.id)

    def _why_not_now(self, claimed: Claimed) -> str | None:
        """Again at sending: the organisation erased, the recipient unsubscribed from
        invitations, or the occasion passed meanwhile (the forum cancelled, held, moved or
        started since the fact was processed) — a mail may wait hours for its relay."""
        delivery = claimed.delivery
        if delivery.mail is None or claimed.organization_erased:
            return "the organisation's personal data was erased"
        if delivery.mail.kind is Kind.FORUM_INVITATION and claimed.recipient_unsubscribed:
            return UNSUBSCRIBED
        return why_not_send(
            delivery.mail.kind,
            occurred_at=delivery.event_occurred_at,
            now=utc_now(),
            max_age=self._policy.max_age,
            # The forum as it is now (moved since the mail was planned?), else as planned.
            forum=_as_known_now(delivery.mail.forum, claimed.forum),
            forum_status=claimed.forum.status if claimed.forum else None,
        )

    async def _after_failure(self, delivery: Delivery, failure: SendFailed) -> None:
        now = utc_now()
        if failure.permanent:
            await self._finish_failed(delivery, failure.reason)
        elif now - delivery.created_at > self._policy.retry_for:
            await self._finish_failed(
                delivery, f"gave up after {delivery.attempts} attempts: {failure.reason}"
            )
        else:
            delay = min(FIRST_RETRY_SECONDS * 2 ** (delivery.attempts - 1), LONGEST_RETRY_SECONDS)
            due = now + timedelta(seconds=delay)
            await self._recorded(
                delivery,
                lambda conn: deliveries.mark_retrying(conn, delivery.id, failure.reason, due),
            )
            metrics.EMAILS.labels(delivery.kind, "retried").inc()
            log.warning(
                "delivery %s (%s): %s; retrying in %.0f s",
                delivery.id,
                delivery.kind,
                failure.reason,
                delay,
            )

    async def _recorded(
        self, delivery: Delivery, write: Callable[[Connection], Awaitable[object]]
    ) -> None:
        """What became of a mail, written even across a database restart or a lost
        connection: retried until the sending timeout, after which another replica may take
        the row again anyway. Given up at the first failure, every mail sent meanwhile stayed
        `sending` and went a second time (the fault suite saw 16 of them after one restart)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policy.sending_timeout.total_seconds()
        backoff = Backoff(FIRST_RECORD_RETRY_SECONDS, LONGEST_RECORD_RETRY_SECONDS)
        while True:
            delay = backoff.next_delay()
            try:
                async with self._pool.acquire() as conn:
                    await write(conn)
                return
            except Exception as error:
                if not is_transient(error) or loop.time() + delay > deadline:
                    raise
                log.warning("delivery %s: recording its outcome failed (%s); again in %.1f s",
                            delivery.id, type(error).__name__, delay)  # fmt: skip
            await asyncio.sleep(delay)

    async def _finish_sent(self, delivery: Delivery) -> None:
        now = utc_now()
        fact = Outgoing(Topic.NOTIFICATIONS, _sent(delivery, now))
        await self._recorded(
            delivery,
            lambda conn: deliveries.finish(
                conn, delivery.id, status="sent", reason=None, at=now, fact=fact
            ),
        )
        metrics.EMAILS.labels(delivery.kind, "sent").inc()
        metrics.EVENT_TO_SENT.observe(max((now - delivery.event_occurred_at).total_seconds(), 0))

    async def _finish_failed(self, delivery: Delivery, reason: str) -> None:
        now = utc_now()
        fact = Outgoing(Topic.NOTIFICATIONS, _failed(delivery, reason, now))
        await self._recorded(
            delivery,
            lambda conn: deliveries.finish(
                conn, delivery.id, status="failed", reason=reason, at=now, fact=fact
            ),
        )
        metrics.EMAILS.labels(delivery.kind, "failed").inc()
        log.error("delivery %s (%s) failed: %s", delivery.id, delivery.kind, reason)

    async def _finish_suppressed(self, delivery: Delivery, reason: str) -> None:
        async with self._pool.acquire() as conn:
            await deliveries.mark_suppressed(conn, delivery.id, reason)
        metrics.EMAILS.labels(delivery.kind, "suppressed").inc()

    async def _report_queue_now_and_then(self) -> None:
        """The queue gauges, at most once a REPORT_SECONDS (scraped every 15 s or so; read
        after every round of the sender they were a query a mail)."""
        now = asyncio.get_running_loop().time()
        if now - self._reported_at < REPORT_SECONDS:
            return
        self._reported_at = now
        async with self._pool.acquire() as conn:
            state = await deliveries.queue_state(conn, utc_now())
        metrics.RETRY_QUEUE.set(state.retrying)
        metrics.OLDEST_QUEUED.set(state.oldest_queued_seconds)


def _as_known_now(planned: ForumFacts | None, known_now: ForumNow | None) -> ForumFacts | None:
    """The mail's forum with the times and deadline the read model holds now."""
    if planned is None or known_now is None:
        return planned
    return planned.model_copy(
        update={
            "starts_at": known_now.starts_at,
            "ends_at": known_now.ends_at,
            "registration_deadline": known_now.registration_deadline,
        }
    )


def _trace(delivery: Delivery) -> dict[str, object]:
    return {
        "key": delivery.recipient_hash,
        "producer": PRODUCER,
        "correlation_id": delivery.correlation_id or str(delivery.source_event_id),
        "causation_id": str(delivery.source_event_id),
    }


def _sent(delivery: Delivery, at: datetime) -> NotificationSent:
    return NotificationSent(
        **_trace(delivery),
        occurred_at=at,
        data=NotificationSentData(
            delivery_id=delivery.id,
            template=delivery.kind,
            language=delivery.language,
            recipient_hash=delivery.recipient_hash,
            source_event_id=delivery.source_event_id,
            source_event_type=delivery.source_event_type,
            sent_at=at,
        ),
    )


def _failed(delivery: Delivery, reason: str, at: datetime) -> NotificationFailed:
    return NotificationFailed(
        **_trace(delivery),
        occurred_at=at,
        data=NotificationFailedData(
            delivery_id=delivery.id,
            template=delivery.kind,
            language=delivery.language,
            recipient_hash=delivery.recipient_hash,
            source_event_id=delivery.source_event_id,
            source_event_type=delivery.source_event_type,
            failed_at=at,
            attempts=delivery.attempts,
            error=reason[:500],
        ),
    )
