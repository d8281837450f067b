"""Facts written by the test instead of the registration service: any time in the past, any
order across topics — for histories and races the registration service would only make by
chance. Each is a model of the contract (schemas/), published as the outbox relay does."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer

from schemas.catalog import TOPIC_OF_TYPE
from schemas.envelope import Envelope
from schemas.forums import (
    ForumCancelled,
    ForumCancelledData,
    ForumHeld,
    ForumHeldData,
    ForumScheduled,
    ForumSnapshot,
    ForumUpdated,
    ForumUpdatedData,
)
from schemas.organizations import PartnerJoined, PartnerJoinedData
from schemas.registrations import RegistrationMade, RegistrationMadeData
from schemas.topics import topic_name
from schemas.vocabulary import Contact, ForumSummary
from services.runtime.settings import Settings

PRODUCER = "registration"


def contact(address: str, language: str = "de") -> Contact:
    return Contact(name="Ana Beispiel", email=address, language=language)


def partner_joined(organization_id: UUID, address: str, at: datetime) -> PartnerJoined:
    return PartnerJoined(
        producer=PRODUCER,
        key=str(organization_id),
        occurred_at=at,
        data=PartnerJoinedData(
            organization_id=organization_id,
            name=f"Verein {str(organization_id)[:8]}",
            status="partner",
            agreement_signed_on=at.date(),
            joined_at=at,
            contact=contact(address),
        ),
    )


def forum_snapshot(
    forum_id: UUID, starts_at: datetime, *, title: str = "Forum", audience: str = "partners"
) -> ForumSnapshot:
    return ForumSnapshot(
        forum_id=forum_id,
        format="forum",
        title=title,
        venue="Rathaus, Saal 2",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        registration_deadline=starts_at - timedelta(days=3),
        capacity=50,
        audience=audience,
        status="scheduled",
    )


def forum_scheduled(forum: ForumSnapshot, at: datetime) -> ForumScheduled:
    return ForumScheduled(producer=PRODUCER, key=str(forum.forum_id), occurred_at=at, data=forum)


def forum_updated(forum: ForumSnapshot, at: datetime, **changes: object) -> ForumUpdated:
    data = ForumUpdatedData(**{**forum.model_dump(), **changes, "changed_fields": list(changes)})
    return ForumUpdated(producer=PRODUCER, key=str(forum.forum_id), occurred_at=at, data=data)


def registration_made(
    forum: ForumSnapshot, address: str, at: datetime, status: str = "confirmed"
) -> RegistrationMade:
    return RegistrationMade(
        producer=PRODUCER,
        key=str(forum.forum_id),
        occurred_at=at,
        data=RegistrationMadeData(
            registration_id=uuid4(),
            forum_id=forum.forum_id,
            organization_id=uuid4(),
            organization_name="Kulturverein Süd",
            status=status,
            waitlist_position=1 if status == "waitlisted" else None,
            attendees=1,
            contact=contact(address),
            forum=ForumSummary.of(forum),
            cancel_token=f"token-{uuid4().hex}",
            registered_at=at,
        ),
    )


def forum_held(forum: ForumSnapshot, at: datetime, attended: list[UUID] | None = None) -> ForumHeld:
    return ForumHeld(
        producer=PRODUCER,
        key=str(forum.forum_id),
        occurred_at=at,
        data=ForumHeldData(
            forum_id=forum.forum_id,
            title=forum.title,
            format=forum.format,
            status="held",
            attendance=10,
            attended_registration_ids=attended or [],
            outcomes="Eine Arbeitsgruppe wurde gegründet.",
            held_at=at,
        ),
    )


def forum_cancelled(forum: ForumSnapshot, at: datetime) -> ForumCancelled:
    return ForumCancelled(
        producer=PRODUCER,
        key=str(forum.forum_id),
        occurred_at=at,
        data=ForumCancelledData(
            forum_id=forum.forum_id,
            title=forum.title,
            format=forum.format,
            status="cancelled",
            starts_at=forum.starts_at,
            cancelled_at=at,
        ),
    )


async def publish(settings: Settings, *events: Envelope) -> None:
    """Each event to its fact topic, keyed and with its `type` header, in the order given."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap(), acks="all")
    await producer.start()
    try:
        for event in events:
            topic = topic_name(TOPIC_OF_TYPE[event.type], settings.topic_prefix)
            await producer.send_and_wait(
                topic,
                event.to_json(),
                key=event.kafka_key(),
                headers=[(name, value.encode()) for name, value in event.kafka_headers().items()],
            )
    finally:
        await producer.stop()
