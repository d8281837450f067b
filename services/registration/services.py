"""The registration service's command services, one per aggregate, built once by app.py."""

from dataclasses import dataclass

import asyncpg

from services.registration.forums import ForumService
from services.registration.organizations import OrganizationService
from services.registration.registrations import RegistrationService


@dataclass(frozen=True)
class Services:
    """What HTTP routes and the intake consumer call; `pool` serves the read-only queries."""

    pool: asyncpg.Pool
    organizations: OrganizationService
    forums: ForumService
    registrations: RegistrationService

    @classmethod
    def on(cls, pool: asyncpg.Pool, cancel_secret: bytes) -> "Services":
        return cls(
            pool=pool,
            organizations=OrganizationService(pool),
            forums=ForumService(pool),
            registrations=RegistrationService(pool, cancel_secret),
        )
