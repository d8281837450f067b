"""Consumer of the intake topic: commands from other systems, run through the same service.

Outcomes: processed (facts in the outbox), duplicate (inbox knew it), rejected (an
`intake.rejected` fact saying why). The runtime's consumer wrapper (services.runtime.consumer)
dead-letters what is not an envelope or crashes the handler, and retries transient failures.
"""

from typing import Any

from pydantic import ValidationError

from schemas import intake
from schemas.catalog import TOPIC_OF_TYPE, UnknownType, parse_event
from schemas.envelope import Envelope, utc_now
from schemas.intake import FieldProblem, IntakeRejected, IntakeRejectedData
from schemas.topics import Topic
from services.registration import metrics as registration_metrics
from services.registration.domain.errors import DomainError
from services.registration.domain.trace import Trace
from services.registration.service import RegistrationService
from services.runtime.bounded import bounded_text
from services.runtime.consumer import Outcome
from services.runtime.http import validation_errors
from services.runtime.inbox import AlreadyProcessed, InboxEntry

CONSUMER = "registration-intake"
# What a rejection echoes from its command is cut to this (a command may be megabytes of junk,
# and the fact must stay far below the producer's 1 MB limit); the envelope's own limits are
# below it, so a valid command's values are echoed whole.
MAX_ECHOED_CHARS = 200
MAX_ECHOED_ERRORS = 20


class IntakeConsumer:
    def __init__(self, service: RegistrationService) -> None:
        self._service = service

    async def handle(self, raw: dict[str, Any]) -> Outcome:
        """Run one decoded intake command; a command that breaks a rule yields its rejection."""
        entry = InboxEntry(CONSUMER, str(raw["event_id"]))
        try:
            command = parse_event(raw)
            if TOPIC_OF_TYPE[command.type] is not Topic.INTAKE:
                raise UnknownType(f"{command.type!r} is a fact, not an intake command")
            await self._dispatch(command, entry)
        except AlreadyProcessed:
            return Outcome.DUPLICATE
        except UnknownType as error:
            return await self._reject(raw, entry, 422, str(error), [])
        except ValidationError as error:
            problems = validation_errors(error.errors())
            return await self._reject(raw, entry, 422, "invalid command", problems)
        except DomainError as error:
            problems = [{"field": error.field, "message": error.message}] if error.field else []
            return await self._reject(raw, entry, error.status, error.message, problems)
        return Outcome.PROCESSED

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
    ) -> Outcome:
        rejection = _rejection(raw, status, reason, problems)
        registration_metrics.REJECTIONS.labels(_reason_label(status)).inc()
        try:
            await self._service.record_rejection(rejection, entry)
        except AlreadyProcessed:
            return Outcome.DUPLICATE
        return Outcome.REJECTED


def _rejection(
    raw: dict[str, Any], status: int, reason: str, problems: list[dict[str, str]]
) -> IntakeRejected:
    """The `intake.rejected` fact of a command; everything it echoes is bounded."""
    command_id = _echo(raw["event_id"])
    listed = problems[:MAX_ECHOED_ERRORS]
    said = _echo(reason)
    if len(problems) > len(listed):
        said += f" ({len(problems) - len(listed)} more errors not listed)"
    return IntakeRejected(
        key=_echo(raw.get("key") or command_id),
        producer="registration",
        correlation_id=command_id,
        causation_id=command_id,
        data=IntakeRejectedData(
            command_event_id=command_id,
            command_type=_echo(raw["type"]),
            producer=_echo(raw["producer"]),
            status=status,
            reason=said,
            errors=[
                FieldProblem(field=_echo(problem["field"]), message=_echo(problem["message"]))
                for problem in listed
            ],
            rejected_at=utc_now(),
        ),
    )


def _echo(value: object) -> str:
    return bounded_text(value, MAX_ECHOED_CHARS)


def _reason_label(status: int) -> str:
    return {403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid"}.get(
        status, "other"
    )
