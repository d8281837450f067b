"""Bounded values of the commands: forum times and dates in a sane range, lists without repeats."""

from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID, uuid4

import pytest
from pydantic import Field, TypeAdapter

from schemas.vocabulary import AgreementDate, Distinct, UtcDatetime
from tests.unit.schemas.refusals import refusal

forum_time = TypeAdapter(UtcDatetime)


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00",  # Berlin → UTC leaves datetime's range: this dropped the connection
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "1999-12-31T23:59:59",
        "2101-01-01T00:00:00+00:00",
    ],
)
def test_forum_times_out_of_range_are_refused(moment: str) -> None:
    assert refusal(forum_time, moment) == "must lie between 2000-01-01 and 2100-12-31"


def test_forum_times_at_the_bounds_are_kept_in_utc() -> None:
    assert forum_time.validate_python("2000-01-01T00:00:00") == datetime(
        1999, 12, 31, 23, 0, tzinfo=UTC
    )
    assert forum_time.validate_python("2100-12-31T23:59:59+00:00") == datetime(
        2100, 12, 31, 23, 59, 59, tzinfo=UTC
    )


def test_agreement_dates_out_of_range_are_refused() -> None:
    agreement = TypeAdapter(AgreementDate)

    assert "1990-01-01" in refusal(agreement, "0001-01-01")
    assert "2100-12-31" in refusal(agreement, "2101-01-01")
    assert agreement.validate_python("2024-06-04") == date(2024, 6, 4)


def test_a_repeated_item_is_refused_naming_it() -> None:
    repeated = uuid4()
    ids = TypeAdapter(Annotated[list[UUID], Field(max_length=3), Distinct()])

    assert refusal(ids, [str(repeated), str(uuid4()), str(repeated)]) == (
        f"'{repeated}' is given more than once"
    )
    assert "at most 3 items" in refusal(ids, [str(uuid4()) for _ in range(4)])
    given = [uuid4(), uuid4()]
    assert ids.validate_python(given) == given  # order kept
    assert ids.json_schema()["uniqueItems"] is True
