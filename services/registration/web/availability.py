"""Whether a forum takes registrations from the public form now, and if not, why: the service's
admission rules (domain/registrations.py `check_admission`), told apart so a page can say which."""

from datetime import datetime
from enum import StrEnum

from pydantic import TypeAdapter

from schemas.commands import Attendees
from schemas.vocabulary import ForumStatus
from services.registration.domain.forums import Forum

# The bound of the API's command, read from its type so the page never states another.
MAX_ATTENDEES: int = TypeAdapter(Attendees).json_schema()["maximum"]


class Availability(StrEnum):
    OPEN = "open"
    WAITLIST = "waitlist"  # open, but every seat is taken: a registration waits for one
    DEADLINE_PASSED = "deadline_passed"
    HELD = "held"
    CANCELLED = "cancelled"

    @property
    def takes_registrations(self) -> bool:
        return self in (Availability.OPEN, Availability.WAITLIST)


def availability(forum: Forum, now: datetime) -> Availability:
    if forum.status is ForumStatus.CANCELLED:
        return Availability.CANCELLED
    if forum.status is ForumStatus.HELD:
        return Availability.HELD
    if now > forum.registration_deadline:
        return Availability.DEADLINE_PASSED
    if forum.seats_remaining == 0:
        return Availability.WAITLIST
    return Availability.OPEN


def most_attendees(forum: Forum) -> int:
    """The most one registration may bring: the per-organisation cap, else the capacity (and
    never more than the command takes)."""
    cap = forum.seats_per_organization
    return min(cap or forum.capacity, forum.capacity, MAX_ATTENDEES)
