"""Bearer tokens and roles, hashed storage and the token CLI."""

import asyncio
import os
import shutil
import sys
from pathlib import Path
from uuid import uuid4

import httpx

from services.runtime.access.tokens import Role, create_token, token_hash
from services.runtime.settings import Settings
from tests.cli import run_dialognet
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration import bodies
from tests.integration.registration.steps import (
    new_forum,
    new_organization,
    new_partner,
    ok,
    problem,
    register,
)
from tests.polling import until

CLI_TIMEOUT_SECONDS = 60.0


def staff_requests(organization_id: str, forum_id: str) -> list[tuple[str, str]]:
    """(method, path) of every staff-only endpoint."""
    organization = f"/v1/organizations/{organization_id}"
    forum = f"/v1/forums/{forum_id}"
    return [
        ("POST", "/v1/organizations"),
        ("GET", "/v1/organizations"),
        ("GET", organization),
        ("POST", f"{organization}/interest"),
        ("POST", f"{organization}/join"),
        ("POST", f"{organization}/leave"),
        ("DELETE", organization),
        ("POST", "/v1/forums"),
        ("PATCH", forum),
        ("POST", f"{forum}/cancel"),
        ("POST", f"{forum}/held"),
        ("GET", f"{forum}/registrations"),
    ]


async def intake_token(service: RunningService) -> str:
    conn = await service.database()
    try:
        return await create_token(conn, role=Role.INTAKE, name="partner CRM")
    finally:
        await conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_staff_endpoints_need_a_known_staff_token(service: RunningService) -> None:
    organization = await new_organization(service)
    forum = await new_forum(service)
    token = await intake_token(service)

    for method, path in staff_requests(organization["id"], forum["id"]):
        anonymous = await service.public.request(method, path, json={})
        unknown = await service.public.request(
            method, path, json={}, headers=bearer(f"unknown-{uuid4()}")
        )
        intake = await service.public.request(method, path, json={}, headers=bearer(token))

        problem(anonymous, 401)
        assert anonymous.headers["www-authenticate"].startswith("Bearer"), (method, path)
        problem(unknown, 401)
        problem(intake, 403)

    state = ok(await service.staff.get(f"/v1/organizations/{organization['id']}"))
    assert state["status"] == "prospect"
    assert state["erased"] is False


async def test_intake_token_registers_for_partners_only_forum(
    service: RunningService,
) -> None:
    forum = await new_forum(service, bodies.forum(audience="partners"))
    partner = await new_partner(service)
    prospect = await new_organization(service)
    headers = bearer(await intake_token(service))

    accepted = await register(
        service,
        forum["id"],
        bodies.registration(organization_id=partner["id"]),
        client=service.public,
        headers=headers,
    )
    refused = await register(
        service,
        forum["id"],
        bodies.registration(organization_id=prospect["id"]),
        client=service.public,
        headers=headers,
    )

    assert ok(accepted, 201)["status"] == "confirmed"
    problem(refused, 403)
    read = await service.public.get(f"/v1/forums/{forum['id']}", headers=headers)
    assert ok(read)["seats_taken"] == 1


async def test_tokens_are_stored_hashed(service: RunningService) -> None:
    token = await intake_token(service)

    conn = await service.database()
    try:
        rows = await conn.fetch("SELECT t::text AS row FROM access.tokens t")
    finally:
        await conn.close()

    assert rows
    assert not [row["row"] for row in rows if token in row["row"]]
    problem(await service.public.get("/v1/organizations", headers=bearer(token)), 403)


async def test_token_cli_prints_a_working_token(service: RunningService, tmp_path: Path) -> None:
    # The script pip installed beside this interpreter (pytest run from a venv not activated
    # finds no `dialognet` on PATH), else the one on PATH.
    beside = Path(sys.executable).with_name("dialognet")
    executable = str(beside) if beside.exists() else shutil.which("dialognet")
    assert executable is not None, "the dialognet console script is not installed"
    database_url = service.settings.database_url
    assert database_url is not None
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("DIALOGNET_")
    }
    environment["DIALOGNET_DATABASE_URL"] = database_url.get_secret_value()
    command = await asyncio.create_subprocess_exec(
        executable,
        "token",
        "create",
        "--role",
        "intake",
        "--name",
        "x",
        "--data-dir",
        str(tmp_path / "no-platform"),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(command.communicate(), CLI_TIMEOUT_SECONDS)
    assert command.returncode == 0, err.decode()
    token = out.decode().strip().splitlines()[-1]

    forum = await new_forum(service, bodies.forum(audience="partners"))
    read = await service.public.get(f"/v1/forums/{forum['id']}", headers=bearer(token))
    staff_only = await service.public.get("/v1/organizations", headers=bearer(token))

    assert ok(read)["id"] == forum["id"]
    problem(staff_only, 403)


async def test_a_token_works_as_soon_as_it_exists(service: RunningService) -> None:
    """Unknown tokens are not remembered: a refusal does not outlive the token's creation."""
    token = f"made-up-{uuid4().hex}"
    before = await service.public.get("/v1/organizations", headers=bearer(token))
    conn = await service.database()
    try:
        await conn.execute(
            "INSERT INTO access.tokens (token_hash, name, role) VALUES ($1, 'late', 'staff')",
            token_hash(token),
        )
    finally:
        await conn.close()
    after = await service.public.get("/v1/organizations", headers=bearer(token))

    problem(before, 401)
    assert ok(after)["items"] is not None


async def test_a_revoked_token_is_refused(settings: Settings, tmp_path: Path) -> None:
    """`dialognet token revoke` ends a token's access once the service's role cache expires."""
    quick = settings.model_copy(update={"token_cache_seconds": 0.2})
    async with running_registration(quick) as service:
        conn = await service.database()
        try:
            token = await create_token(conn, role=Role.STAFF, name="leaving-colleague")
        finally:
            await conn.close()
        first = await service.public.get("/v1/organizations", headers=bearer(token))

        revoked = await run_dialognet(
            quick, tmp_path, "token", "revoke", "--name", "leaving-colleague"
        )
        again = await run_dialognet(
            quick, tmp_path, "token", "revoke", "--name", "leaving-colleague"
        )
        await until(lambda: _refused(service, token), 10.0, "the revoked token refused")
        refused = await service.public.get("/v1/organizations", headers=bearer(token))

    assert ok(first)["items"] is not None
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked 1 token" in revoked.stdout
    assert again.returncode == 1
    assert "no active token named 'leaving-colleague'" in again.stderr
    problem(refused, 401)


async def _refused(service: RunningService, token: str) -> bool:
    response = await service.public.get("/v1/organizations", headers=bearer(token))
    return response.status_code != httpx.codes.OK


async def test_a_non_ascii_token_is_refused_not_an_error(service: RunningService) -> None:
    """Header values arrive latin-1-decoded; a token with non-ASCII characters is unknown, on
    the FastAPI routes and on the registration fast path alike."""
    forum = await new_forum(service)
    responses = []
    for header in ("Bearer tökén".encode("latin-1"), "Bearer schlüssel".encode()):
        authorization = {"Authorization": header}
        responses.append(await service.public.get("/v1/organizations", headers=authorization))
        responses.append(
            await service.public.post(
                f"/v1/forums/{forum['id']}/registrations",
                json=bodies.registration(),
                headers=authorization,
            )
        )

    for response in responses:
        problem(response, 401)
        assert response.headers["www-authenticate"] == 'Bearer realm="dialognet"'


async def test_token_list_shows_name_role_created_revoked_never_the_token(
    settings: Settings, tmp_path: Path
) -> None:
    """On a fresh database: the CLI migrates the access store itself, before any service ran."""
    empty = await run_dialognet(settings, tmp_path, "token", "list")
    created = [
        await run_dialognet(settings, tmp_path, "token", "create", "--role", role, "--name", name)
        for role, name in (("intake", "partner CRM"), ("staff", "Ana Beispiel"))
    ]
    await run_dialognet(settings, tmp_path, "token", "revoke", "--name", "partner CRM")
    listed = await run_dialognet(settings, tmp_path, "token", "list")

    assert empty.returncode == 0, empty.stderr
    assert "no tokens yet" in empty.stdout
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.splitlines()
    assert header.split() == ["NAME", "ROLE", "CREATED", "REVOKED"]
    assert [line.split("  ")[0] for line in lines] == ["Ana Beispiel", "partner CRM"]
    ana, crm = (line.split() for line in lines)
    assert ana[2] == "staff"
    assert ana[-1] == "-"
    assert crm[2] == "intake"
    assert crm[-1] != "-"  # revoked: when, like created, in Europe/Berlin with its offset
    assert crm[-1].endswith(("+01:00", "+02:00"))
    for command in created:
        token = command.stdout.strip().splitlines()[-1]
        assert token not in listed.stdout
        assert token_hash(token) not in listed.stdout
