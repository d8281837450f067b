"""/v1/forums: schedule, list, read, update, cancel, mark held."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body

from schemas import commands
from schemas.envelope import utc_now
from schemas.vocabulary import Audience, ForumStatus
from services.registration.domain.forums import Forum
from services.registration.http.deps import ServicesDep, TraceDep
from services.registration.http.problems import REFUSALS
from services.registration.http.views import ForumPage, ForumView
from services.registration.store import forums as forum_store
from services.runtime import paging
from services.runtime.auth import CallerDep, StaffDep, unauthorized
from services.runtime.http import linked, problem_responses
from services.runtime.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, PageOrder

router = APIRouter(prefix="/v1/forums", tags=["forums"], responses=REFUSALS)
# Staff steps on one forum: the wrong role, an unknown forum, a forum past that step.
STAFF_STEP = problem_responses(403, 404, 409)


def _forum_position(parts: Sequence[str]) -> tuple[datetime, UUID]:
    starts_at, forum_id = parts
    return paging.timestamp(starts_at), UUID(forum_id)


# By start, then id, as the store lists them (the forums_starts_at index).
FORUM_ORDER = PageOrder[tuple[datetime, UUID], Forum](
    position_of=lambda forum: (forum.starts_at.isoformat(), forum.id), read=_forum_position
)


@router.post(
    "",
    status_code=201,
    response_model=ForumView,
    responses={
        **problem_responses(403),
        **linked(
            201,
            "Scheduled",
            "forum_id",
            "read_forum",
            "update_forum",
            "cancel_forum",
            "mark_forum_held",
            "register",
            "list_registrations",
        ),
    },
)
async def schedule_forum(
    body: commands.ScheduleForum, services: ServicesDep, trace: TraceDep, _: StaffDep
) -> ForumView:
    return ForumView.of(await services.forums.schedule(body, trace), trace.now)


@router.get("", response_model=ForumPage)
async def list_forums(
    services: ServicesDep,
    who: CallerDep,
    status: ForumStatus | None = None,
    audience: Audience | None = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> ForumPage:
    """Open forums for everyone; partners-only forums too with a staff or intake token."""
    if not who.is_authenticated:
        audience = Audience.OPEN
    page = FORUM_ORDER.request(cursor, limit)
    async with services.pool.acquire() as conn:
        found = await forum_store.list_page(
            conn,
            audience=audience.value if audience else None,
            status=status.value if status else None,
            after=page.after,
            limit=page.fetch_size,
        )
    now = utc_now()
    forums, following = page.page(found)
    return ForumPage(items=[ForumView.of(forum, now) for forum in forums], next=following)


@router.get("/{forum_id}", response_model=ForumView, responses=problem_responses(404))
async def read_forum(forum_id: UUID, services: ServicesDep, who: CallerDep) -> ForumView:
    forum = await services.forums.get(forum_id)
    if forum.audience is not Audience.OPEN and not who.is_authenticated:
        raise unauthorized("partners-only forums need a token")
    return ForumView.of(forum, utc_now())


@router.patch("/{forum_id}", response_model=ForumView, responses=STAFF_STEP)
async def update_forum(
    forum_id: UUID, body: commands.UpdateForum, services: ServicesDep, trace: TraceDep, _: StaffDep
) -> ForumView:
    return ForumView.of(await services.forums.update(forum_id, body, trace), trace.now)


@router.post("/{forum_id}/cancel", response_model=ForumView, responses=STAFF_STEP)
async def cancel_forum(
    forum_id: UUID,
    services: ServicesDep,
    trace: TraceDep,
    _: StaffDep,
    body: Annotated[commands.CancelForum | None, Body()] = None,
) -> ForumView:
    command = body or commands.CancelForum()
    return ForumView.of(await services.forums.cancel(forum_id, command, trace), trace.now)


@router.post("/{forum_id}/held", response_model=ForumView, responses=STAFF_STEP)
async def mark_forum_held(
    forum_id: UUID,
    body: commands.MarkForumHeld,
    services: ServicesDep,
    trace: TraceDep,
    _: StaffDep,
) -> ForumView:
    return ForumView.of(await services.forums.mark_held(forum_id, body, trace), trace.now)
