"""Intake command envelopes as other systems write them, for tests publishing to intake."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4


def command(command_type: str, data: dict[str, Any], producer: str = "portal") -> dict[str, Any]:
    """A command envelope: empty key and no correlation, as the issue allows for commands."""
    return {
        "event_id": str(uuid4()),
        "type": command_type,
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": producer,
        "key": "",
        "correlation_id": None,
        "causation_id": None,
        "data": data,
    }


def registration_body(
    email: str, *, attendees: int = 1, interested: bool = False
) -> dict[str, Any]:
    """A registration with a new organisation inline (the public form's shape)."""
    return {
        "organization": {"name": f"Verein {email.split('@')[0]}", "kind": "culture"},
        "contact": {"name": "Kim Muster", "email": email, "phone": None, "language": "de"},
        "attendees": attendees,
        "wants_to_present": False,
        "interested_in_partnership": interested,
        "accessibility_needs": None,
        "consent": True,
    }


def register_command(forum_id: str, email: str, **options: Any) -> dict[str, Any]:
    return command("register", {**registration_body(email, **options), "forum_id": forum_id})


def forum_body(
    *,
    starts_in: timedelta = timedelta(days=30),
    deadline_in: timedelta | None = None,
    capacity: int = 50,
    title: str = "Forum Gleichbehandlung",
) -> dict[str, Any]:
    """A forum starting `starts_in` from now (negative: already started), lasting one day."""
    now = datetime.now(UTC)
    starts_at = now + starts_in
    ends_at = starts_at + timedelta(days=1)
    deadline = now + deadline_in if deadline_in is not None else starts_at - timedelta(hours=1)
    return {
        "format": "forum",
        "title": title,
        "topics": ["equal treatment"],
        "venue": "Rathaus, Saal 2",
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "registration_deadline": min(deadline, ends_at).isoformat(),
        "capacity": capacity,
        "audience": "open",
    }
