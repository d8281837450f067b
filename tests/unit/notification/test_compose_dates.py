"""Forum times as people read them: on Berlin's clock, in the mail's language."""

from datetime import UTC, datetime

import pytest

from services.notification.compose import compose
from services.notification.domain.mails import Kind
from tests.unit.notification.sample_mails import (
    MESSAGE_ID,
    SENDER,
    SENT_AT,
    forum,
    mail,
    text_of,
)


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("de", "Dienstag, 1. April 2025, 00:30 bis 01:30 Uhr"),
        ("en", "Tuesday, 1 April 2025, 12:30 AM to 1:30 AM"),
    ],
)
def test_the_day_is_berlins_day(language: str, shown: str) -> None:
    # 22:30 UTC on 31 March is already 1 April in Berlin (summer time since 30 March).
    late = forum(
        starts_at=datetime(2025, 3, 31, 22, 30, tzinfo=UTC),
        ends_at=datetime(2025, 3, 31, 23, 30, tzinfo=UTC),
    )

    message = compose(
        mail(Kind.FORUM_REMINDER, language=language, forum_facts=late),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )

    assert shown in text_of(message, "plain")


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        (
            "de",
            "Freitag, 28. November 2025, 09:00 Uhr, bis Samstag, 29. November 2025, 16:00 Uhr",
        ),
        ("en", "Friday, 28 November 2025, 9:00 AM to Saturday, 29 November 2025, 4:00 PM"),
    ],
)
def test_an_event_over_two_days_gives_both_days(language: str, shown: str) -> None:
    conference = forum(
        starts_at=datetime(2025, 11, 28, 8, 0, tzinfo=UTC),
        ends_at=datetime(2025, 11, 29, 15, 0, tzinfo=UTC),
    )

    message = compose(
        mail(Kind.REGISTRATION_CONFIRMED, language=language, forum_facts=conference),
        sender=SENDER,
        message_id=MESSAGE_ID,
        date=SENT_AT,
    )

    assert shown in text_of(message, "plain")
    assert shown in text_of(message, "html")
