"""Who gets into the staff console, over real HTTP: a staff sign-in opens a signed, HttpOnly,
SameSite=Strict session cookie for /staff; sign-out ends it; a forged, expired or revoked one
opens nothing, nor does an intake token; a form without its CSRF token changes nothing."""

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from services.registration.store import SCHEMA
from services.registration.web.staff.access import COOKIE_NAME, sessions
from services.runtime import signing_keys
from services.runtime.access.tokens import Role, create_token, revoke_tokens, token_hash
from services.runtime.csrf import COOKIE_NAME as CSRF_COOKIE
from services.runtime.embedded import free_port
from services.runtime.settings import Settings
from tests.conftest import TEST_ADMIN_TOKEN
from tests.html_page import body_text
from tests.integration.conftest import RunningService, running_registration
from tests.integration.registration import bodies
from tests.integration.registration.console import SIGN_IN, console_of
from tests.integration.registration.steps import new_forum
from tests.polling import until

# Every page behind the session, read and sent.
PAGES = ["/staff/", "/staff/forums/new", "/staff/organizations", "/staff/organizations/new",
         "/staff/tokens"]  # fmt: skip
TOKEN_CACHE_SECONDS = 0.5


@pytest.fixture(scope="module")
async def service(module_settings: Settings) -> AsyncIterator[RunningService]:
    """A short token cache, so a revoked token's session ends within the test."""
    settings = module_settings.model_copy(update={"token_cache_seconds": TOKEN_CACHE_SECONDS})
    async with running_registration(settings) as running:
        yield running


def session_cookie(response: httpx.Response) -> str:
    [cookie] = [value for value in response.headers.get_list("set-cookie") if COOKIE_NAME in value]
    return cookie


async def staff_token(service: RunningService, role: Role, name: str) -> str:
    conn = await service.database()
    try:
        return await create_token(conn, role=role, name=name)
    finally:
        await conn.close()


async def test_a_staff_token_signs_in_with_a_strict_cookie_and_signs_out(
    service: RunningService,
) -> None:
    async with console_of(service, signed_in=False) as console:
        before = await console.client.get("/staff/")
        signed_in = await console.sign_in()
        cookie = session_cookie(signed_in).lower()
        forums = await console.client.get("/staff/")
        signed_out = await console.send("/staff/", "/staff/sign-out")
        after = await console.client.get("/staff/")

    assert before.status_code == 303
    assert before.headers["location"] == SIGN_IN
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/staff/"
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/staff" in cookie
    assert f"max-age={8 * 3600}" in cookie
    assert "secure" not in cookie  # the service is on http here
    assert TEST_ADMIN_TOKEN not in cookie  # the cookie holds its hash, signed
    assert token_hash(TEST_ADMIN_TOKEN) in cookie
    assert forums.status_code == 200
    assert "Foren" in body_text(forums.text)
    assert signed_out.status_code == 303
    assert "max-age=0" in session_cookie(signed_out).lower()
    assert after.status_code == 303
    assert after.headers["location"] == SIGN_IN


async def test_an_https_base_url_makes_the_session_cookie_secure(module_settings: Settings) -> None:
    """Behind a TLS proxy: the service itself is reached over http here, so the browser's
    cookies are sent by hand (a client keeps Secure cookies for https)."""
    settings = module_settings.model_copy(
        update={"public_base_url": "https://dialog.example", "registration_port": free_port()}
    )
    async with (
        running_registration(settings) as running,
        console_of(running, signed_in=False) as console,
    ):
        form = await console.form(SIGN_IN, SIGN_IN)
        binding = console.client.cookies.jar
        [csrf_cookie] = [cookie.value for cookie in binding if cookie.name == CSRF_COOKIE]
        signed_in = await console.client.post(
            SIGN_IN,
            data={**form.fields, "token": TEST_ADMIN_TOKEN},
            headers={"Cookie": f"{CSRF_COOKIE}={csrf_cookie}"},
        )
    assert signed_in.status_code == 303, signed_in.text
    assert "; secure" in session_cookie(signed_in).lower()


async def test_without_a_valid_session_no_page_opens(service: RunningService) -> None:
    conn = await service.database()
    try:
        key = await signing_keys.signing_key(conn, SCHEMA, "staff_session")
    finally:
        await conn.close()
    digest = token_hash(TEST_ADMIN_TOKEN)
    expired = sessions(key, 8, secure_cookie=False).issue(digest, now=time.time() - 9 * 3600)
    forged = sessions(b"x" * 32, 8, secure_cookie=False).issue(digest)
    for cookie in (None, expired, forged, f"9999999999.{digest}.{'0' * 64}"):
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as browser:
            if cookie:
                browser.cookies.set(COOKIE_NAME, cookie, path="/staff")
            for path in PAGES:
                answer = await browser.get(path)
                assert answer.status_code == 303, (path, cookie)
                assert answer.headers["location"] == SIGN_IN
            if cookie:  # a cookie that opens nothing is dropped
                assert "max-age=0" in session_cookie(answer).lower()


async def test_a_form_without_a_session_changes_nothing(service: RunningService) -> None:
    async with console_of(service, signed_in=False) as console:
        form = await console.form(SIGN_IN, SIGN_IN)  # a valid CSRF token, but no session
        answer = await console.client.post(
            "/staff/organizations",
            data={"csrf_token": form.fields["csrf_token"], "name": "Ohne Sitzung e.V.",
                  "kind": "other", "contact.name": "A", "contact.email": "a@example.org"},
        )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == SIGN_IN
    listed = await service.staff.get("/v1/organizations?limit=1000")
    assert "Ohne Sitzung e.V." not in listed.text


async def test_unknown_and_intake_tokens_are_refused(service: RunningService) -> None:
    intake = await staff_token(service, Role.INTAKE, "partner-portal")
    async with console_of(service, signed_in=False) as console:
        unknown = await console.sign_in("not-a-token")
        blank = await console.sign_in("")
        refused = await console.sign_in(intake)
        after = await console.client.get("/staff/")

    assert unknown.status_code == 401
    assert "unbekannt" in body_text(unknown.text)
    assert blank.status_code == 401
    assert refused.status_code == 403
    assert "Token eines Zugangssystems" in body_text(refused.text)
    for answer in (unknown, blank, refused):
        assert COOKIE_NAME not in answer.headers.get("set-cookie", "")
        assert "<title>Fehler:" in answer.text
    assert after.status_code == 303


async def test_a_revoked_tokens_session_ends(service: RunningService) -> None:
    token = await staff_token(service, Role.STAFF, "Ana (leaves)")
    async with console_of(service, signed_in=False) as console:
        assert (await console.sign_in(token)).status_code == 303
        assert (await console.client.get("/staff/")).status_code == 200
        conn = await service.database()
        try:
            await revoke_tokens(conn, name="Ana (leaves)")
        finally:
            await conn.close()

        async def signed_out() -> bool:
            return (await console.client.get("/staff/")).status_code == 303

        await until(signed_out, 10 * TOKEN_CACHE_SECONDS + 5, "the revoked token's session ends")


async def test_a_form_without_its_csrf_token_is_refused(service: RunningService) -> None:
    forum = await new_forum(service, bodies.forum(title="Forum ohne CSRF"))
    async with console_of(service) as console:
        form = await console.form(f"/staff/forums/{forum['id']}/cancel",
                                  f"/staff/forums/{forum['id']}/cancel")  # fmt: skip
        without = {name: value for name, value in form.fields.items() if name != "csrf_token"}
        missing = await console.client.post(form.action, data=without)
        wrong = await console.client.post(form.action, data={**without, "csrf_token": "0" * 64})

    for answer in (missing, wrong):
        assert answer.status_code == 403
        assert "Es wurde nichts geändert" in body_text(answer.text)
    state = await service.staff.get(f"/v1/forums/{forum['id']}")
    assert state.json()["status"] == "scheduled"
