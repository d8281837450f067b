"""Registration's facts go to its outbox, in the transaction of the change that caused them."""

from collections.abc import Sequence
from uuid import UUID

from schemas.envelope import Envelope
from schemas.topics import Topic
from services.registration.store import SCHEMA
from services.runtime import outbox
from services.runtime.db import Connection
from services.runtime.outbox import Outgoing


async def append(
    conn: Connection, topic: Topic, events: Sequence[Envelope], subject_id: UUID | None = None
) -> None:
    """`subject_id`: the organisation whose contacts' personal data the events hold (erasure)."""
    await outbox.append(conn, SCHEMA, [Outgoing(topic, event, subject_id) for event in events])
