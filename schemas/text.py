"""Text fields of commands and contacts: how long each kind may be and which characters it holds.

Single-line text (names, titles, venue, topics …) reaches e-mail headers and .ics lines, where a
line break starts a new header or property: it refuses every control character and the Unicode
line separators. Free text (notes, reasons, outcomes) may span lines: it keeps tab, LF and CR.
NUL is refused everywhere: PostgreSQL text cannot hold it.
"""

import re
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# Written as regex escapes, not characters, so the JSON Schema `pattern` stays readable text;
# Python's `re` and ECMA-262 (JSON Schema) read `\uXXXX` alike.
_C0 = r"\u0000-\u001f"  # NUL, TAB, LF, CR among them
_C0_BUT_TAB_LF_CR = r"\u0000-\u0008\u000b\u000c\u000e-\u001f"
_DEL_AND_C1 = r"\u007f-\u009f"  # C1 includes NEL (U+0085), a line break to some readers
_LINE_SEPARATORS = r"\u2028\u2029"


class CharacterRule:
    """Annotated metadata: the text must consist of the characters a regex class allows.

    Placed after a `Field(max_length=…)`, it scans only text already within its length. The
    JSON Schema gets the same rule as `pattern`, so other systems can check before they send.
    """

    def __init__(self, allowed: str, message: str) -> None:
        self.pattern = f"^[{allowed}]*$"
        self.message = message
        self._valid_run = re.compile(f"[{allowed}]*")

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema

    def check(self, text: str) -> str:
        valid_run = self._valid_run.match(text)
        end = valid_run.end() if valid_run else 0
        if end < len(text):
            # The code point and where, never the text: messages reach logs and rejection facts.
            raise PydanticCustomError(
                "text_characters",
                "{rule} (U+{code} at character {position})",
                {"rule": self.message, "code": f"{ord(text[end]):04X}", "position": end + 1},
            )
        return text


SINGLE_LINE = CharacterRule(
    f"^{_C0}{_DEL_AND_C1}{_LINE_SEPARATORS}",
    "must not contain control characters or line breaks",
)
MULTI_LINE = CharacterRule(
    f"^{_C0_BUT_TAB_LF_CR}{_DEL_AND_C1}{_LINE_SEPARATORS}",
    "must not contain control characters other than tab, line feed and carriage return",
)
PHONE = CharacterRule("0-9+()/ .-", "may hold only digits, spaces and + ( ) / . -")

# Names, titles, venue, district, topics, contact names.
SingleLine = Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE]
# Notes, reasons, accessibility and interpreter needs.
MultiLine = Annotated[str, Field(max_length=2000), MULTI_LINE]
# What a held forum achieved: a report, longer than a note.
LongMultiLine = Annotated[str, Field(max_length=20_000), MULTI_LINE]
# The phone rule's characters include no control character, so it needs no SINGLE_LINE.
PhoneNumber = Annotated[str, Field(max_length=40), PHONE]
