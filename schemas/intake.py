"""Commands other systems publish to the `intake` topic, and the rejection fact."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.commands import (
    CancelForum,
    CancelRegistration,
    CreateOrganization,
    DeclareInterest,
    JoinPartnership,
    LeavePartnership,
    MarkForumHeld,
    Register,
    ScheduleForum,
    UpdateForum,
)
from schemas.envelope import Envelope, Payload


class RegisterData(Register):
    forum_id: UUID


class CancelRegistrationData(CancelRegistration):
    registration_id: UUID


class DeclareInterestData(DeclareInterest):
    organization_id: UUID


class JoinPartnershipData(JoinPartnership):
    organization_id: UUID


class LeavePartnershipData(LeavePartnership):
    organization_id: UUID


class UpdateForumData(UpdateForum):
    forum_id: UUID


class CancelForumData(CancelForum):
    forum_id: UUID


class MarkForumHeldData(MarkForumHeld):
    forum_id: UUID


class RegisterCommand(Envelope):
    type: Literal["register"] = "register"
    data: RegisterData


class CancelRegistrationCommand(Envelope):
    type: Literal["cancel_registration"] = "cancel_registration"
    data: CancelRegistrationData


class DeclareInterestCommand(Envelope):
    type: Literal["declare_interest"] = "declare_interest"
    data: DeclareInterestData


class RegisterOrganizationCommand(Envelope):
    type: Literal["register_organization"] = "register_organization"
    data: CreateOrganization


class JoinPartnershipCommand(Envelope):
    type: Literal["join_partnership"] = "join_partnership"
    data: JoinPartnershipData


class LeavePartnershipCommand(Envelope):
    type: Literal["leave_partnership"] = "leave_partnership"
    data: LeavePartnershipData


class ScheduleForumCommand(Envelope):
    type: Literal["schedule_forum"] = "schedule_forum"
    data: ScheduleForum


class UpdateForumCommand(Envelope):
    type: Literal["update_forum"] = "update_forum"
    data: UpdateForumData


class CancelForumCommand(Envelope):
    type: Literal["cancel_forum"] = "cancel_forum"
    data: CancelForumData


class MarkForumHeldCommand(Envelope):
    type: Literal["mark_forum_held"] = "mark_forum_held"
    data: MarkForumHeldData


class FieldProblem(Payload):
    field: str
    message: str


class IntakeRejectedData(Payload):
    command_event_id: str
    command_type: str
    producer: str
    status: int = Field(description="The HTTP status the same request would have had")
    reason: str
    errors: list[FieldProblem] = []
    rejected_at: datetime


class IntakeRejected(Envelope):
    type: Literal["intake.rejected"] = "intake.rejected"
    data: IntakeRejectedData
