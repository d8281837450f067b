"""When not to send: the rules of services/notification/domain/occasions.py, one by one."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.notification.domain.mails import ForumFacts, Kind
from services.notification.domain.occasions import why_not_send

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
WEEK = timedelta(days=7)


def _forum(starts_in: timedelta, deadline_in: timedelta | None = None) -> ForumFacts:
    starts = NOW + starts_in
    return ForumFacts(
        id=uuid4(),
        title="Forum",
        format="forum",
        venue="Rathaus",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        registration_deadline=NOW + deadline_in if deadline_in is not None else None,
    )


def _why(
    kind: Kind,
    forum: ForumFacts | None,
    *,
    age: timedelta = timedelta(0),
    status: str | None = None,
) -> str | None:
    return why_not_send(
        kind, occurred_at=NOW - age, now=NOW, max_age=WEEK, forum=forum, forum_status=status
    )


def test_a_fresh_fact_about_a_forum_ahead_is_sent() -> None:
    ahead = _forum(timedelta(days=10), deadline_in=timedelta(days=7))
    for kind in Kind:
        assert _why(kind, ahead, status="scheduled") is None, kind


def test_a_fact_older_than_the_maximum_age_sends_nothing() -> None:
    assert _why(Kind.PARTNER_WELCOME, None, age=WEEK + timedelta(seconds=1)) == (
        "the event is older than 7 days"
    )
    assert _why(Kind.PARTNER_WELCOME, None, age=WEEK) is None


@pytest.mark.parametrize(
    "kind", [Kind.REGISTRATION_CONFIRMED, Kind.FORUM_REMINDER, Kind.FORUM_CANCELLED]
)
def test_nothing_ahead_of_a_forum_once_it_started(kind: Kind) -> None:
    assert _why(kind, _forum(-timedelta(minutes=1))) == "the forum has started"


def test_no_invitation_after_the_deadline() -> None:
    closed = _forum(timedelta(days=2), deadline_in=-timedelta(hours=1))
    assert _why(Kind.FORUM_INVITATION, closed) == "registration for the forum has closed"
    assert _why(Kind.REGISTRATION_CONFIRMED, closed) is None


def test_after_a_forum_ended_only_its_last_word() -> None:
    ahead = _forum(timedelta(days=10))
    assert _why(Kind.REGISTRATION_CONFIRMED, ahead, status="cancelled") == "the forum is cancelled"
    assert _why(Kind.FORUM_CANCELLED, ahead, status="cancelled") is None
    assert _why(Kind.REGISTRATION_CANCELLED, ahead, status="cancelled") is None
    held = _forum(-timedelta(hours=4))
    assert _why(Kind.FORUM_THANKS, held, status="held") is None
    assert _why(Kind.FORUM_UPDATED, ahead, status="held") == "the forum was held"


def test_no_thanks_for_a_forum_that_ended_long_ago() -> None:
    long_ago = _forum(-(WEEK + timedelta(days=1)))
    assert _why(Kind.FORUM_THANKS, long_ago, status="held") == (
        "the forum ended more than 7 days ago"
    )
