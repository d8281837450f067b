"""Registration rules: who may register, waitlist promotion, and the events they cause.

Seat allocation itself (confirmed, or waitlisted first in first out) is decided inside the one
SQL statement that holds the forum row lock (store/registrations.py: ADMIT), so the lock is held
for one statement and never across a round trip through Python. The rules here are the ones that
need no lock, and promotion, which runs under the lock in a transaction of its own.
"""

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from schemas.commands import Register
from schemas.registrations import (
    RegistrationCancelled,
    RegistrationCancelledData,
    RegistrationFacts,
    RegistrationMade,
    RegistrationMadeData,
    RegistrationPromoted,
    RegistrationPromotedData,
)
from schemas.vocabulary import (
    BERLIN,
    Audience,
    Contact,
    ForumStatus,
    OrganizationStatus,
    RegistrationStatus,
)
from services.registration.domain.errors import (
    AuthenticationRequired,
    Conflict,
    Forbidden,
    RuleViolation,
)
from services.registration.domain.forums import Forum
from services.registration.domain.organizations import Organization
from services.registration.domain.trace import Trace


@dataclass(frozen=True)
class Registration:
    id: UUID
    forum_id: UUID
    organization_id: UUID
    organization_name: str | None
    status: RegistrationStatus
    attendees: int
    contact: Contact | None
    wants_to_present: bool
    interested_in_partnership: bool
    accessibility_needs: str | None
    interpreter_needs: str | None
    created_at: datetime
    waitlist_position: int | None = None
    arrival: int = 0


def check_anonymous_access(forum: Forum) -> None:
    """A caller without a token (the public form) registers for open forums only."""
    if forum.audience is not Audience.OPEN:
        raise AuthenticationRequired(
            "partners-only forums take registrations with a staff or intake token"
        )


def check_admission(
    forum: Forum, organization: Organization, request: Register, now: datetime
) -> None:
    """Refuse what can be refused without the forum lock (re-checked under it where it matters)."""
    if forum.status is not ForumStatus.SCHEDULED:
        raise Conflict(f"registration is closed: the forum is {forum.status}", field="forum_id")
    if now > forum.registration_deadline:
        deadline = forum.registration_deadline.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
        raise Conflict(
            f"registration closed at the deadline, {deadline} (Europe/Berlin)", field="forum_id"
        )
    if organization.erased_at is not None:
        raise Conflict(
            "this organisation's data was erased; register it anew", field="organization_id"
        )
    if (
        forum.audience is Audience.PARTNERS
        and organization.status is not OrganizationStatus.PARTNER
    ):
        raise Forbidden("this forum is open to partner organisations only", field="organization_id")
    if request.attendees > forum.capacity:
        raise RuleViolation(
            f"{request.attendees} attendees exceed the forum's capacity of {forum.capacity}",
            field="attendees",
        )
    cap = forum.seats_per_organization
    if cap is not None and request.attendees > cap:
        raise RuleViolation(over_cap_message(cap), field="attendees")


def over_cap_message(cap: int) -> str:
    return f"at most {cap} attendees per organisation for this forum, waitlisted ones included"


def cancel_token(secret: bytes, registration_id: UUID) -> str:
    """The cancel link's token: derived, so it is never stored and only the registrant gets it."""
    return hmac.new(secret, registration_id.bytes, hashlib.sha256).hexdigest()


def token_matches(secret: bytes, registration_id: UUID, offered: str) -> bool:
    """Whether `offered` is the registration's cancel token, compared in constant time.

    As bytes: `hmac.compare_digest` raises TypeError for a str with non-ASCII characters, and
    an offered token may hold any (it was a 500)."""
    expected = cancel_token(secret, registration_id).encode()
    return hmac.compare_digest(expected, offered.encode("utf-8", "surrogatepass"))


def promotions(seats_free: int, waitlist: Sequence[Registration]) -> list[Registration]:
    """Waitlisted registrations to confirm, strictly in arrival order, while they fit.

    Stops at the first that does not fit: nobody overtakes a larger group that waits longer.
    """
    promoted = []
    for waiting in waitlist:
        if waiting.attendees > seats_free:
            break
        promoted.append(waiting)
        seats_free -= waiting.attendees
    return promoted


def _facts(registration: Registration, forum: Forum) -> dict[str, object]:
    return {
        "registration_id": registration.id,
        "forum_id": registration.forum_id,
        "organization_id": registration.organization_id,
        "organization_name": registration.organization_name,
        "status": registration.status,
        "waitlist_position": registration.waitlist_position,
        "attendees": registration.attendees,
        "contact": registration.contact,
        "forum": forum.summary(),
        "wants_to_present": registration.wants_to_present,
        "interested_in_partnership": registration.interested_in_partnership,
        "accessibility_needs": registration.accessibility_needs,
        "interpreter_needs": registration.interpreter_needs,
    }


def made(registration: Registration, forum: Forum, token: str, trace: Trace) -> RegistrationMade:
    """`registration.made` as admitted; status and position are set by the admitting statement."""
    return RegistrationMade(
        **trace.envelope_fields(forum.id),
        data=RegistrationMadeData.model_validate(
            {**_facts(registration, forum), "cancel_token": token, "registered_at": trace.now}
        ),
    )


def promoted(registration: Registration, forum: Forum, trace: Trace) -> RegistrationPromoted:
    confirmed = RegistrationFacts.model_validate(_facts(registration, forum)).model_dump()
    confirmed.update(status=RegistrationStatus.CONFIRMED, waitlist_position=None)
    return RegistrationPromoted(
        **trace.envelope_fields(forum.id),
        data=RegistrationPromotedData.model_validate({**confirmed, "promoted_at": trace.now}),
    )


def check_cancellable(forum: Forum) -> None:
    """A registration of a held or cancelled forum is history: it stays as it was."""
    if forum.status is not ForumStatus.SCHEDULED:
        raise Conflict(
            f"the forum is {forum.status}: its registrations can no longer be cancelled",
            field="registration_id",
        )


def cancelled(
    registration: Registration, forum: Forum, by: str, reason: str | None, trace: Trace
) -> RegistrationCancelled:
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict("the registration is already cancelled", field="registration_id")
    facts = {**_facts(registration, forum), "status": RegistrationStatus.CANCELLED}
    return RegistrationCancelled(
        **trace.envelope_fields(forum.id),
        data=RegistrationCancelledData.model_validate(
            {
                **facts,
                "waitlist_position": None,
                "cancelled_at": trace.now,
                "cancelled_by": by,
                "previous_status": registration.status,
                "reason": reason,
            }
        ),
    )
