"""Who a mail goes to, as the rest of the system may know it: a hash of the address, never the
address; and the Message-ID that makes a resend recognisable."""

import hashlib
from uuid import UUID


def recipient_hash(address: str) -> str:
    """SHA-256 of the lower-cased address, hex: the key of `notification.*` facts."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def message_id(source_event_id: UUID, recipient: str, kind: str, domain: str) -> str:
    """The same for the same (event, recipient, kind): a mail sent again after a crash carries
    the Message-ID of the first, so a mail system (and a person) can tell it is one mail."""
    digest = hashlib.sha256(f"{source_event_id}:{recipient}:{kind}".encode()).hexdigest()
    return f"<{digest[:40]}@{domain}>"


def calendar_uid(forum_id: UUID, registration_id: UUID, domain: str) -> str:
    """Stable per forum and registration: every .ics about this seat updates one entry."""
    return f"{forum_id}-{registration_id}@{domain}"
