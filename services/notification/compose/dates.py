"""Times as people read them: Babel in the mail's locale, always in Europe/Berlin."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

BERLIN = ZoneInfo("Europe/Berlin")


def babel_locale(language: str, fallback: str) -> Locale:
    """The locale of a template folder's language; an unknown code formats as the fallback."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(fallback)


def in_berlin(moment: datetime) -> datetime:
    """The moment on Berlin's clock (summer time included); a time without offset is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BERLIN)


def same_day(first: datetime, second: datetime) -> bool:
    """Whether both moments fall on one calendar day in Berlin."""
    return in_berlin(first).date() == in_berlin(second).date()


class BerlinFormats:
    """Template filters `date` and `time`; a Babel pattern or width may be given, e.g.
    `starts_at|date("EEEE, d MMMM y")`, so each language folder chooses its own forms."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale

    def date(self, moment: datetime, pattern: str = "full") -> str:
        # The date is taken after the conversion: 23:30 UTC on 31 March is 1 April in Berlin.
        return format_date(in_berlin(moment).date(), pattern, locale=self.locale)

    def time(self, moment: datetime, pattern: str = "short") -> str:
        return format_time(in_berlin(moment), pattern, tzinfo=BERLIN, locale=self.locale)
