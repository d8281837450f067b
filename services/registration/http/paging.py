"""Page size and cursor errors shared by the list endpoints."""

from typing import Annotated

from fastapi import Query

from services.registration.domain.errors import RuleViolation

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (default 100)")]
Cursor = Annotated[str | None, Query(description="`next` of the previous page")]


def bad_cursor() -> RuleViolation:
    return RuleViolation("not a cursor this API gave out; start without one", field="cursor")
