"""Cursor paging of every service's list endpoints: page size, the cursors they give out, and
reading them back.

A cursor is the position of a page's last row (base64url of a JSON list of strings); the next
page starts after it. A cursor comes back from the client, so it is read as hostile input:
anything that is not a position this API could have given out is a 422 naming `cursor`.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# The longest cursor given out: an organisation name of 200 characters outside the BMP, each
# written as a \u-escaped surrogate pair (12 bytes), with its id, in base64: 3,262 characters.
MAX_CURSOR_LENGTH = 4096
BIGINT_MAX = 2**63 - 1
MAX_NAME_LENGTH = 200  # as schemas.text.SingleLine

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (default 100)")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="`next` of the previous page")
]

Position = TypeVar("Position")
Row = TypeVar("Row")


def encode_cursor(*position: object) -> str:
    raw = json.dumps([str(part) for part in position]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str]:
    """The parts of the position a cursor points after; ValueError when it is not one of ours."""
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        # validate=True: a character outside the alphabet is an error, not silently dropped.
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        position = json.loads(raw)
    except RecursionError as error:  # deeply nested JSON: the decoder recursed too deep
        raise ValueError("nested too deep") from error
    except binascii.Error as error:
        raise ValueError("not base64") from error
    if not isinstance(position, list) or not all(isinstance(part, str) for part in position):
        raise ValueError("not a list of strings")
    for part in position:
        part.encode()  # UnicodeEncodeError (a ValueError) for a lone surrogate from a \u escape
    return position


def bad_cursor() -> RequestValidationError:
    """422 naming `cursor`, as every service answers invalid fields (services.runtime.http)."""
    message = "not a cursor this API gave out; start without one"
    return RequestValidationError(
        [{"loc": ("query", "cursor"), "msg": message, "type": "value_error"}]
    )


def timestamp(part: str) -> datetime:
    """A point in time with its offset, in UTC (a time past the year 9999 there is refused)."""
    moment = datetime.fromisoformat(part)
    if moment.tzinfo is None:
        raise ValueError("no offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("out of range") from error


def bigint(part: str) -> int:
    """A non-negative integer that fits PostgreSQL's bigint, in plain digits."""
    if not (part.isascii() and part.isdigit() and len(part) <= len(str(BIGINT_MAX))):
        raise ValueError("not a bigint")
    number = int(part)
    if number > BIGINT_MAX:
        raise ValueError("beyond bigint")
    return number


def name(part: str) -> str:
    """A name as stored: bounded, and without NUL (PostgreSQL text cannot hold it)."""
    if len(part) > MAX_NAME_LENGTH or "\x00" in part:
        raise ValueError("not a name")
    return part


@dataclass(frozen=True)
class PageOrder(Generic[Position, Row]):
    """The order of one list: a row's position as cursor parts, and the parts read back."""

    position_of: Callable[[Row], Sequence[object]]
    read: Callable[[Sequence[str]], Position]  # ValueError when the parts are not a position

    def request(self, cursor: str | None, limit: int) -> "PageRequest[Position, Row]":
        """The page asked for; 422 naming `cursor` when it is not one this API gave out."""
        if not cursor:
            return PageRequest(self, None, limit)
        try:
            return PageRequest(self, self.read(decode_cursor(cursor)), limit)
        except ValueError as error:
            raise bad_cursor() from error


@dataclass(frozen=True)
class PageRequest(Generic[Position, Row]):
    order: PageOrder[Position, Row]
    after: Position | None  # None: from the start
    limit: int

    @property
    def fetch_size(self) -> int:
        """One row more than the page: whether it comes back tells if there is a next page."""
        return self.limit + 1

    def page(self, found: Sequence[Row]) -> tuple[Sequence[Row], str | None]:
        """The page's rows of those fetched, and the cursor of the next page (None at the end)."""
        if len(found) <= self.limit:
            return found, None
        return found[: self.limit], encode_cursor(*self.order.position_of(found[self.limit - 1]))
