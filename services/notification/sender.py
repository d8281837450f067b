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
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import asyncpg

from schemas.envelope import Envelope, utc_now
from schemas.notifications import (
    NotificationFailed,
    NotificationFailedData,
    NotificationSent,
    NotificationSentData,
)
from schemas.topics import Topic
from services.notification import metrics
from services.notification.compose import MailNotComposable, compose
from services.notification.domain.known import KnownForum
from services.notification.domain.mails import ForumFacts, Kind
from services.notification.domain.occasions import UNSUBSCRIBED, why_not_send
from services.notification.mailer import Mailer, NotAttempted, SendFailed
from services.notification.store import SCHEMA, deliveries, known, unsubscribes
from services.notification.store.deliveries import Delivery
from services.runtime import outbox
from services.runtime.db import Connection
from services.runtime.outbox import Outgoing
from services.runtime.wakeup import Wakeup

log = logging.getLogger(__name__)

PRODUCER = "notification"
BATCH = 20
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 300.0


@dataclass(frozen=True)
class SenderPolicy:
    mail_from: str
    max_age: timedelta
    retry_for: timedelta
    sending_timeout: timedelta
    poll_seconds: float


class Sender:
    def __init__(self, pool: asyncpg.Pool, mailer: Mailer, policy: SenderPolicy) -> None:
        self._pool = pool
        self._mailer = mailer
        self._policy = policy
        self._envelope_from = parseaddr(policy.mail_from)[1]
        self._wakeup = Wakeup(pool, f"{SCHEMA}_deliveries", policy.poll_seconds)

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        """Until cancelled (a supervised task: services.runtime.background)."""
        try:
            while True:
                await self._wakeup.listen()
                # Again at once while there was work: sending one recipient's mail makes their
                # next one due (mail to one address goes in order, store.deliveries.claim_due).
                while await self.send_due():
                    pass
                await self._report_queue()
                await self._wakeup.wait()
        finally:
            await self._wakeup.close()

    async def send_due(self) -> int:
        """Send one batch of due deliveries, concurrently up to the mailer's connections."""
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await deliveries.claim_due(
                conn, limit=BATCH, now=utc_now(), sending_timeout=self._policy.sending_timeout
            )
        await asyncio.gather(*(self._deliver(delivery) for delivery in claimed))
        return len(claimed)

    async def _deliver(self, delivery: Delivery) -> None:
        reason = await self._why_not_now(delivery)
        if reason is not None:
            await self._finish_suppressed(delivery, reason)
            return
        assert delivery.mail is not None
        try:
            message = compose(
                delivery.mail,
                sender=self._policy.mail_from,
                message_id=delivery.message_id,
                date=utc_now(),
            )
        except MailNotComposable as error:
            await self._finish_failed(delivery, f"cannot be written: {error}")
            return
        started = asyncio.get_running_loop().time()
        try:
            await self._mailer.send(
                self._envelope_from,
                delivery.mail.recipient.address,
                message.as_bytes(),
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

    async def _why_not_now(self, delivery: Delivery) -> str | None:
        """Again at sending: the organisation erased, the recipient unsubscribed from
        invitations, or the occasion passed meanwhile (the forum cancelled, held or started
        since the fact was processed) — a mail may wait hours for its relay."""
        if delivery.mail is None:
            return "the organisation's personal data was erased"
        async with self._pool.acquire() as conn:
            if delivery.organization_id and await known.is_erased(conn, delivery.organization_id):
                return "the organisation's personal data was erased"
            if delivery.mail.kind is Kind.FORUM_INVITATION and await unsubscribes.among(
                conn, [delivery.recipient_hash]
            ):
                return UNSUBSCRIBED
            forum = await known.forum(conn, delivery.forum_id) if delivery.forum_id else None
        return why_not_send(
            delivery.mail.kind,
            occurred_at=delivery.event_occurred_at,
            now=utc_now(),
            max_age=self._policy.max_age,
            # The forum as it is now (moved since the mail was planned?), else as planned.
            forum=_as_known_now(delivery.mail.forum, forum),
            forum_status=forum.status if forum else None,
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
            async with self._pool.acquire() as conn:
                await deliveries.mark_retrying(
                    conn, delivery.id, failure.reason, now + timedelta(seconds=delay)
                )
            metrics.EMAILS.labels(delivery.kind, "retried").inc()
            log.warning(
                "delivery %s (%s): %s; retrying in %.0f s",
                delivery.id,
                delivery.kind,
                failure.reason,
                delay,
            )

    async def _finish_sent(self, delivery: Delivery) -> None:
        now = utc_now()
        async with self._pool.acquire() as conn, conn.transaction():
            if await deliveries.mark_sent(conn, delivery.id, now):
                await _emit(conn, _sent(delivery, now), delivery)
        metrics.EMAILS.labels(delivery.kind, "sent").inc()
        metrics.EVENT_TO_SENT.observe(max((now - delivery.event_occurred_at).total_seconds(), 0))

    async def _finish_failed(self, delivery: Delivery, reason: str) -> None:
        now = utc_now()
        async with self._pool.acquire() as conn, conn.transaction():
            if await deliveries.mark_failed(conn, delivery.id, reason, now):
                await _emit(conn, _failed(delivery, reason, now), delivery)
        metrics.EMAILS.labels(delivery.kind, "failed").inc()
        log.error("delivery %s (%s) failed: %s", delivery.id, delivery.kind, reason)

    async def _finish_suppressed(self, delivery: Delivery, reason: str) -> None:
        async with self._pool.acquire() as conn:
            await deliveries.mark_suppressed(conn, delivery.id, reason)
        metrics.EMAILS.labels(delivery.kind, "suppressed").inc()

    async def _report_queue(self) -> None:
        async with self._pool.acquire() as conn:
            state = await deliveries.queue_state(conn, utc_now())
        metrics.RETRY_QUEUE.set(state.retrying)
        metrics.OLDEST_QUEUED.set(state.oldest_queued_seconds)


def _as_known_now(planned: ForumFacts | None, known_now: KnownForum | None) -> ForumFacts | None:
    """The mail's forum with the times and deadline the read model holds now."""
    if planned is None or known_now is None:
        return planned
    current = known_now.facts()
    return planned.model_copy(
        update={
            "starts_at": current.starts_at,
            "ends_at": current.ends_at,
            "registration_deadline": current.registration_deadline,
        }
    )


async def _emit(conn: Connection, event: Envelope, delivery: Delivery) -> None:
    await outbox.append(conn, SCHEMA, [Outgoing(Topic.NOTIFICATIONS, event)])


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
