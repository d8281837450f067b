"""Forum lifecycle: scheduled → held or cancelled; updates while scheduled."""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from schemas.commands import MarkForumHeld, ScheduleForum, UpdateForum, forum_times_problem
from schemas.forums import (
    ForumCancelled,
    ForumCancelledData,
    ForumHeld,
    ForumHeldData,
    ForumScheduled,
    ForumSnapshot,
    ForumUpdated,
    ForumUpdatedData,
)
from schemas.vocabulary import Audience, ForumFormat, ForumStatus, ForumSummary
from services.registration.domain.errors import Conflict, RuleViolation
from services.registration.domain.trace import Trace


@dataclass(frozen=True)
class Forum:
    id: UUID
    format: ForumFormat
    title: str
    topics: list[str]
    venue: str
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    capacity: int
    seats_per_organization: int | None
    audience: Audience
    status: ForumStatus
    seats_taken: int = 0
    waitlist_length: int = 0

    @property
    def seats_remaining(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    def summary(self) -> ForumSummary:
        return ForumSummary.of(self)

    def snapshot(self) -> dict[str, object]:
        return {
            "forum_id": self.id,
            "format": self.format,
            "title": self.title,
            "topics": self.topics,
            "venue": self.venue,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "registration_deadline": self.registration_deadline,
            "capacity": self.capacity,
            "seats_per_organization": self.seats_per_organization,
            "audience": self.audience,
            "status": self.status,
        }


def schedule(command: ScheduleForum, trace: Trace) -> tuple[Forum, ForumScheduled]:
    forum = Forum(id=uuid4(), status=ForumStatus.SCHEDULED, **command.model_dump())
    event = ForumScheduled(
        **trace.envelope_fields(forum.id), data=ForumSnapshot.model_validate(forum.snapshot())
    )
    return forum, event


def update(forum: Forum, patch: UpdateForum, trace: Trace) -> tuple[Forum, ForumUpdated]:
    _require_scheduled(forum, "updated")
    changes = {
        name: value
        for name, value in patch.model_dump(exclude_unset=True).items()
        if value is not None and getattr(forum, name) != value
    }
    changed = replace(forum, **changes)
    _check_times(changed)
    if changed.capacity < forum.seats_taken:
        raise RuleViolation(
            f"capacity {changed.capacity} is below the {forum.seats_taken} seats already confirmed",
            field="capacity",
        )
    event = ForumUpdated(
        **trace.envelope_fields(forum.id),
        data=ForumUpdatedData.model_validate(
            {**changed.snapshot(), "changed_fields": sorted(changes)}
        ),
    )
    return changed, event


def _check_times(forum: Forum) -> None:
    problem = forum_times_problem(forum.starts_at, forum.ends_at, forum.registration_deadline)
    if problem:
        field, message = problem
        raise RuleViolation(message, field=field)


def cancel(forum: Forum, reason: str | None, trace: Trace) -> tuple[Forum, ForumCancelled]:
    _require_scheduled(forum, "cancelled")
    changed = replace(forum, status=ForumStatus.CANCELLED)
    event = ForumCancelled(
        **trace.envelope_fields(forum.id),
        data=ForumCancelledData(
            forum_id=forum.id,
            title=forum.title,
            format=forum.format,
            status=changed.status,
            starts_at=forum.starts_at,
            reason=reason,
            cancelled_at=trace.now,
        ),
    )
    return changed, event


def mark_held(
    forum: Forum, report: MarkForumHeld, confirmed_ids: set[UUID], trace: Trace
) -> tuple[Forum, ForumHeld]:
    """`confirmed_ids` are the forum's confirmed registrations: only they can have attended."""
    # Not tied to the clock: staff record what took place, also a forum held earlier than planned.
    _require_scheduled(forum, "marked held")
    unknown = [rid for rid in report.attended_registration_ids if rid not in confirmed_ids]
    if unknown:
        raise RuleViolation(
            f"not confirmed registrations of this forum: {', '.join(map(str, unknown))}",
            field="attended_registration_ids",
        )
    changed = replace(forum, status=ForumStatus.HELD)
    event = ForumHeld(
        **trace.envelope_fields(forum.id),
        data=ForumHeldData(
            forum_id=forum.id,
            title=forum.title,
            format=forum.format,
            status=changed.status,
            attendance=report.attendance,
            attended_registration_ids=report.attended_registration_ids,
            outcomes=report.outcomes,
            held_at=trace.now,
        ),
    )
    return changed, event


def _require_scheduled(forum: Forum, action: str) -> None:
    if forum.status is not ForumStatus.SCHEDULED:
        raise Conflict(f"a {forum.status} forum cannot be {action}", field="status")
