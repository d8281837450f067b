"""The languages pages speak: which one a reader gets, its translated words (gettext catalogs
read with Babel) and its formats of numbers, days and hours in Europe/Berlin."""

import gettext
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from schemas.vocabulary import BERLIN

DEFAULT_LANGUAGE = "de"
# The source language of every message is English; German has a catalog.
SUPPORTED_LANGUAGES = ("de", "en")
# English as written in Europe (day before month, 24-hour clock), not the US default of "en".
BABEL_LOCALES = {"de": "de_DE", "en": "en_GB"}
# Each offered in its own language, so a reader finds theirs.
NATIVE_NAMES = {"de": "Deutsch", "en": "English"}
CATALOG = "messages.po"
# Between the ends of a range of days or times, as typeset in both languages.
EN_DASH = "\u2013"
# The runtime's own messages (form errors), beside each service's.
RUNTIME_LOCALES = Path(__file__).parent / "locale"
# One moment (a registration deadline) as each language writes it: Babel's patterns have no
# "um … Uhr" / "at", so each language's is written out here rather than as a catalog sentence.
MOMENT_PATTERNS = {"de": "EEEE, d. MMMM y 'um' HH:mm 'Uhr'", "en": "EEEE d MMMM y 'at' HH:mm"}
# An Accept-Language header lists a handful of languages; a longer one is read this far only.
MAX_ACCEPTED_LANGUAGES = 20
_WEIGHT = re.compile(r"q=([01](?:\.\d{0,3})?)")


def accepted_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (`Accept-Language: en-GB,en;q=0.9,de;
    q=0.8`), or None when it names none of them (or only with q=0)."""
    ranked: list[tuple[float, int, str]] = []
    for place, item in enumerate((header or "").split(",")[:MAX_ACCEPTED_LANGUAGES]):
        tag, _, parameters = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        weight = _WEIGHT.fullmatch(parameters.strip().replace(" ", ""))
        quality = float(weight.group(1)) if weight else (0.0 if parameters.strip() else 1.0)
        if primary in SUPPORTED_LANGUAGES and quality > 0:
            ranked.append((-quality, place, primary))  # the first listed wins a tie
    return min(ranked)[2] if ranked else None


def choose_language(*candidates: str | None) -> str:
    """The first candidate pages are written in (an explicit choice first, then the reader's
    known language), else German: the network's language, for any other language too."""
    return next((code for code in candidates if code in SUPPORTED_LANGUAGES), DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class Language:
    """One language's words and formats; times are shown in Europe/Berlin."""

    code: str
    locale: Locale
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def day(self, starts: datetime, ends: datetime) -> str:
        """`Mittwoch, 20. Januar 2027`; both days when it ends on another."""
        first, last = starts.astimezone(BERLIN).date(), ends.astimezone(BERLIN).date()
        shown = format_date(first, "full", locale=self.locale)
        if last == first:
            return shown
        return f"{shown} {EN_DASH} {format_date(last, 'full', locale=self.locale)}"

    def moment(self, moment: datetime) -> str:
        """`Freitag, 10. Januar 2027 um 01:00 Uhr` in Europe/Berlin."""
        return format_datetime(
            moment, MOMENT_PATTERNS[self.code], tzinfo=BERLIN, locale=self.locale
        )

    def hours(self, starts: datetime, ends: datetime) -> str:
        """`10:30-16:00 Uhr` (with an en dash) within one day, else each time on its own."""
        if starts.astimezone(BERLIN).date() == ends.astimezone(BERLIN).date():
            return format_interval(starts, ends, "Hm", tzinfo=BERLIN, locale=self.locale)
        return f" {EN_DASH} ".join(
            format_time(moment, "short", tzinfo=BERLIN, locale=self.locale)
            for moment in (starts, ends)
        )


def load_language(code: str, locale_dirs: Iterable[Path]) -> Language:
    """The language with the catalogs of every directory merged; a later directory's translation
    of the same message wins (a service may reword the runtime's)."""
    translations = gettext.NullTranslations()
    for directory in locale_dirs:
        catalog = _catalog(directory, code)
        if catalog is not None:
            if isinstance(translations, Translations):
                translations.merge(catalog)
            else:
                translations = catalog
    return Language(code, Locale.parse(BABEL_LOCALES[code]), translations)


def _catalog(directory: Path, code: str) -> Translations | None:
    """A `.po` catalog compiled in memory: the repository holds only the text that translators
    edit, no generated `.mo` file that could go stale beside it."""
    path = directory / code / "LC_MESSAGES" / CATALOG
    if not path.exists():
        return None
    with path.open("rb") as source:
        catalog = read_po(source, locale=code)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy (unreviewed) entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled)
