"""Forum lifecycle rules: update while scheduled, cancel, mark held only once started."""

from datetime import timedelta
from uuid import uuid4

import pytest

from schemas.commands import MarkForumHeld, UpdateForum
from schemas.vocabulary import ForumStatus
from services.registration.domain import forums as rules
from services.registration.domain.errors import Conflict, RuleViolation
from tests.unit.registration.domain_values import NOW, forum, trace


def test_update_changes_only_given_fields_and_lists_them() -> None:
    scheduled = forum()
    changed, event = rules.update(
        scheduled, UpdateForum(capacity=20, title=scheduled.title), trace()
    )
    assert changed.capacity == 20
    assert changed.title == scheduled.title
    assert event.type == "forum.updated"
    assert event.data.changed_fields == ["capacity"]


def test_capacity_cannot_drop_below_confirmed_seats() -> None:
    with pytest.raises(RuleViolation) as refused:
        rules.update(forum(seats_taken=8), UpdateForum(capacity=5), trace())
    assert refused.value.field == "capacity"


def test_update_keeps_times_in_order() -> None:
    scheduled = forum()
    with pytest.raises(RuleViolation) as refused:
        rules.update(scheduled, UpdateForum(ends_at=scheduled.starts_at), trace())
    assert refused.value.field == "ends_at"


@pytest.mark.parametrize("status", [ForumStatus.HELD, ForumStatus.CANCELLED])
def test_only_a_scheduled_forum_is_updated_cancelled_or_held(status: ForumStatus) -> None:
    finished = forum(status=status, starts_at=NOW - timedelta(hours=1))
    with pytest.raises(Conflict):
        rules.update(finished, UpdateForum(capacity=20), trace())
    with pytest.raises(Conflict):
        rules.cancel(finished, None, trace())
    with pytest.raises(Conflict):
        rules.mark_held(finished, MarkForumHeld(attendance=3), set(), trace())


def test_cancel_says_why() -> None:
    cancelled, event = rules.cancel(forum(), "venue closed", trace())
    assert cancelled.status is ForumStatus.CANCELLED
    assert (event.type, event.data.reason) == ("forum.cancelled", "venue closed")


def test_held_records_the_report_and_only_once() -> None:
    held, event = rules.mark_held(forum(), MarkForumHeld(attendance=3), set(), trace())
    assert held.status is ForumStatus.HELD
    assert (event.type, event.data.attendance) == ("forum.held", 3)
    with pytest.raises(Conflict, match="held forum cannot be marked held"):
        rules.mark_held(held, MarkForumHeld(attendance=3), set(), trace())


def test_attended_must_be_confirmed_registrations() -> None:
    started = forum(starts_at=NOW - timedelta(hours=1))
    confirmed, stranger = uuid4(), uuid4()
    report = MarkForumHeld(attendance=2, attended_registration_ids=[confirmed, stranger])
    with pytest.raises(RuleViolation) as refused:
        rules.mark_held(started, report, {confirmed}, trace())
    assert refused.value.field == "attended_registration_ids"
    assert str(stranger) in refused.value.message
    assert str(confirmed) not in refused.value.message
