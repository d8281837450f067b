"""The text types: single-line text refuses every control character and line break, free text
keeps tab, LF and CR only, and the JSON Schema pattern refuses what the validator refuses."""

import re

import pytest
from pydantic import TypeAdapter

from schemas.text import SINGLE_LINE, LongMultiLine, MultiLine, PhoneNumber, SingleLine
from tests.unit.schemas.refusals import refusal

C0 = [chr(code) for code in range(0x00, 0x20)]
DEL_AND_C1 = [chr(code) for code in range(0x7F, 0xA0)]
LINE_SEPARATORS = ["\u2028", "\u2029"]
TAB_LF_CR = ["\t", "\n", "\r"]
# Text people write: umlauts, Turkish and Arabic letters, a no-break space (U+00A0, just past
# C1), an en dash, an emoji, quotes and punctuation.
ORDINARY = 'Ayşe Öztürk \u2013 مركز\u00a0Nord 🙂 "Saal 2", 3. OG (links)'

single_line = TypeAdapter(SingleLine)
multi_line = TypeAdapter(MultiLine)


@pytest.mark.parametrize("character", C0 + DEL_AND_C1 + LINE_SEPARATORS, ids=ascii)
def test_single_line_refuses_every_control_character_and_line_break(character: str) -> None:
    message = refusal(single_line, f"Rathaus{character}Saal 2")

    assert message.startswith("must not contain control characters or line breaks")
    assert f"U+{ord(character):04X} at character 8" in message


@pytest.mark.parametrize(
    "character", [c for c in C0 if c not in TAB_LF_CR] + DEL_AND_C1 + LINE_SEPARATORS, ids=ascii
)
def test_multi_line_refuses_control_characters_but_tab_and_line_breaks(character: str) -> None:
    message = refusal(multi_line, f"Rollstuhl{character}gerecht")

    assert message.startswith("must not contain control characters other than tab")
    assert f"U+{ord(character):04X}" in message


def test_multi_line_keeps_tab_and_line_breaks() -> None:
    text = "Rampe am Eingang\r\nInduktionsschleife\n\tbitte Platz vorn"

    assert multi_line.validate_python(text) == text
    assert TypeAdapter(LongMultiLine).validate_python(text) == text


def test_ordinary_text_is_kept_as_given() -> None:
    assert single_line.validate_python(ORDINARY) == ORDINARY
    assert multi_line.validate_python(ORDINARY) == ORDINARY


def test_lengths_are_bounded_before_characters_are_scanned() -> None:
    too_long = refusal(single_line, "x" * 201 + "\n")

    assert "at most 200 characters" in too_long
    assert "at most 2000 characters" in refusal(multi_line, "x" * 2001)
    assert "at most 20000 characters" in refusal(TypeAdapter(LongMultiLine), "x" * 20_001)
    assert "at least 1 character" in refusal(single_line, "")


def test_phone_numbers_hold_digits_and_separators_only() -> None:
    phone = TypeAdapter(PhoneNumber)

    assert phone.validate_python("+49 (30) 4664-0/12.3") == "+49 (30) 4664-0/12.3"
    assert "may hold only digits" in refusal(phone, "030 123\r\nBcc: x@example.org")
    assert "at most 40 characters" in refusal(phone, "1" * 41)


@pytest.mark.parametrize("character", C0 + DEL_AND_C1 + LINE_SEPARATORS, ids=ascii)
def test_the_json_schema_pattern_refuses_what_the_validator_refuses(character: str) -> None:
    # Other systems check their commands against the published pattern before sending.
    pattern = single_line.json_schema()["pattern"]

    assert pattern == SINGLE_LINE.pattern
    assert re.search(pattern, ORDINARY)
    assert not re.search(pattern, f"a{character}b")
