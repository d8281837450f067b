"""/v1/forums: schedule, list, read, update, cancel, mark held."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body

from schemas import commands
from schemas.envelope import utc_now
from schemas.vocabulary import Audience, ForumStatus
from services.registration.http.deps import ServiceDep, TraceDep
from services.registration.http.paging import DEFAULT_PAGE_SIZE, Cursor, Limit, bad_cursor
from services.registration.http.views import ForumPage, ForumView, decode_cursor, encode_cursor
from services.registration.store import forums as forum_store
from services.runtime.auth import CallerDep, StaffDep, unauthorized

router = APIRouter(prefix="/v1/forums", tags=["forums"])


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
    after = None
    if cursor:
        try:
            starts_at, forum_id = decode_cursor(cursor)
            after = (datetime.fromisoformat(starts_at), UUID(forum_id))
        except ValueError as error:
            raise bad_cursor() from error
    async with service.pool.acquire() as conn:
        found = await forum_store.list_page(
            conn,
            audience=audience.value if audience else None,
            status=status.value if status else None,
            after=after,
            limit=limit + 1,
        )
    now = utc_now()
    last = found[limit - 1] if len(found) > limit else None
    return ForumPage(
        items=[ForumView.of(forum, now) for forum in found[:limit]],
        next=encode_cursor(last.starts_at.isoformat(), last.id) if last else None,
    )


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
