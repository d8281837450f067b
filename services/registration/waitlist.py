"""The waitlist of a forum: promotion in arrival order, and its end when the forum is cancelled.

Both run inside a command's transaction with the forum row locked (the caller's lock)."""

from dataclasses import replace

from schemas.topics import Topic
from schemas.vocabulary import ForumStatus
from services.registration.domain import registrations as rules
from services.registration.domain.forums import Forum
from services.registration.domain.trace import Trace
from services.registration.store import facts
from services.registration.store import forums as forum_store
from services.registration.store import registrations as registration_store
from services.runtime.db import Connection


async def promote(conn: Connection, forum: Forum, trace: Trace) -> Forum:
    """Confirm waitlisted registrations in order while they fit. Only a scheduled forum promotes:
    a held or cancelled one is history, its waitlist never moves again."""
    if forum.status is not ForumStatus.SCHEDULED or forum.waitlist_length == 0:
        return forum
    waiting = await registration_store.waitlist(conn, forum.id)
    promoted = rules.promotions(forum.seats_remaining, waiting)
    if not promoted:
        return forum
    await registration_store.mark_confirmed(conn, [registration.id for registration in promoted])
    forum = replace(
        forum,
        seats_taken=forum.seats_taken + sum(registration.attendees for registration in promoted),
        waitlist_length=forum.waitlist_length - len(promoted),
    )
    await forum_store.save_counters(conn, forum)
    for registration in promoted:
        event = rules.promoted(registration, forum, trace)
        await facts.append(conn, Topic.REGISTRATIONS, [event], registration.organization_id)
    return forum


async def end(conn: Connection, forum: Forum, reason: str | None, trace: Trace) -> Forum:
    """A cancelled forum's waitlist ends: each waitlisted registration is cancelled, with its
    own `registration.cancelled` (`cancelled_by: forum`), so every read model counts it.

    The organisations' seat rows are left as they are: no registration can come any more, and
    touching them here (forum row locked first) would invert the lock order of admission
    (seats row, then forum row) and could deadlock with a registration in flight."""
    waiting = await registration_store.waitlist(conn, forum.id)
    for registration in waiting:
        event = rules.cancelled(registration, forum, "forum", reason, trace)
        await registration_store.mark_cancelled(conn, registration.id, "forum")
        await facts.append(conn, Topic.REGISTRATIONS, [event], registration.organization_id)
    if not waiting:
        return forum
    ended = replace(forum, waitlist_length=0)
    await forum_store.save_counters(conn, ended)
    return ended
