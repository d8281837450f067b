"""Example mails of every kind, with made-up facts: the preview shows them, the tests use them."""

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from services.notification.domain.mails import (
    Calendar,
    ForumFacts,
    Kind,
    Mail,
    Recipient,
    RegistrationFacts,
)

EXAMPLE_SENDER = "Dialognetzwerk <dialog@polizei.example>"
FORUM_ID = UUID("5b0e8f8a-2c1d-4f53-9a57-0d6f1c2b3a41")
REGISTRATION_ID = UUID("9c7d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f")
CANCEL_URL = "https://dialog.example/registrations/9c7d1e2f/cancel?token=Zm9v"
REGISTRATION_URL = "https://dialog.example/forums/5b0e8f8a"
UNSUBSCRIBE_URL = "https://notify.dialog.example/unsubscribe?token=YmFy"
# Thursday 27 March 2025 is still winter time in Berlin (UTC+1): 16:00 UTC is 17:00 there.
STARTS_AT = datetime(2025, 3, 27, 16, 0, tzinfo=UTC)
ENDS_AT = datetime(2025, 3, 27, 18, 30, tzinfo=UTC)

# The kinds that carry an .ics, and its method.
CALENDAR_METHODS: dict[Kind, Literal["REQUEST", "CANCEL"]] = {
    Kind.REGISTRATION_CONFIRMED: "REQUEST",
    Kind.REGISTRATION_PROMOTED: "REQUEST",
    Kind.REGISTRATION_CANCELLED: "CANCEL",
    Kind.FORUM_UPDATED: "REQUEST",
    Kind.FORUM_REMINDER: "REQUEST",
    Kind.FORUM_CANCELLED: "CANCEL",
}
FORUM_KINDS = frozenset(kind for kind in Kind if kind.value.startswith(("registration_", "forum_")))
_REGISTRATION_STATUS = {
    Kind.REGISTRATION_WAITLISTED: "waitlisted",
    Kind.REGISTRATION_CANCELLED: "cancelled",
}


def example_mail(kind: Kind, language: str = "de") -> Mail:
    """A mail of the kind with every fact the planner would give it, about an example forum."""
    method = CALENDAR_METHODS.get(kind)
    registered = kind in FORUM_KINDS and kind is not Kind.FORUM_INVITATION
    return Mail(
        kind=kind,
        recipient=Recipient(
            address="ayse.mueller@bruecke.example", name="Ayşe Müller", language=language
        ),
        forum=example_forum() if kind in FORUM_KINDS else None,
        registration=_example_registration(kind) if registered else None,
        calendar=None
        if method is None
        else Calendar(uid=f"{FORUM_ID}.{REGISTRATION_ID}@dialognet", sequence=0, method=method),
        organization_name="Brücke e.V.",
        outcomes="Drei Vorschläge für Beschwerdewege.\nEin Folgetreffen im Herbst.\n\nDanke!",
        note="Wir arbeiten mit Jugendlichen in Neukölln.",
        contact=Recipient(address="kontakt@bruecke.example", name="Ayşe Müller"),
        changed=["starts_at", "venue"] if kind is Kind.FORUM_UPDATED else [],
        reason="Der Saal steht nicht zur Verfügung." if kind is Kind.FORUM_CANCELLED else None,
        unsubscribe_url=UNSUBSCRIBE_URL if kind is Kind.FORUM_INVITATION else None,
    )


def example_forum() -> ForumFacts:
    return ForumFacts(
        id=FORUM_ID,
        title="Racial Profiling: Erfahrungen und Wege",
        format="forum",
        venue="Rathaus, Saal 2; Marktplatz 1",
        starts_at=STARTS_AT,
        ends_at=ENDS_AT,
        registration_deadline=datetime(2025, 3, 20, 22, 59, tzinfo=UTC),
        registration_url=REGISTRATION_URL,
    )


def _example_registration(kind: Kind) -> RegistrationFacts:
    status = _REGISTRATION_STATUS.get(kind, "confirmed")
    return RegistrationFacts(
        id=REGISTRATION_ID,
        attendees=2,
        status=status,
        waitlist_position=3 if status == "waitlisted" else None,
        organization_name="Brücke e.V.",
        cancel_url=CANCEL_URL,
    )
