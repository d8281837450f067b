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
from services.registration.domain.errors import DomainError, reason_of_status
from services.registration.domain.trace import Trace
from services.registration.services import Services
from services.registration.store import SCHEMA, facts
from services.runtime import unit_of_work
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
    def __init__(self, services: Services) -> None:
        self._services = services

    async def handle(self, raw: dict[str, Any]) -> Outcome:
        """Run one decoded intake command; a command that breaks a rule yields its rejection."""
        entry = InboxEntry(CONSUMER, str(raw["event_id"]))
        try:
            await self._dispatch(parse_command(raw), entry)
        except AlreadyProcessed:
            return Outcome.DUPLICATE
        except (UnknownType, ValidationError, DomainError) as error:
            return await self._reject(rejection_for(raw, error), entry)
        return Outcome.PROCESSED

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

    async def _reject(self, rejection: IntakeRejected, entry: InboxEntry) -> Outcome:
        registration_metrics.REJECTIONS.labels(reason_of_status(rejection.data.status)).inc()
        # The answer to a command that broke a rule is a fact too, recorded once like any other.
        unit = unit_of_work.claiming(self._services.pool, schema=SCHEMA, entry=entry)
        try:
            async with unit() as conn:
                await facts.append(conn, Topic.INTAKE_REJECTED, [rejection])
        except AlreadyProcessed:
            return Outcome.DUPLICATE
        return Outcome.REJECTED


def parse_command(raw: dict[str, Any]) -> Envelope:
    """The typed intake command, or UnknownType / ValidationError saying why not."""
    command = parse_event(raw)
    if TOPIC_OF_TYPE[command.type] is not Topic.INTAKE:
        raise UnknownType(f"{command.type!r} is a fact, not an intake command")
    return command


def rejection_for(
    raw: dict[str, Any], error: UnknownType | ValidationError | DomainError
) -> IntakeRejected:
    """The `intake.rejected` fact answering a command refused with `error`: the status the same
    HTTP request would have had, the reason and each field's problem."""
    if isinstance(error, ValidationError):
        return _rejection(raw, 422, "invalid command", validation_errors(error.errors()))
    if isinstance(error, DomainError):
        problems = [{"field": error.field, "message": error.message}] if error.field else []
        return _rejection(raw, error.status, error.message, problems)
    return _rejection(raw, 422, str(error), [])


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
