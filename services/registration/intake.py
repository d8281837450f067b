"""Consumer of the intake topic: commands from other systems, run through the same service.

Outcomes: processed (facts in the outbox), duplicate (inbox knew it), rejected (an
`intake.rejected` fact saying why), dead-lettered (not an envelope at all). A transient failure
is not acknowledged: the message is redelivered after a backoff, keeping per-key order.
"""

import asyncio
import logging
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from schemas import intake
from schemas.catalog import TOPIC_OF_TYPE, UnknownType, parse_event
from schemas.envelope import Envelope, InvalidEnvelope, decode_envelope, utc_now
from schemas.intake import FieldProblem, IntakeRejected, IntakeRejectedData
from schemas.topics import Topic, dlq_name
from services.registration import metrics as registration_metrics
from services.registration.domain.errors import DomainError, reason_of_status
from services.registration.domain.trace import Trace
from services.registration.services import Services
from services.registration.store import SCHEMA, facts
from services.runtime import metrics, unit_of_work
from services.runtime.consumer import Backoff, observe_processed
from services.runtime.deadletter import send_to_dlq
from services.runtime.http import validation_errors
from services.runtime.inbox import AlreadyProcessed, InboxEntry

log = logging.getLogger(__name__)

CONSUMER = "registration-intake"
TRANSIENT_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


class IntakeConsumer:
    def __init__(self, services: Services, producer: AIOKafkaProducer, prefix: str) -> None:
        self._services = services
        self._producer = producer
        self._prefix = prefix
        self._backoff = Backoff()

    async def handle(self, message: KafkaMessage) -> None:
        try:
            raw = decode_envelope(message.body)
        except InvalidEnvelope as error:
            await self._dead_letter(message, str(error))
            return
        try:
            outcome = await self.execute(raw)
        except TRANSIENT_ERRORS as error:
            metrics.CONSUMER_RETRIES.labels(CONSUMER).inc()
            log.warning("intake: transient failure, will redeliver: %r", error)
            await asyncio.sleep(self._backoff.next_delay())
            await message.nack()  # seek back: the same message comes again, order kept
            return
        except Exception as error:
            # A message that crashes the handler would crash it again: park it, keep going.
            log.exception("intake: unexpected failure, dead-lettering the message")
            await self._dead_letter(message, f"unexpected failure: {error!r}")
            return
        self._backoff.reset()
        await message.ack()
        metrics.CONSUMED.labels(CONSUMER, outcome).inc()
        observe_processed(CONSUMER, message, raw.get("occurred_at"))

    async def execute(self, raw: dict[str, Any]) -> str:
        entry = InboxEntry(CONSUMER, str(raw["event_id"]))
        try:
            command = parse_event(raw)
            if TOPIC_OF_TYPE[command.type] is not Topic.INTAKE:
                raise UnknownType(f"{command.type!r} is a fact, not an intake command")
            await self._dispatch(command, entry)
        except AlreadyProcessed:
            return "duplicate"
        except UnknownType as error:
            return await self._reject(raw, entry, 422, str(error), [])
        except ValidationError as error:
            problems = validation_errors(error.errors())
            return await self._reject(raw, entry, 422, "invalid command", problems)
        except DomainError as error:
            problems = [{"field": error.field, "message": error.message}] if error.field else []
            return await self._reject(raw, entry, error.status, error.message, problems)
        return "processed"

    async def _dispatch(self, command: Envelope, entry: InboxEntry) -> None:
        """Run the command through the same service functions as HTTP, in a transaction that
        also claims the command's inbox entry."""
        trace = Trace(
            correlation_id=str(command.event_id), causation_id=str(command.event_id), now=utc_now()
        )
        unit = unit_of_work.claiming(self._services.pool, schema=SCHEMA, entry=entry)
        organizations = self._services.organizations
        forums = self._services.forums
        registrations = self._services.registrations
        match command:
            case intake.RegisterCommand(data=data):
                await registrations.register(data.forum_id, data, trace, unit=unit)
            case intake.CancelRegistrationCommand(data=data):
                by = "registrant" if data.cancel_token else "intake"
                await registrations.cancel(data.registration_id, data, trace, by=by, unit=unit)
            case intake.DeclareInterestCommand(data=data):
                await organizations.declare_interest(data.organization_id, data, trace, unit)
            case intake.RegisterOrganizationCommand(data=data):
                await organizations.create(data, trace, unit)
            case intake.JoinPartnershipCommand(data=data):
                await organizations.join(data.organization_id, data, trace, unit)
            case intake.LeavePartnershipCommand(data=data):
                await organizations.leave(data.organization_id, data, trace, unit)
            case intake.ScheduleForumCommand(data=data):
                await forums.schedule(data, trace, unit)
            case intake.UpdateForumCommand(data=data):
                await forums.update(data.forum_id, data, trace, unit)
            case intake.CancelForumCommand(data=data):
                await forums.cancel(data.forum_id, data, trace, unit)
            case intake.MarkForumHeldCommand(data=data):
                await forums.mark_held(data.forum_id, data, trace, unit)
            case _:
                raise UnknownType(f"no handler for {command.type!r}")

    async def _reject(
        self,
        raw: dict[str, Any],
        entry: InboxEntry,
        status: int,
        reason: str,
        problems: list[dict[str, str]],
    ) -> str:
        command_id = str(raw["event_id"])
        rejection = IntakeRejected(
            key=str(raw.get("key") or command_id),
            producer="registration",
            correlation_id=command_id,
            causation_id=command_id,
            data=IntakeRejectedData(
                command_event_id=command_id,
                command_type=str(raw["type"]),
                producer=str(raw["producer"]),
                status=status,
                reason=reason,
                errors=[FieldProblem(**problem) for problem in problems],
                rejected_at=utc_now(),
            ),
        )
        registration_metrics.REJECTIONS.labels(reason_of_status(status)).inc()
        # The answer to a command that broke a rule is a fact too, recorded once like any other.
        unit = unit_of_work.claiming(self._services.pool, schema=SCHEMA, entry=entry)
        try:
            async with unit() as conn:
                await facts.append(conn, Topic.INTAKE_REJECTED, [rejection])
        except AlreadyProcessed:
            return "duplicate"
        return "rejected"

    async def _dead_letter(self, message: KafkaMessage, error: str) -> None:
        record: ConsumerRecord[bytes, bytes] = message.raw_message  # type: ignore[assignment]
        await send_to_dlq(
            self._producer,
            dlq_topic=dlq_name(Topic.INTAKE, self._prefix),
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            error=error,
        )
        await message.ack()
        metrics.CONSUMED.labels(CONSUMER, "dead_lettered").inc()
        log.warning("intake: dead-lettered offset %s of %s: %s", record.offset, record.topic, error)
