"""Which language a page speaks, and how it writes days, hours and numbers (Europe/Berlin)."""

from datetime import UTC, datetime

import pytest

from services.runtime.languages import DEFAULT_LANGUAGE, choose_language, load_language


@pytest.mark.parametrize(
    ("candidates", "chosen"),
    [
        (("en", "de"), "en"),
        ((None, "en"), "en"),
        (("fr", "en"), "en"),
        (("fr", "tr"), "de"),
        ((None, None), "de"),
        (("EN", None), "de"),  # codes are lower case, as contacts hold them
    ],
)
def test_the_first_supported_candidate_wins_else_german(
    candidates: tuple[str | None, ...], chosen: str
) -> None:
    assert choose_language(*candidates) == chosen
    assert DEFAULT_LANGUAGE == "de"


def test_one_day_is_written_once_with_its_hours() -> None:
    german, english = load_language("de", []), load_language("en", [])
    starts = datetime(2027, 3, 27, 23, 30, tzinfo=UTC)  # already Sunday in Berlin
    ends = datetime(2027, 3, 28, 9, 0, tzinfo=UTC)  # after the change to summer time

    assert german.day(starts, ends) == "Sonntag, 28. März 2027"
    assert german.hours(starts, ends) == "00:30\N{EN DASH}11:00 Uhr"
    assert english.day(starts, ends) == "Sunday, 28 March 2027"
    assert english.hours(starts, ends) == "00:30\N{EN DASH}11:00"


def test_an_event_over_two_days_names_both() -> None:
    german = load_language("de", [])
    starts = datetime(2027, 5, 3, 7, 0, tzinfo=UTC)
    ends = datetime(2027, 5, 4, 14, 0, tzinfo=UTC)

    assert german.day(starts, ends) == "Montag, 3. Mai 2027 \N{EN DASH} Dienstag, 4. Mai 2027"
    assert german.hours(starts, ends) == "09:00 \N{EN DASH} 16:00"


def test_numbers_are_grouped_as_each_language_writes_them() -> None:
    assert load_language("de", []).number(12000) == "12.000"
    assert load_language("en", []).number(12000) == "12,000"
