"""A report as the caller asked for it: JSON, or one of its tables as CSV (`?format=csv` or
`Accept: text/csv`), headers in `?lang=de` (the default) or `en`."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import asyncpg
from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.reporting.reports.csv_export import Table, render
from services.reporting.store import generations
from services.runtime.db import Connection

CSV = "text/csv"
Report = TypeVar("Report", bound=BaseModel | None)
Shown = TypeVar("Shown", bound=BaseModel)

FormatQuery = Annotated[
    Literal["json", "csv"] | None,
    Query(description="csv for a spreadsheet; without it `Accept: text/csv` chooses CSV"),
]
LanguageQuery = Annotated[
    Literal["de", "en"], Query(description="Language of the CSV column headers")
]
TableQuery = Annotated[
    str | None, Query(max_length=40, description="Which table of the report as CSV")
]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}}
}


@dataclass(frozen=True)
class Asked:
    """How the caller wants a report: `format` json or csv (None: as `Accept` says), the CSV
    headers' `language`, which `table` of it as CSV (None: the first)."""

    format: str | None
    language: str
    table: str | None


def asked(
    format: FormatQuery = None, lang: LanguageQuery = "de", table: TableQuery = None
) -> Asked:
    return Asked(format, lang, table)


AskedDep = Annotated[Asked, Depends(asked)]


@asynccontextmanager
async def live_read_models(request: Request) -> AsyncIterator[tuple[Connection, int]]:
    """A connection in one read-only snapshot of the database and the live generation in it:
    a report never mixes two generations, even while a rebuild swaps."""
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn, await generations.live(conn)


def wants_csv(request: Request, format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "csv"
    return CSV in request.headers.get("accept", "")


def answer(
    request: Request,
    report: Shown,
    tables: Callable[[Shown], dict[str, Table]],
    asked: Asked,
    stem: str,
) -> Response:
    """The report as JSON, or the table asked for as CSV named `<stem>-<table>.csv`."""
    if not wants_csv(request, asked.format):
        return JSONResponse(report.model_dump(mode="json", by_alias=True))
    offered = tables(report)
    chosen = offered.get(asked.table) if asked.table else next(iter(offered.values()))
    if chosen is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "table"),
                    "msg": f"one of: {', '.join(offered)}",
                    "type": "value_error",
                }
            ]
        )
    return Response(
        render(chosen, asked.language),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}-{chosen.name}.csv"'},
    )


async def read(request: Request, build: Callable[[Connection, int], Awaitable[Report]]) -> Report:
    async with live_read_models(request) as (conn, generation):
        return await build(conn, generation)
