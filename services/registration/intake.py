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
from services.registration.domain.errors import DomainError
from services.registration.domain.trace import Trace
from services.registration.service import RegistrationService
from services.runtime import metrics
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
    def __init__(
        self, service: RegistrationService, producer: AIOKafkaProducer, prefix: str
    ) -> None:
        self._service = service
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
        trace = Trace(
            correlation_id=str(command.event_id), causation_id=str(command.event_id), now=utc_now()
        )
        service = self._service
        match command:
            case intake.RegisterCommand(data=data):
                await service.register(data.forum_id, data, trace, entry=entry)
            case intake.CancelRegistrationCommand(data=data):
                by = "registrant" if data.cancel_token else "intake"
                await service.cancel_registration(
                    data.registration_id, data, trace, by=by, entry=entry
                )
            case intake.DeclareInterestCommand(data=data):
                await service.declare_interest(data.organization_id, trace, entry)
            case intake.RegisterOrganizationCommand(data=data):
                await service.create_organization(data, trace, entry)
            case intake.JoinPartnershipCommand(data=data):
                await service.join(data.organization_id, data, trace, entry)
            case intake.LeavePartnershipCommand(data=data):
                await service.leave(data.organization_id, data, trace, entry)
            case intake.ScheduleForumCommand(data=data):
                await service.schedule_forum(data, trace, entry)
            case intake.UpdateForumCommand(data=data):
                await service.update_forum(data.forum_id, data, trace, entry)
            case intake.CancelForumCommand(data=data):
                await service.cancel_forum(data.forum_id, data, trace, entry)
            case intake.MarkForumHeldCommand(data=data):
                await service.mark_forum_held(data.forum_id, data, trace, entry)
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
        registration_metrics.REJECTIONS.labels(_reason_label(status)).inc()
        try:
            await self._service.record_rejection(rejection, entry)
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


def _reason_label(status: int) -> str:
    return {403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid"}.get(
        status, "other"
    )
