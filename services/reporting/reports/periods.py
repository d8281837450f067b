"""A report's date range: `?from=&to=` as days in Europe/Berlin, both included."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError

from schemas.vocabulary import BERLIN


@dataclass(frozen=True)
class Period:
    first_day: date | None
    last_day: date | None

    @property
    def since(self) -> datetime | None:
        """The first moment of the range (UTC-aware), or None for an open start."""
        return _midnight(self.first_day) if self.first_day else None

    @property
    def until(self) -> datetime | None:
        """The first moment after the range, or None for an open end."""
        return _midnight(self.last_day + timedelta(days=1)) if self.last_day else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BERLIN)


def period(
    first_day: Annotated[
        date | None,
        Query(alias="from", description="First day included (YYYY-MM-DD, Europe/Berlin)"),
    ] = None,
    last_day: Annotated[
        date | None,
        Query(alias="to", description="Last day included (YYYY-MM-DD, Europe/Berlin)"),
    ] = None,
) -> Period:
    if first_day and last_day and last_day < first_day:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "to"),
                    "msg": f"must not be before `from` ({first_day.isoformat()})",
                    "type": "value_error",
                }
            ]
        )
    return Period(first_day, last_day)


PeriodDep = Annotated[Period, Depends(period)]
