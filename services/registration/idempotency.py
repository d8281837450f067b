"""Idempotency-Key replays of registrations: a repeated request gets the first one's answer."""

import hashlib
from dataclasses import dataclass, replace
from uuid import UUID

from schemas import commands
from schemas.vocabulary import RegistrationStatus
from services.registration.domain.errors import RuleViolation
from services.registration.domain.registrations import Registration
from services.registration.store import registrations as store
from services.runtime.db import Connection


@dataclass(frozen=True)
class IdempotencyKey:
    """The client's key and a hash of the request it came with (a reuse for another request is
    refused, not answered with someone else's registration)."""

    key: str
    request_hash: str

    @classmethod
    def of(cls, key: str, forum_id: UUID, request: commands.Register) -> "IdempotencyKey":
        digest = hashlib.sha256(f"{forum_id}:{request.model_dump_json()}".encode()).hexdigest()
        return cls(key, digest)


async def first_answer(conn: Connection, key: IdempotencyKey) -> Registration | None:
    """The registration as the first request with this key answered it (its status and waitlist
    position then), or None when the key is new."""
    earlier = await store.idempotent_result(conn, key.key)
    if earlier is None:
        return None
    stored_hash, registration_id, first_response = earlier
    if stored_hash != key.request_hash:
        raise RuleViolation(
            "this Idempotency-Key was used with a different request", field="Idempotency-Key"
        )
    registration = await store.get(conn, registration_id)
    if registration is None:
        return None
    position = first_response.get("waitlist_position")
    return replace(
        registration,
        status=RegistrationStatus(str(first_response["status"])),
        waitlist_position=int(str(position)) if position is not None else None,
    )
