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
from services.registration.http import paging
from services.registration.http.auth import CallerDep, StaffDep, unauthorized
from services.registration.http.deps import ServiceDep, TraceDep
from services.registration.http.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, PageOrder
from services.registration.http.views import ForumPage, ForumView
from services.registration.store import forums as forum_store

router = APIRouter(prefix="/v1/forums", tags=["forums"])


def _forum_position(parts: Sequence[str]) -> tuple[datetime, UUID]:
    starts_at, forum_id = parts
    return paging.timestamp(starts_at), UUID(forum_id)


# By start, then id, as the store lists them (the forums_starts_at index).
FORUM_ORDER = PageOrder[tuple[datetime, UUID], Forum](
    position_of=lambda forum: (forum.starts_at.isoformat(), forum.id), read=_forum_position
)


@router.post("", status_code=201, response_model=ForumView)
async def schedule_forum(
    body: commands.ScheduleForum, service: ServiceDep, trace: TraceDep, _: StaffDep
) -> ForumView:
    return ForumView.of(await service.schedule_forum(body, trace), trace.now)


@router.get("", response_model=ForumPage)
async def list_forums(
    service: ServiceDep,
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
    async with service.pool.acquire() as conn:
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


@router.get("/{forum_id}", response_model=ForumView)
async def read_forum(forum_id: UUID, service: ServiceDep, who: CallerDep) -> ForumView:
    forum = await service.forum(forum_id)
    if forum.audience is not Audience.OPEN and not who.is_authenticated:
        raise unauthorized("partners-only forums need a token")
    return ForumView.of(forum, utc_now())


@router.patch("/{forum_id}", response_model=ForumView)
async def update_forum(
    forum_id: UUID, body: commands.UpdateForum, service: ServiceDep, trace: TraceDep, _: StaffDep
) -> ForumView:
    return ForumView.of(await service.update_forum(forum_id, body, trace), trace.now)


@router.post("/{forum_id}/cancel", response_model=ForumView)
async def cancel_forum(
    forum_id: UUID,
    service: ServiceDep,
    trace: TraceDep,
    _: StaffDep,
    body: Annotated[commands.CancelForum | None, Body()] = None,
) -> ForumView:
    command = body or commands.CancelForum()
    return ForumView.of(await service.cancel_forum(forum_id, command, trace), trace.now)


@router.post("/{forum_id}/held", response_model=ForumView)
async def mark_forum_held(
    forum_id: UUID, body: commands.MarkForumHeld, service: ServiceDep, trace: TraceDep, _: StaffDep
) -> ForumView:
    return ForumView.of(await service.mark_forum_held(forum_id, body, trace), trace.now)
