"""No e-mail about the past: when an occasion has passed, a mail is recorded as suppressed
with the reason instead of being sent — when the fact is processed and again before sending.

A mail is about the past when
* its fact occurred longer ago than DIALOGNET_NOTIFICATION_MAX_AGE_SECONDS (7 days): a service
  that starts on a long history, or is replayed into a fresh schema, writes to nobody about
  what happened weeks ago — it only builds its read model from those facts;
* it speaks of a forum still ahead (invitation, confirmation, waitlist, promotion, a
  registrant's cancellation, a change, the reminder, the forum's cancellation) and the forum
  has started;
* it is an invitation and registration has closed;
* its forum was held or cancelled meanwhile: then only the last word is said (the thanks, the
  cancellations);
* it is a thank-you for a forum that ended longer ago than the maximum age (a forum reported
  held months after it took place, as the demo's forums of 2025 are).

What still goes out from such a history: what its recent facts (within the maximum age) say
about what is still ahead — invitations while registration is open, confirmations, waitlist
and promotion mails, changes and cancellations of forums yet to come, reminders due now —
and the welcomes, acknowledgements and thanks of the last days.
"""

from datetime import datetime, timedelta

from services.notification.domain.mails import ForumFacts, Kind

# Mails about something still ahead: pointless (or misleading) once the forum has started.
BEFORE_THE_FORUM = frozenset(
    {
        Kind.FORUM_INVITATION,
        Kind.REGISTRATION_CONFIRMED,
        Kind.REGISTRATION_WAITLISTED,
        Kind.REGISTRATION_PROMOTED,
        Kind.REGISTRATION_CANCELLED,
        Kind.FORUM_UPDATED,
        Kind.FORUM_REMINDER,
        Kind.FORUM_CANCELLED,
    }
)
UNSUBSCRIBED = "the recipient unsubscribed from invitations"
# What may still be said about a forum that has been cancelled.
ABOUT_A_CANCELLATION = frozenset({Kind.FORUM_CANCELLED, Kind.REGISTRATION_CANCELLED})


def why_not_send(
    kind: Kind,
    *,
    occurred_at: datetime,
    now: datetime,
    max_age: timedelta,
    forum: ForumFacts | None = None,
    forum_status: str | None = None,
) -> str | None:
    """The reason a mail must not go out now, or None when it may."""
    if now - occurred_at > max_age:
        return f"the event is older than {_duration(max_age)}"
    if forum is None:
        return None
    deadline = forum.registration_deadline
    if kind is Kind.FORUM_INVITATION and deadline is not None and now > deadline:
        return "registration for the forum has closed"
    if kind in BEFORE_THE_FORUM and now >= forum.starts_at:
        return "the forum has started"
    if kind is Kind.FORUM_THANKS and now - forum.ends_at > max_age:
        return f"the forum ended more than {_duration(max_age)} ago"
    if forum_status == "cancelled" and kind not in ABOUT_A_CANCELLATION:
        return "the forum is cancelled"
    if forum_status == "held" and kind is not Kind.FORUM_THANKS:
        return "the forum was held"
    return None


def _duration(span: timedelta) -> str:
    if span >= timedelta(days=1) and span % timedelta(days=1) == timedelta(0):
        return f"{span.days} days"
    return f"{int(span.total_seconds())} seconds"
