"""Every message type of the contract, the topic it travels on, and parsing by type."""

from typing import Any

from schemas import forums, intake, notifications, organizations, registrations
from schemas.envelope import Envelope
from schemas.topics import Topic

_BY_TOPIC: dict[Topic, tuple[type[Envelope], ...]] = {
    Topic.ORGANIZATIONS: (
        organizations.OrganizationRegistered,
        organizations.OrganizationInterested,
        organizations.PartnerJoined,
        organizations.PartnerLeft,
        organizations.OrganizationErased,
    ),
    Topic.FORUMS: (
        forums.ForumScheduled,
        forums.ForumUpdated,
        forums.ForumHeld,
        forums.ForumCancelled,
    ),
    Topic.REGISTRATIONS: (
        registrations.RegistrationMade,
        registrations.RegistrationPromoted,
        registrations.RegistrationCancelled,
    ),
    Topic.NOTIFICATIONS: (notifications.NotificationSent, notifications.NotificationFailed),
    Topic.INTAKE: (
        intake.RegisterCommand,
        intake.CancelRegistrationCommand,
        intake.DeclareInterestCommand,
        intake.RegisterOrganizationCommand,
        intake.JoinPartnershipCommand,
        intake.LeavePartnershipCommand,
        intake.ScheduleForumCommand,
        intake.UpdateForumCommand,
        intake.CancelForumCommand,
        intake.MarkForumHeldCommand,
    ),
    Topic.INTAKE_REJECTED: (intake.IntakeRejected,),
}


def _type_name(cls: type[Envelope]) -> str:
    return str(cls.model_fields["type"].default)


EVENT_TYPES: dict[str, type[Envelope]] = {
    _type_name(cls): cls for classes in _BY_TOPIC.values() for cls in classes
}
TOPIC_OF_TYPE: dict[str, Topic] = {
    _type_name(cls): topic for topic, classes in _BY_TOPIC.items() for cls in classes
}


class UnknownType(ValueError):
    pass


def event_class(type_name: str) -> type[Envelope]:
    try:
        return EVENT_TYPES[type_name]
    except KeyError:
        raise UnknownType(f"unknown message type {type_name!r}") from None


def parse_event(raw: dict[str, Any]) -> Envelope:
    """Validate a decoded message against the model of its `type`."""
    return event_class(str(raw.get("type"))).model_validate(raw)
