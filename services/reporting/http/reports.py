"""GET /v1/reports/network, /forums, /forums/{id}, /funnel and /emails: staff only."""

from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response

from services.reporting.http.answers import CSV_RESPONSE, AskedDep, answer, read
from services.reporting.reports import build, tables
from services.reporting.reports.models import (
    EmailReport,
    ForumReport,
    ForumsReport,
    FunnelReport,
    NetworkReport,
)
from services.reporting.reports.periods import PeriodDep
from services.reporting.web.staff import StaffReaderDep
from services.runtime.http import problem_responses

router = APIRouter(
    prefix="/v1/reports", tags=["reports"], responses=problem_responses(401, 403, 422, 429)
)


@router.get("/network", response_model=NetworkReport, responses=CSV_RESPONSE)
async def network_report(
    request: Request, staff: StaffReaderDep, period: PeriodDep, asked: AskedDep
) -> Response:
    """Organisations by status, kind and district; growth month by month; partners who left
    (`from`/`to` limit growth and leavers; the counts are as of now). CSV tables: kinds,
    status, districts, growth, left."""
    report = await read(request, lambda conn, gen: build.network(conn, gen, period))
    return answer(request, report, tables.network_tables, asked, "network")


@router.get("/forums", response_model=ForumsReport, responses=CSV_RESPONSE)
async def forums_report(
    request: Request, staff: StaffReaderDep, period: PeriodDep, asked: AskedDep
) -> Response:
    """Every forum starting within `from`/`to` with seats, waitlist, fill rate, organisations,
    needs (counts) and attendance."""
    report = await read(request, lambda conn, gen: build.forums(conn, gen, period))
    return answer(request, report, tables.forums_tables, asked, "forums")


@router.get(
    "/forums/{forum_id}",
    response_model=ForumReport,
    responses={**CSV_RESPONSE, **problem_responses(404)},
)
async def forum_report(
    request: Request, forum_id: UUID, staff: StaffReaderDep, asked: AskedDep
) -> Response:
    """One forum's figures and the organisations registered (names, never contacts). CSV
    tables: summary, organizations."""
    report = await read(request, lambda conn, gen: build.forum(conn, gen, forum_id))
    if report is None:
        raise HTTPException(404, f"no forum {forum_id} in the read models")
    return answer(request, report, tables.forum_tables, asked, f"forum-{forum_id}")


@router.get("/funnel", response_model=FunnelReport, responses=CSV_RESPONSE)
async def funnel_report(
    request: Request, staff: StaffReaderDep, period: PeriodDep, asked: AskedDep
) -> Response:
    """From a first forum registration (within `from`/`to`) to declaring interest to joining:
    organisations per step and the median days between."""
    report = await read(request, lambda conn, gen: build.funnel(conn, gen, period))
    return answer(request, report, tables.funnel_tables, asked, "funnel")


@router.get("/emails", response_model=EmailReport, responses=CSV_RESPONSE)
async def email_report(
    request: Request, staff: StaffReaderDep, period: PeriodDep, asked: AskedDep
) -> Response:
    """E-mails sent and failed by kind, failures by day. CSV tables: kinds, failures."""
    report = await read(request, lambda conn, gen: build.emails(conn, gen, period))
    return answer(request, report, tables.email_tables, asked, "emails")
