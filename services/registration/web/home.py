"""`/`: what the network is (a text the staff edit: templates/content/about.<lang>.html) and
its upcoming open forums, soonest first, a page at a time."""

from datetime import datetime
from uuid import UUID

from fastapi import Request, Response

from schemas.envelope import utc_now
from schemas.vocabulary import Audience, ForumStatus
from services.registration.http.deps import ServicesDep
from services.registration.http.forums import FORUM_ORDER
from services.registration.store import forums as forum_store
from services.registration.web.availability import availability
from services.registration.web.public_router import public_router
from services.runtime.pages import PagesDep, reader_language
from services.runtime.paging import Cursor

# A page of forums: the network holds a handful a year, so one page is the rule; more link on.
FORUMS_PER_PAGE = 20
# The start of the list: forums that start from now on (the smallest id breaks no tie).
_FIRST_ID = UUID(int=0)

router = public_router()


@router.get("/")
async def home_page(
    request: Request, services: ServicesDep, pages: PagesDep, cursor: Cursor = None
) -> Response:
    language = reader_language(request)
    now = utc_now()
    page = FORUM_ORDER.request(cursor, FORUMS_PER_PAGE)
    after: tuple[datetime, UUID] = max(page.after or (now, _FIRST_ID), (now, _FIRST_ID))
    async with services.pool.acquire() as conn:
        found = await forum_store.list_page(
            conn,
            audience=Audience.OPEN.value,
            status=ForumStatus.SCHEDULED.value,
            after=after,
            limit=page.fetch_size,
        )
    forums, following = page.page(found)
    context = {
        "forums": [(forum, availability(forum, now).value) for forum in forums],
        "next_page": f"/?cursor={following}" if following else None,
        "about": f"content/about.{language}.html",
    }
    return pages.render(request, "forums/list.html", context, language=language,
                        offer_languages=True)  # fmt: skip
