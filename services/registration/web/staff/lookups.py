"""What a console page is about, read through the command services; an unknown one (or one
past the step its page is for) is the console's 404 page."""

from collections.abc import Awaitable
from typing import TypeVar

from services.registration.domain.errors import NotFound

Found = TypeVar("Found")


class PageNotFound(Exception):
    """Nothing to show at this address."""


async def shown(lookup: Awaitable[Found]) -> Found:
    """`await shown(services.forums.get(forum_id))`: the forum, or the 404 page."""
    try:
        return await lookup
    except NotFound:
        raise PageNotFound from None
