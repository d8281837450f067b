"""One token for every service: made by the CLI in the shared access store, revoked for all.

Two registration services stand for two services of the runtime: each on its own database
(DIALOGNET_REGISTRATION_DATABASE_URL), both on one access store (DIALOGNET_DATABASE_URL)."""

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
from pydantic import SecretStr

from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.cli import run_dialognet
from tests.conftest import Infra, fresh_database
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration.steps import ok, problem
from tests.polling import until

REVOCATION_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def service_on_own_database(infra: Infra, shared: Settings) -> AsyncIterator[RunningService]:
    """A registration service with its own database, port and topics; access store shared."""
    async with fresh_database(infra) as own_database:
        port = free_port()
        prefix = f"t{secrets.token_hex(4)}."
        settings = shared.model_copy(
            update={
                "registration_database_url": SecretStr(own_database),
                "registration_port": port,
                "public_base_url": f"http://127.0.0.1:{port}",
                "topic_prefix": prefix,
                "kafka_consumer_group_prefix": f"{prefix}dialognet-",
            }
        )
        async with running_registration(settings) as service:
            yield service


async def _has_schema(database_url: str, schema: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        return bool(await conn.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema))
    finally:
        await conn.close()


async def _staff_read(service: RunningService, token: str) -> httpx.Response:
    return await service.public.get(
        "/v1/organizations", headers={"Authorization": f"Bearer {token}"}
    )


async def test_a_cli_token_works_on_every_service_until_revoked(
    infra: Infra, settings: Settings, tmp_path: Path
) -> None:
    shared = settings.model_copy(update={"token_cache_seconds": 0.2})
    async with AsyncExitStack() as stack:
        services = [
            await stack.enter_async_context(service_on_own_database(infra, shared))
            for _ in range(2)
        ]
        created = await run_dialognet(
            shared, tmp_path, "token", "create", "--role", "staff", "--name", "Ana"
        )
        token = created.stdout.strip().splitlines()[-1]
        accepted = [await _staff_read(service, token) for service in services]

        revoked = await run_dialognet(shared, tmp_path, "token", "revoke", "--name", "Ana")
        for service in services:
            await until(
                lambda service=service: _refused(service, token),
                REVOCATION_TIMEOUT_SECONDS,
                f"the revoked token refused on {service.base_url}",
            )
        refused = [await _staff_read(service, token) for service in services]
        shared_database = shared.service_database_url("access")
        schemas = {
            url: {name for name in ("access", "registration") if await _has_schema(url, name)}
            for url in [
                shared_database,
                *(service.settings.service_database_url("registration") for service in services),
            ]
        }

    assert created.returncode == 0, created.stderr
    assert [ok(response)["items"] is not None for response in accepted] == [True, True]
    assert revoked.returncode == 0, revoked.stderr
    for response in refused:
        problem(response, 401)
    # No service reads another's schema: the access store is in the shared database only.
    assert schemas.pop(shared_database) == {"access"}
    assert list(schemas.values()) == [{"registration"}, {"registration"}]


async def _refused(service: RunningService, token: str) -> bool:
    response = await _staff_read(service, token)
    return response.status_code != httpx.codes.OK
